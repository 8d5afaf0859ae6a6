#pragma once

#include <string>
#include <vector>

#include "nodes/config/node_config.hpp"

namespace opea::nodes {

/// `opea-node ingest --config FILE PATH...`: ingests files (or every file of
/// the directories given, recursively, in name order) into the store of the
/// config's `dataprep` section, with the same parsing, chunking and embedding
/// as POST /v1/dataprep/ingest, then exits. Shows a progress bar on a
/// terminal, one line per document otherwise. Run it while no node serves the
/// same data directory (the store has one writer). Returns the exit code: 0,
/// 1 when ingestion failed (the error names the document; documents before
/// it stay ingested). Throws config_error for configuration problems.
int run_ingest(const node_config& cfg, const std::vector<std::string>& paths);

}  // namespace opea::nodes
