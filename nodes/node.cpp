#include "nodes/node.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <algorithm>
#include <filesystem>
#include <future>

#include "actors/builtins.hpp"
#include "actors/dataprep/dataprep_service.hpp"
#include "actors/embedding/embedding_actor.hpp"
#include "actors/embedding/service_embedder.hpp"
#include "actors/rerank/rerank_actor.hpp"
#include "actors/rerank/service_reranker.hpp"
#include "actors/retriever/store_registry.hpp"
#include "nodes/chatqna/chatqna_service.hpp"
#include "nodes/cluster/cluster_runtime.hpp"
#include "nodes/dataprep/dataprep_routes.hpp"
#include "nodes/dataprep/dataprep_setup.hpp"
#include "nodes/gateway/rerank_route.hpp"
#include "nodes/services/service_factory.hpp"
#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "runtime/http/json_route.hpp"
#include "runtime/http/remote_service.hpp"

namespace opea::nodes {

namespace rt = runtime;

node::node(node_config cfg) : cfg_(std::move(cfg)) {
  const auto& sched = cfg_.node.scheduler;
  runtime::configure_scheduler(system_cfg_, sched.policy, sched.max_threads);
  metrics_ = std::make_unique<monitoring::metrics_registry>(cfg_.node.name);
  // One HTTP client (one I/O thread) for every external service and remote backend.
  bool needs_client = false;
  for (const auto& svc : cfg_.services)
    needs_client = needs_client || svc.kind == service_kind::http ||
                   (svc.params.is_object() && svc.params.contains("url"));
  if (needs_client) client_ = std::make_shared<rt::http::client>();
  if (cfg_.cluster.enabled) cluster_runtime::configure(cfg_, system_cfg_);
  system_ = std::make_unique<caf::actor_system>(system_cfg_);
  stores_ = std::make_shared<actors::store_registry>(cfg_.node.data_dir);
  actors::register_builtins(catalog_, client_, stores_);
  factory_ = std::make_unique<service_factory>(catalog_, client_, cfg_.source_name);
  if (cfg_.cluster.enabled)
    cluster_ = std::make_unique<cluster_runtime>(cfg_, *system_, *metrics_, *factory_);

  rt::http::server_config http;
  http.host = cfg_.node.http.host;
  http.port = cfg_.node.http.port;
  http.io_threads = cfg_.node.http.io_threads;
  http.max_body_bytes = cfg_.node.http.max_body_bytes;
  gateway_ = std::make_unique<gateway>(http, *metrics_, cfg_.node.name);

  const auto& file = cfg_.source_name;
  for (size_t m = 0; m < cfg_.megaservices.size(); ++m) {
    const auto& mc = cfg_.megaservices[m];
    if (cluster_ && !mc.serve_on.empty() &&
        std::find(mc.serve_on.begin(), mc.serve_on.end(), cfg_.cluster.self) == mc.serve_on.end())
      continue;  // another member serves it
    auto key = "megaservices[" + std::to_string(m) + "]";
    if (cfg_.source_format == "opea") key = "opea_mega_service";
    rt::service_orchestrator orch;
    for (const auto& name : mc.nodes) {
      auto svc = cfg_.find_service(name);
      if (svc == nullptr)
        throw config_error(file + ": " + key + ".nodes: unknown service '" + name + "'");
      try {
        orch.add(service_for(*svc));
      } catch (const rt::graph_error& e) {
        throw config_error(file + ": " + key + ".nodes: " + e.what());
      }
    }
    for (const auto& edge : mc.edges) {
      try {
        orch.flow_to(edge.first, edge.second);
      } catch (const rt::graph_error& e) {
        throw config_error(file + ": " + key +
                           (cfg_.source_format == "opea" ? ".mega_flow: " : ".flows: ") + e.what());
      }
    }
    if (mc.api == megaservice_api::chatqna) set_chatqna_hooks(orch);
    rt::megaservice_options opts;
    opts.name = mc.name;
    opts.deadline = std::chrono::milliseconds{mc.deadline_ms};
    opts.supervision = mc.supervision;
    opts.supervised = true;
    std::unique_ptr<rt::megaservice> mega;
    try {
      mega = std::make_unique<rt::megaservice>(*system_, orch, opts, *metrics_);
    } catch (const std::invalid_argument& e) {
      throw config_error(file + ": " + key + ": " + e.what());
    }
    std::vector<rt::http::route> routes;
    if (mc.api == megaservice_api::chatqna) {
      routes.push_back(
          {mc.route, mc.methods, chatqna_handler(mega->runner(), chat_api::opea_chatqna)});
      if (!mc.openai_route.empty())
        routes.push_back(
            {mc.openai_route, {"POST"}, chatqna_handler(mega->runner(), chat_api::openai)});
    } else {
      routes.push_back({mc.route, mc.methods, rt::http::flow_route(mega->runner())});
    }
    gateway_->mount(*mega, std::move(routes));
    megaservices_.push_back(std::move(mega));
  }
  // The node's own routes call supervised services too: created before the
  // root starts, so their megaservices are its children.
  // In a cluster, documents are ingested where the retriever's store lives.
  rt::service_call embed;
  if (cfg_.dataprep.enabled &&
      (!cluster_ || cluster_->runs_here(*cfg_.find_service(cfg_.dataprep.retriever))))
    embed = caller_of(*cfg_.find_service(cfg_.dataprep.embedding));
  // TEI's POST /rerank, served by the first built-in rerank service, so other
  // nodes (backend "tei") and TEI clients can use this node's reranker.
  for (const auto& svc : cfg_.services) {
    if (svc.kind != service_kind::builtin || svc.builtin != "rerank") continue;
    if (cluster_ && !cluster_->runs_here(svc)) continue;
    mount_rerank_route(*gateway_,
                       std::make_shared<actors::service_reranker>(caller_of(svc), svc.name));
    break;
  }
  start_root();
  try {
    if (embed) setup_dataprep(std::move(embed));
    if (cluster_) cluster_->mount(*gateway_);
  } catch (...) {
    stop();  // the supervision tree is running: take it down before unwinding
    throw;
  }
}

rt::micro_service node::service_for(const service_config& svc) const {
  if (cluster_ && cluster_runtime::distributed(svc))
    return cluster_->proxy_for(svc, factory_->type_of(svc));
  return factory_->make(svc);
}

rt::service_call node::caller_of(const service_config& svc) {
  std::vector<const rt::megaservice*> running;
  for (const auto& m : megaservices_) running.push_back(m.get());
  if (cluster_)
    for (const auto* m : cluster_->hosted()) running.push_back(m);
  for (const auto& m : service_megaservices_) running.push_back(m.get());
  for (const auto* m : running)
    if (m->has_service(svc.name)) return m->caller(svc.name);
  rt::service_orchestrator orch;
  orch.add(service_for(svc));
  rt::megaservice_options opts;
  opts.name = "service." + svc.name;
  opts.supervised = true;
  std::unique_ptr<rt::megaservice> mega;
  try {
    mega = std::make_unique<rt::megaservice>(*system_, orch, opts, *metrics_);
  } catch (const std::invalid_argument& e) {
    throw config_error(cfg_.source_name + ": services." + svc.name + ": " + e.what());
  }
  auto call = mega->caller(svc.name);
  service_megaservices_.push_back(std::move(mega));
  return call;
}

void node::start_root() {
  // The root of the node's supervision tree: one child per megaservice (its
  // services' supervisor), in config order, then the services hosted for
  // cluster members, then the cluster's endpoints and directory.
  std::vector<rt::child_spec> children;
  auto add = [&](const rt::megaservice& m) {
    auto c = m.child();
    if (!c) throw config_error(cfg_.source_name + ": " + rt::describe(c.error()));
    children.push_back(std::move(*c));
  };
  for (const auto& m : megaservices_) add(*m);
  for (const auto& m : service_megaservices_) add(*m);
  if (cluster_) {
    for (const auto* m : cluster_->hosted()) add(*m);
    // The endpoints and the directory: stopped before the services they call.
    auto c = cluster_->child();
    if (!c) throw config_error(cfg_.source_name + ": cluster: " + rt::describe(c.error()));
    children.push_back(std::move(*c));
  }
  auto root = rt::spawn_supervisor(*system_, "node " + cfg_.node.name, cfg_.node.supervision,
                                   std::move(children));
  if (!root)
    throw config_error(cfg_.source_name + ": node.supervision: " + rt::describe(root.error()));
  root_ = *root;
}

void node::setup_dataprep(rt::service_call embed) {
  const auto& d = cfg_.dataprep;
  const auto& file = cfg_.source_name;
  auto parts = open_dataprep_store(cfg_, *stores_);
  // Documents and queries share vectors: dataprep embeds with the same
  // supervised embedding service that ChatQnA's flow calls.
  const auto* emb = cfg_.find_service(d.embedding);
  // A built-in embedding service's vectors depend only on its params: a
  // local copy of it names the model and loads the corpus below.
  actors::embedder_ptr local;
  if (emb->kind == service_kind::builtin) {
    auto made = actors::make_embedder_from_params(emb->params, client_);
    if (!made) throw config_error(file + ": dataprep.embedding: " + rt::describe(made.error()));
    local = std::move(*made);
  }
  parts.embedder = std::make_shared<actors::service_embedder>(std::move(embed), emb->name,
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
    spdlog::info("opea-node {}: ingested the corpus {}: {} documents, {} chunks", cfg_.node.name,
                 d.corpus, (*res)["documents"].dump(), (*res)["chunks"].dump());
  }
  actors::dataprep_config dcfg;
  dcfg.link_root = cfg_.node.data_dir;
  auto service = std::make_shared<actors::dataprep_service>(parts.store, parts.embedder, dcfg);
  dataprep_ = std::make_unique<dataprep_routes>(service, parts.embedder);
  dataprep_->mount(*gateway_);
}

node::~node() {
  stop();
}

caf::expected<uint16_t> node::start() {
  return gateway_->start();
}

void node::stop() {
  if (gateway_) gateway_->stop();
  for (auto& m : megaservices_) m->stop();
  for (auto& m : service_megaservices_) m->stop();
  if (cluster_) cluster_->stop();
  // The services last, each megaservice's in reverse start order.
  if (root_) caf::anon_send_exit(root_, caf::exit_reason::user_shutdown);
  root_ = nullptr;
}

}  // namespace opea::nodes
