#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "actors/rerank/reranker.hpp"
#include "runtime/http/fwd.hpp"

namespace opea::actors {

/// Hugging Face Text Embeddings Inference's reranker: `POST {url}/rerank`
/// with `{"query": q, "texts": [...], "raw_scores": false}`, answered by
/// `[{"index": i, "score": s}, ...]` (one entry per text, any order; extra
/// fields such as "text" are ignored). The result is re-sorted by score
/// descending, ties by index.
///
/// Thread-safe: `rerank` may be called from any thread; `done` runs on an I/O
/// thread of the shared client (on the caller's thread for an empty list,
/// which makes no request). Errors (subject = the URL posted to): the
/// client's http_connect / http_timeout / bad_response, `http_status` for a
/// non-2xx answer with a body excerpt, `bad_response` for a body that is not
/// JSON, not a list of {index, score} objects, with an index out of range or
/// repeated, or not one entry per text.
class tei_reranker : public reranker {
 public:
  /// `url` is the base URL, e.g. "http://tei-rerank:8808" (trailing '/'
  /// ignored). Validates it (errc::bad_request naming "url"). A null `client`
  /// is replaced by a new one owned by this reranker. Default timeout: 30 s.
  [[nodiscard]] static caf::expected<reranker_ptr> make(
      std::shared_ptr<runtime::http::client> client, std::string url,
      std::chrono::milliseconds timeout = std::chrono::milliseconds{30000});

  tei_reranker(std::shared_ptr<runtime::http::client> client, std::string endpoint,
               std::chrono::milliseconds timeout);

  /// "tei-rerank <endpoint>".
  std::string name() const override;

  void rerank(std::string query, std::vector<std::string> texts,
              std::function<void(caf::expected<std::vector<scored_text>>)> done) override;

  /// The URL posted to, "{url}/rerank".
  const std::string& endpoint() const { return endpoint_; }

 private:
  std::shared_ptr<runtime::http::client> client_;
  std::string endpoint_;
  std::chrono::milliseconds timeout_;
};

}  // namespace opea::actors
