#pragma once

#include "actors/rerank/reranker.hpp"
#include "nodes/gateway/gateway.hpp"

namespace opea::nodes {

/// Serves `POST /rerank` in the shape of TEI (Hugging Face's Text Embeddings
/// Inference, OPEA's reranking server) with `rr`, so another node's rerank
/// service (backend "tei") or any TEI client can use this node's reranker.
/// Bad requests get 400 naming the field (actors/rerank/tei_rerank_api.hpp).
/// The reranker completes on its own thread; nothing blocks an I/O thread
/// beyond the built-in reranker's scoring of one request.
void mount_rerank_route(gateway& gw, actors::reranker_ptr rr);

}  // namespace opea::nodes
