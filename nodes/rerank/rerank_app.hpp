#pragma once

#include <memory>

#include "actors/rerank/reranker.hpp"
#include "nodes/application.hpp"
#include "nodes/gateway/gateway.hpp"

namespace opea::nodes {

/// Serves `POST /rerank` in the shape of TEI (Hugging Face's Text Embeddings
/// Inference, OPEA's reranking server) with `rr`, so another node's rerank
/// service (backend "tei") or any TEI client can use this node's reranker.
/// Bad requests get 400 naming the field (actors/rerank/tei_rerank_api.hpp).
/// The reranker completes on its own thread; nothing blocks an I/O thread
/// beyond the built-in reranker's scoring of one request.
void mount_rerank_route(gateway& gw, actors::reranker_ptr rr);

/// The application that serves TEI's `POST /rerank` with the first built-in
/// rerank service that runs on this node, through its supervised actor
/// (`actors::service_reranker` over `node_services::caller_of`). Nothing
/// when the node has none.
std::unique_ptr<application> make_rerank_app();

}  // namespace opea::nodes
