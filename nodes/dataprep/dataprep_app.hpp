#pragma once

#include <memory>

#include "nodes/application.hpp"

namespace opea::nodes {

/// The dataprep application, with a `dataprep` section on the member that
/// holds the retriever's store: OPEA's `/v1/dataprep/{ingest,get,delete}`
/// and OpenAI's `/v1/embeddings` (`dataprep_routes`), embedding through the
/// `dataprep.embedding` service's supervised actor; the bundled corpus is
/// ingested once, before the node serves, when the store is empty.
std::unique_ptr<application> make_dataprep_app();

}  // namespace opea::nodes
