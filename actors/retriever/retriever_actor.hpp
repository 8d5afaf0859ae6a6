#pragma once

#include <string>

#include <prometheus/histogram.h>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "actors/docs/opea_docs.hpp"
#include "actors/retriever/vector_store.hpp"
#include "runtime/service/micro_service.hpp"

namespace opea::actors {

/// How a retriever searches.
struct retriever_options {
  /// Fuse "similarity" searches with the store's lexical index
  /// (`vector_store::hybrid_search`, params `fusion: rrf`); false (`fusion:
  /// none`) searches by vectors only. Default: true.
  bool hybrid = true;
  /// The fusion's constants (params `rrf_k`, `fusion_depth`).
  hybrid_params fusion;
  /// Observes each search's time, in seconds (opea_index_search_duration_seconds
  /// of the index). Default: null (not measured).
  prometheus::Histogram* search_seconds = nullptr;
};

/// The retriever's work on one request: OPEA EmbedDoc in, SearchedDoc out.
///
/// Input: {"text": query, "embedding": [floats], "search_type", "k",
/// "distance_threshold", "fetch_k", "lambda_mult", "score_threshold", ...}.
/// `embedding` is a non-empty numeric array of the store's dimension (a
/// single vector wrapped in an array, as TEI's /embed answers, is accepted).
/// Output: {"initial_query": text, "retrieved_docs": [{"id", "text",
/// "metadata", "score"}...]} plus every other input field unchanged (the
/// rerank and LLM parameters: top_n, max_tokens, temperature, stream, ...);
/// the EmbedDoc search fields and `constraints`/`index_name` are not copied.
/// "similarity" searches are hybrid (vector and lexical rankings fused) unless
/// `options.hybrid` is false; the order is then the fused one. Scores are
/// cosine similarities in [-1, 1] either way. An empty store answers no docs.
/// Errors: errc::bad_request naming the field.
[[nodiscard]] caf::expected<nlohmann::json> retrieve(const vector_store& store,
                                                     const nlohmann::json& input,
                                                     const retriever_options& options = {});

/// The retriever microservice as an actor: answers (invoke_atom, json_ptr,
/// request_context_ptr) with `retrieve`'s output. The search runs on the
/// actor's thread: an HNSW query over the in-memory index takes well under a
/// millisecond and never touches the disk; it can wait briefly while a
/// concurrent ingest applies one batch in memory (the store's exclusive lock),
/// never for the log's fsync or a snapshot.
caf::behavior retriever_actor(caf::event_based_actor* self, vector_store_ptr store,
                              retriever_options options = {});

/// An in-process retriever service (type retriever) around `retriever_actor`.
runtime::micro_service make_retriever_service(std::string name, vector_store_ptr store,
                                              retriever_options options = {});

}  // namespace opea::actors
