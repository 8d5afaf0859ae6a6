#include "nodes/dataprep/dataprep_app.hpp"

#include <algorithm>
#include <filesystem>
#include <future>

#include "actors/dataprep/dataprep_service.hpp"
#include "actors/embedding/embedding_actor.hpp"
#include "actors/embedding/service_embedder.hpp"
#include "actors/retriever/store_registry.hpp"
#include "monitoring/log.hpp"
#include "nodes/dataprep/dataprep_routes.hpp"
#include "nodes/dataprep/dataprep_setup.hpp"
#include "runtime/errors.hpp"

namespace opea::nodes {

namespace rt = runtime;

namespace {

class dataprep_app final : public application {
 public:
  // In a cluster, documents are ingested where the retriever's store lives.
  void attach(node_services& node) override {
    const auto& cfg = node.config();
    if (cfg.dataprep.enabled && node.runs_here(*cfg.find_service(cfg.dataprep.retriever)))
      embed_ = node.caller_of(*cfg.find_service(cfg.dataprep.embedding));
  }

  void start(node_services& node) override {
    if (!embed_) return;
    const auto& cfg = node.config();
    const auto& d = cfg.dataprep;
    const auto& file = cfg.source_name;
    auto parts = open_dataprep_store(cfg, node.stores());
    auto* documents = &node.metrics().dataprep_documents.Add({{"index", parts.index}});
    auto* chunks = &node.metrics().dataprep_chunks.Add({{"index", parts.index}});
    // Documents and queries share vectors: dataprep embeds with the same
    // supervised embedding service that ChatQnA's flow calls.
    const auto* emb = cfg.find_service(d.embedding);
    // A built-in embedding service's vectors depend only on its params: a
    // local copy of it names the model and loads the corpus below.
    actors::embedder_ptr local;
    if (emb->kind == service_kind::builtin) {
      auto made = actors::make_embedder_from_params(emb->params, node.client());
      if (!made) throw config_error(file + ": dataprep.embedding: " + rt::describe(made.error()));
      local = std::move(*made);
    }
    parts.embedder = std::make_shared<actors::service_embedder>(std::move(embed_), emb->name,
                                                                local ? local->model() : emb->name);
    actors::ingest_options opts;
    opts.chunk_size = d.chunk_size;
    opts.chunk_overlap = d.chunk_overlap;
    // The bundled corpus, once, when the store is empty: ingested before the
    // node serves, so the first question already finds it.
    if (!d.corpus.empty() && parts.store->size() == 0) {
      // This one-time load before the node serves embeds with the local copy
      // of a built-in service: in a cluster its replicas may run on members
      // not up yet, and nobody else calls it yet. Every later ingest and
      // /v1/embeddings call the supervised service.
      actors::dataprep_service loader{parts.store, local ? local : parts.embedder};
      std::error_code ec;
      std::vector<std::string> paths;
      for (const auto& entry : std::filesystem::directory_iterator(d.corpus, ec))
        if (entry.is_regular_file()) paths.push_back(entry.path().string());
      if (ec)
        throw config_error(file + ": dataprep.corpus: cannot read directory \"" + d.corpus +
                           "\": " + ec.message());
      std::sort(paths.begin(), paths.end());
      std::vector<actors::source_document> docs;
      for (const auto& p : paths) {
        auto doc = loader.from_link(p);
        if (!doc) throw config_error(file + ": dataprep.corpus: " + rt::describe(doc.error()));
        docs.push_back(std::move(*doc));
      }
      std::promise<caf::expected<rt::json>> done;
      loader.ingest(std::move(docs), opts,
                    [&done](caf::expected<rt::json> r) { done.set_value(std::move(r)); });
      auto res = done.get_future().get();
      if (!res) throw config_error(file + ": dataprep.corpus: " + rt::describe(res.error()));
      count_ingest(*res, documents, chunks);
      monitoring::log(monitoring::log_component::dataprep)
          .info("opea-node {}: ingested the corpus {}: {} documents, {} chunks", cfg.node.name,
                d.corpus, (*res)["documents"].dump(), (*res)["chunks"].dump());
    }
    actors::dataprep_config dcfg;
    dcfg.link_root = cfg.node.data_dir;
    auto service = std::make_shared<actors::dataprep_service>(parts.store, parts.embedder, dcfg);
    routes_ = std::make_unique<dataprep_routes>(service, parts.embedder);
    routes_->count_into(documents, chunks);
    routes_->mount(node.edge());
  }

 private:
  rt::service_call embed_;
  std::unique_ptr<dataprep_routes> routes_;
};

}  // namespace

std::unique_ptr<application> make_dataprep_app() {
  return std::make_unique<dataprep_app>();
}

}  // namespace opea::nodes
