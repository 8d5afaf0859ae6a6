#include "nodes/ingest_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <future>

#include "actors/dataprep/dataprep_service.hpp"
#include "actors/embedding/embedding_actor.hpp"
#include "actors/retriever/store_registry.hpp"
#include "nodes/dataprep/dataprep_setup.hpp"
#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"

namespace opea::nodes {

namespace rt = runtime;

int run_ingest(const node_config& cfg, const std::vector<std::string>& paths) {
  std::shared_ptr<rt::http::client> client;
  const auto* emb_cfg = cfg.find_service(cfg.dataprep.embedding);
  if (emb_cfg != nullptr && emb_cfg->params.is_object() && emb_cfg->params.contains("url"))
    client = std::make_shared<rt::http::client>();
  actors::store_registry stores{cfg.node.data_dir};
  auto parts = resolve_dataprep(cfg, client, stores);
  const auto& index = parts.index;
  actors::dataprep_service dataprep{parts.store, parts.embedder};
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p, ec))
        if (e.is_regular_file()) files.push_back(e.path().string());
    } else {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<actors::source_document> docs;
  for (const auto& f : files) {
    auto doc = dataprep.from_link(f);
    if (!doc) {
      std::fprintf(stderr, "opea-node ingest: %s\n", rt::describe(doc.error()).c_str());
      return 1;
    }
    docs.push_back(std::move(*doc));
  }
  bool tty = isatty(STDOUT_FILENO) != 0;
  auto progress = [tty](const actors::ingest_progress& p) {
    if (tty) {
      constexpr size_t width = 30;
      size_t filled = p.documents_total == 0 ? width : width * p.documents_done / p.documents_total;
      std::string bar(filled, '#');
      bar.resize(width, ' ');
      std::printf("\r[%s] %zu/%zu documents, %zu chunks", bar.c_str(), p.documents_done,
                  p.documents_total, p.chunks_done);
      std::fflush(stdout);
    }
  };
  actors::ingest_options opts;
  opts.chunk_size = cfg.dataprep.chunk_size;
  opts.chunk_overlap = cfg.dataprep.chunk_overlap;
  std::promise<caf::expected<rt::json>> done;
  dataprep.ingest(
      std::move(docs), opts, [&done](caf::expected<rt::json> r) { done.set_value(std::move(r)); },
      progress);
  auto res = done.get_future().get();
  if (tty) std::printf("\n");
  if (!res) {
    std::fprintf(stderr, "opea-node ingest: %s\n", rt::describe(res.error()).c_str());
    return 1;
  }
  // A snapshot now, so the next start loads it instead of replaying the log.
  if (auto closed = parts.store->close(); !closed)
    std::fprintf(stderr, "opea-node ingest: warning: %s (the log will be replayed at start)\n",
                 rt::describe(closed.error()).c_str());
  for (const auto& f : (*res)["files"])
    std::printf("ingested %s: %s chunks\n", f["name"].get<std::string>().c_str(),
                f["chunks"].dump().c_str());
  std::printf("done: %s documents, %s chunks into %s/%s\n", (*res)["documents"].dump().c_str(),
              (*res)["chunks"].dump().c_str(), cfg.node.data_dir.c_str(), index.c_str());
  return 0;
}

}  // namespace opea::nodes
