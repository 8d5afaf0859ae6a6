#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace opea::actors {

/// One embedding vector.
using vector = std::vector<float>;

/// Turns texts into vectors. Implementations: the built-in hashed n-gram
/// vectorizer (synchronous, no model download) and HTTP backends (TEI's
/// `POST /embed`, OpenAI-compatible `POST /v1/embeddings`).
///
/// Thread-safe: `embed` may be called from any thread; `done` is called
/// exactly once, on the caller's thread (built-in) or on an HTTP client I/O
/// thread (remote), and must not block.
class embedder {
 public:
  virtual ~embedder() = default;

  /// Vector dimension; 0 while unknown (a remote backend before its first answer).
  virtual size_t dimension() const = 0;

  /// The model name reported in API responses (e.g. "opea-hashed-ngram-384").
  virtual std::string model() const = 0;

  /// Embeds `texts` (one vector per text, same order). Errors are
  /// runtime::errc values naming the backend and the cause.
  virtual void embed(std::vector<std::string> texts,
                     std::function<void(caf::expected<std::vector<vector>>)> done) = 0;
};

using embedder_ptr = std::shared_ptr<embedder>;

}  // namespace opea::actors
