#pragma once

#include <memory>

#include <prometheus/counter.h>
#include <boost/asio/thread_pool.hpp>

#include "actors/dataprep/dataprep_service.hpp"
#include "actors/embedding/embedder.hpp"
#include "nodes/gateway/gateway.hpp"
#include "runtime/http/server.hpp"

namespace opea::nodes {

/// OPEA's dataprep API and OpenAI's embeddings API on a node:
/// - `POST /v1/dataprep/ingest`: multipart/form-data (`files`, `link_list`,
///   `chunk_size`, `chunk_overlap`, ...) or JSON ({"text"} / {"link_list"});
/// - `POST|GET /v1/dataprep/get`: the ingested files;
/// - `POST /v1/dataprep/delete`: {"file_path": name | "all"};
/// - `POST /v1/embeddings`: OpenAI's request and response shapes.
/// Ingestion blocks (file reads, fsync), so it runs on a one-thread worker
/// pool, never on an I/O or actor thread; requests are queued in order.
///
/// Thread-safety: mount before the server starts; handlers are thread-safe.

/// Adds an ingest result's "documents" and "chunks" to the counters (null:
/// skipped).
void count_ingest(const runtime::json& result, prometheus::Counter* documents,
                  prometheus::Counter* chunks);

class dataprep_routes {
 public:
  dataprep_routes(std::shared_ptr<actors::dataprep_service> service, actors::embedder_ptr embedder);
  ~dataprep_routes();

  /// Counts what each successful ingest stored in `documents` and `chunks`
  /// (before mount; null: not counted).
  void count_into(prometheus::Counter* documents, prometheus::Counter* chunks) {
    documents_ = documents;
    chunks_ = chunks;
  }

  /// Adds the routes to `gw` (before it starts).
  void mount(gateway& gw);

 private:
  std::shared_ptr<actors::dataprep_service> service_;
  actors::embedder_ptr embedder_;
  std::shared_ptr<boost::asio::thread_pool> workers_;
  prometheus::Counter* documents_ = nullptr;
  prometheus::Counter* chunks_ = nullptr;
};

}  // namespace opea::nodes
