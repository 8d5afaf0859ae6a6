#pragma once

#include <memory>
#include <string>

#include "actors/embedding/embedder.hpp"
#include "actors/retriever/store_registry.hpp"
#include "nodes/config/node_config.hpp"

namespace opea::runtime::http {
class client;
}

namespace opea::nodes {

/// What the `dataprep` section of a config resolves to.
struct dataprep_parts {
  actors::embedder_ptr embedder;
  actors::vector_store_ptr store;
  std::string index;
};

/// Makes the embedder of the `dataprep.embedding` service (same params, so
/// documents and queries share vectors) and opens the index of the
/// `dataprep.retriever` service in `stores`. Throws config_error naming the
/// file and key.
dataprep_parts resolve_dataprep(const node_config& cfg,
                                std::shared_ptr<runtime::http::client> client,
                                actors::store_registry& stores);

}  // namespace opea::nodes
