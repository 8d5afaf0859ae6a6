#pragma once

#include <memory>
#include <string>

#include "actors/embedding/embedder.hpp"
#include "actors/retriever/store_registry.hpp"
#include "nodes/config/node_config.hpp"
#include "runtime/http/fwd.hpp"

namespace opea::nodes {

/// What the `dataprep` section of a config resolves to.
struct dataprep_parts {
  actors::embedder_ptr embedder;
  actors::vector_store_ptr store;
  std::string index;
};

/// Opens the index of the `dataprep.retriever` service in `stores` (no
/// embedder: a node calls its embedding service, see node.cpp). Throws
/// config_error naming the file and key.
dataprep_parts open_dataprep_store(const node_config& cfg, actors::store_registry& stores);

/// `open_dataprep_store` plus an embedder of its own made from the
/// `dataprep.embedding` service's params (same params, so documents and
/// queries share vectors): for `opea-node ingest`, which runs no actor
/// system. Throws config_error naming the file and key.
dataprep_parts resolve_dataprep(const node_config& cfg,
                                std::shared_ptr<runtime::http::client> client,
                                actors::store_registry& stores);

}  // namespace opea::nodes
