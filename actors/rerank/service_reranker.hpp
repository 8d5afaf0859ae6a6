#pragma once

#include <string>
#include <vector>

#include "actors/rerank/reranker.hpp"
#include "runtime/service/messages.hpp"

namespace opea::actors {

/// A reranker that calls a rerank microservice instead of a backend of its
/// own: what `POST /rerank` uses, so TEI clients reach the one supervised
/// rerank actor of the service through its proxy (its breaker, bulkhead,
/// retries, restarts and metrics), not a second copy.
///
/// Sends OPEA's SearchedDoc `{"initial_query": q, "retrieved_docs": [{"text":
/// t, "index": i}, ...], "top_n": count}` and reads `reranked_docs[*].index`
/// and `.score` from the answer (the rerank service keeps each document's
/// fields and adds its score). Every text comes back scored, sorted by score
/// descending, ties by index. A malformed answer is errc::bad_response naming
/// the service and the field.
///
/// Thread-safe; `done` runs where the call completes (a CAF thread).
class service_reranker : public reranker {
 public:
  /// `service` names the service in errors and in `name()`.
  service_reranker(runtime::service_call call, std::string service);

  /// "service:<name>".
  std::string name() const override;

  void rerank(std::string query, std::vector<std::string> texts,
              std::function<void(caf::expected<std::vector<scored_text>>)> done) override;

 private:
  runtime::service_call call_;
  std::string service_;
};

/// Reads the scores of a rerank service's answer for `count` candidates (see
/// service_reranker): one per candidate, sorted. Errors: errc::bad_response
/// naming `service` and the field.
[[nodiscard]] caf::expected<std::vector<scored_text>> read_reranked_docs(
    const nlohmann::json& doc, size_t count, const std::string& service);

}  // namespace opea::actors
