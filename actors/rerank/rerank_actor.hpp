#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "actors/docs/opea_docs.hpp"
#include "actors/rerank/reranker.hpp"
#include "runtime/http/fwd.hpp"
#include "runtime/service/micro_service.hpp"
#include "runtime/service/service_catalog.hpp"

namespace opea::actors {

using json = nlohmann::json;

/// Default number of documents the rerank service keeps. OPEA's SearchedDoc
/// defaults top_n to 1; ChatQnA wants several documents in its prompt, so
/// the service's own default (param `top_n`) applies when the input has none.
constexpr size_t default_rerank_top_n = 4;

/// The rerank microservice as a whole actor: answers (invoke_atom, json_ptr,
/// request_context_ptr) with `write_llm_params_doc`, errc::bad_request naming
/// the bad field, or the reranker's error. No retrieved documents: answers
/// right away with empty `documents` and `reranked_docs` (no backend call).
/// The answer is sent from wherever the reranker completes straight to the
/// requester (see embedding_actor).
caf::behavior rerank_actor(caf::event_based_actor* self, reranker_ptr rr, size_t default_top_n);

/// A micro_service (type rerank, empty name) running `rerank_actor`.
runtime::micro_service make_rerank_service(reranker_ptr rr,
                                           size_t default_top_n = default_rerank_top_n);

/// A reranker and the service's default `top_n`, made from a rerank
/// service's parameters (see `register_rerank_builtins`).
struct configured_reranker {
  reranker_ptr reranker;
  size_t top_n = default_rerank_top_n;
};

/// Makes the reranker described by a "rerank" built-in's parameters (the
/// ones `register_rerank_builtins` documents). Errors are errc::bad_request
/// naming "params.<name>".
[[nodiscard]] caf::expected<configured_reranker> make_reranker_from_params(
    const json& params, std::shared_ptr<runtime::http::client> client);

/// Registers the built-in "rerank" (type rerank) with parameters:
/// `backend` "builtin" (default, `hybrid_reranker` on a hashed embedder) |
/// "tei"; `top_n` (positive integer, default 4: used when the input has no
/// top_n); `alpha` (builtin; number in [0, 1], default 0.5); `dimension`
/// (builtin; the hashed embedder's, default 384); `url` (tei, required);
/// `timeout_ms` (tei; default 30000). Errors name "params.<name>". TEI
/// rerankers share `client` (null: one is created per service).
void register_rerank_builtins(runtime::service_catalog& catalog,
                              std::shared_ptr<runtime::http::client> client);

}  // namespace opea::actors
