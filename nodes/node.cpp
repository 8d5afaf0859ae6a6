#include "nodes/node.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "actors/builtins.hpp"
#include "actors/retriever/store_registry.hpp"
#include "monitoring/log.hpp"
#include "nodes/cluster/cluster_runtime.hpp"
#include "nodes/services/service_factory.hpp"
#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "runtime/http/otlp_transport.hpp"
#include "runtime/scheduler.hpp"

namespace opea::nodes {

namespace rt = runtime;

node::node(node_config cfg) : cfg_(std::move(cfg)) {
  const auto& sched = cfg_.node.scheduler;
  // With io_threads 0 the scheduler's workers run the HTTP I/O between jobs
  // (each of the first io_workers its own loop): a request is parsed, routed
  // through its services and answered on one thread when that thread has
  // nothing else to do.
  auto io_threads = cfg_.node.http.io_threads;
  std::vector<boost::asio::io_context*> loops;
  if (io_threads == 0 && rt::drives_io(sched.policy)) {
    auto workers = sched.max_threads > 0 ? sched.max_threads : default_scheduler_threads();
    auto n = std::max<std::size_t>(1, std::min(cfg_.node.http.io_workers, workers));
    for (std::size_t i = 0; i < n; ++i) {
      loops_.push_back(std::make_unique<boost::asio::io_context>());
      loops.push_back(loops_.back().get());
    }
  }
  if (io_threads == 0) io_threads = 1;
  runtime::configure_scheduler(system_cfg_, sched.policy, sched.max_threads, loops);
  metrics_ = std::make_unique<monitoring::metrics_registry>(cfg_.node.name);
  start_tracing();
  // One HTTP client for every external service and remote backend.
  bool needs_client = false;
  for (const auto& svc : cfg_.services)
    needs_client = needs_client || svc.kind == service_kind::http ||
                   (svc.params.is_object() && svc.params.contains("url"));
  if (needs_client) {
    rt::http::client_config ccfg;
    ccfg.loops = loops;
    ccfg.tracer = tracer_.get();
    client_ = std::make_shared<rt::http::client>(ccfg);
  }
  if (cfg_.cluster.enabled) cluster_runtime::configure(cfg_, system_cfg_);
  system_ = std::make_unique<caf::actor_system>(system_cfg_);
  stores_ = std::make_shared<actors::store_registry>(cfg_.node.data_dir);
  stores_->set_search_histograms(&metrics_->index_search_duration,
                                 monitoring::metrics_registry::latency_buckets());
  // Each opened index's size, read when /metrics is scraped.
  metrics_->on_collect([stores = stores_, metrics = metrics_.get()] {
    for (const auto& [index, store] : stores->opened()) {
      metrics->index_chunks.Add({{"index", index}}).Set(static_cast<double>(store->size()));
      metrics->index_sources.Add({{"index", index}})
          .Set(static_cast<double>(store->source_count()));
    }
  });
  actors::register_builtins(catalog_, client_, stores_);
  factory_ = std::make_unique<service_factory>(catalog_, client_, cfg_.source_name);
  if (cfg_.cluster.enabled)
    cluster_ =
        std::make_unique<cluster_runtime>(cfg_, *system_, *metrics_, *factory_, tracer_.get());

  rt::http::server_config http;
  http.host = cfg_.node.http.host;
  http.port = cfg_.node.http.port;
  http.io_threads = io_threads;
  http.loops = loops;
  http.max_body_bytes = cfg_.node.http.max_body_bytes;
  http.tracer = tracer_.get();
  gateway_ = std::make_unique<gateway>(http, *metrics_, cfg_.node.name);
  gateway_->log_access(cfg_.node.access_log);
  apps_ = make_applications();

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
    const application* app = nullptr;
    for (const auto& a : apps_)
      if (!a->api().empty() && a->api() == mc.api) {
        app = a.get();
        break;
      }
    if (app == nullptr) {
      std::string apis;
      for (const auto& a : apps_)
        if (!a->api().empty()) apis += (apis.empty() ? "" : ", ") + std::string{a->api()};
      throw config_error(file + ": " + key + ".api: expected one of " + apis + ", got \"" + mc.api +
                         "\"");
    }
    app->prepare(mc, orch);
    rt::megaservice_options opts;
    opts.name = mc.name;
    opts.deadline = std::chrono::milliseconds{mc.deadline_ms};
    opts.supervision = mc.supervision;
    opts.supervised = true;
    opts.tracer = tracer_.get();
    std::unique_ptr<rt::megaservice> mega;
    try {
      mega = std::make_unique<rt::megaservice>(*system_, orch, opts, *metrics_);
    } catch (const std::invalid_argument& e) {
      throw config_error(file + ": " + key + ": " + e.what());
    }
    gateway_->mount(*mega, app->routes(mc, mega->runner()));
    megaservices_.push_back(std::move(mega));
  }
  // The applications' own routes call supervised services too: their
  // callers are taken before the root starts, so the one-service
  // megaservices they may need are its children.
  for (auto& a : apps_) a->attach(*this);
  start_root();
  try {
    for (auto& a : apps_) a->start(*this);
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

bool node::runs_here(const service_config& svc) const {
  return !cluster_ || cluster_->runs_here(svc);
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
  opts.tracer = tracer_.get();
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
  auto root = rt::spawn_supervisor(
      *system_, "node " + cfg_.node.name, cfg_.node.supervision, std::move(children),
      monitoring::make_actor_instruments(metrics_.get(), {"supervisor:root", "", ""}));
  if (!root)
    throw config_error(cfg_.source_name + ": node.supervision: " + rt::describe(root.error()));
  root_ = *root;
}

void node::start_tracing() {
  // An OTEL_* variable set in the environment wins over its node.tracing
  // key; service.name defaults to the node's name.
  auto lookup = [this](const char* var) -> const char* {
    if (const char* v = std::getenv(var)) return v;
    auto it = cfg_.node.tracing.find(var);
    if (it != cfg_.node.tracing.end()) return it->second.c_str();
    if (std::string_view{var} == "OTEL_SERVICE_NAME") {
      auto attrs = std::getenv("OTEL_RESOURCE_ATTRIBUTES");
      auto conf = cfg_.node.tracing.find("OTEL_RESOURCE_ATTRIBUTES");
      std::string_view text = attrs != nullptr                  ? attrs
                              : conf != cfg_.node.tracing.end() ? conf->second
                                                                : std::string_view{};
      if (text.find("service.name=") == std::string_view::npos) return cfg_.node.name.c_str();
    }
    return nullptr;
  };
  monitoring::tracing_settings settings;
  try {
    settings = monitoring::tracing_settings::from_environment(lookup);
  } catch (const monitoring::tracing_config_error& e) {
    throw config_error(cfg_.source_name + ": node.tracing (or the environment): " + e.what());
  }
  auto transport =
      settings.enabled() ? rt::http::otlp_http_transport(settings) : monitoring::span_transport{};
  tracer_ = std::make_unique<monitoring::tracer>(std::move(settings), std::move(transport));
  if (tracer_->enabled()) {
    monitoring::log(monitoring::log_component::node)
        .info("opea-node {}: tracing: OTLP/HTTP JSON to {} (sampler {}, service.name {})",
              cfg_.node.name, tracer_->settings().endpoint,
              tracer_->settings().trace_sampler.description(), tracer_->settings().service_name);
    // The exporter's counters, published as counters at scrape time.
    auto last = std::make_shared<monitoring::span_processor_counters>();
    metrics_->on_collect([tracer = tracer_.get(), metrics = metrics_.get(), last] {
      auto now = tracer->counters();
      metrics->tracing_exported.Add({}).Increment(
          static_cast<double>(now.exported - last->exported));
      metrics->tracing_dropped.Add({}).Increment(static_cast<double>(now.dropped - last->dropped));
      metrics->tracing_failures.Add({}).Increment(
          static_cast<double>(now.export_failures - last->export_failures));
      *last = now;
    });
  }
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
