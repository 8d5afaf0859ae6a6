#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "actors/embedding/embedder.hpp"
#include "runtime/service/messages.hpp"

namespace opea::actors {

/// An embedder that calls an embedding microservice instead of a backend of
/// its own: what dataprep and `POST /v1/embeddings` use, so they reach the
/// one supervised embedding actor of the service through its proxy (its
/// breaker, bulkhead, retries, restarts and metrics), not a second copy.
///
/// Sends `{"input": [texts...]}` (the built-in embedding service's and
/// OPEA's EmbeddingRequest shape) and reads `embedding` from the answer: a
/// list of vectors, one per text, or a single vector for a single text. A
/// malformed answer is errc::bad_response naming the service and the field.
///
/// Thread-safe; `done` runs where the call completes (a CAF thread).
class service_embedder : public embedder {
 public:
  /// `service` names the service in errors; `model` is what `model()`
  /// reports (the service's backend model, e.g. "opea-hashed-ngram-384").
  service_embedder(runtime::service_call call, std::string service, std::string model);

  /// 0 until the first answer, then the length of its vectors.
  size_t dimension() const override { return dimension_->load(std::memory_order_relaxed); }
  std::string model() const override { return model_; }

  void embed(std::vector<std::string> texts,
             std::function<void(caf::expected<std::vector<vector>>)> done) override;

 private:
  runtime::service_call call_;
  std::string service_;
  std::string model_;
  /// Shared with calls in flight, which may outlive this object.
  std::shared_ptr<std::atomic<size_t>> dimension_ = std::make_shared<std::atomic<size_t>>(0);
};

/// Reads the vectors of an embedding service's answer for `count` texts
/// (see service_embedder). Errors: errc::bad_response naming `service` and
/// the field.
[[nodiscard]] caf::expected<std::vector<vector>> read_embed_doc(const nlohmann::json& doc,
                                                                size_t count,
                                                                const std::string& service);

}  // namespace opea::actors
