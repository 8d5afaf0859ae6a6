#include "nodes/cluster/cluster_runtime.hpp"

#include <algorithm>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "monitoring/log.hpp"
#include "nodes/cluster/tls_guard.hpp"
#include "nodes/services/service_factory.hpp"
#include "runtime/cluster/service_endpoint.hpp"
#include "runtime/errors.hpp"
#include "runtime/instrumented_actor.hpp"

namespace opea::nodes {

namespace rt = runtime;

std::string expand_node(std::string path, const std::string& node) {
  const std::string key = "{node}";
  for (auto pos = path.find(key); pos != std::string::npos; pos = path.find(key, pos + node.size()))
    path.replace(pos, key.size(), node);
  return path;
}

void cluster_runtime::configure(const node_config& cfg, caf::actor_system_config& sys_cfg) {
  const auto& c = cfg.cluster;
  sys_cfg.load<caf::io::middleman>();
  sys_cfg.set("middleman.heartbeat-interval",
              caf::timespan{std::chrono::milliseconds{c.heartbeat_ms}});
  sys_cfg.set("middleman.connection-timeout",
              caf::timespan{std::chrono::milliseconds{c.failure_timeout_ms}});
  if (c.tls.enabled) {
    const auto& file = cfg.source_name;
    auto ca = expand_node(c.tls.ca, c.self);
    auto cert = expand_node(c.tls.certificate, c.self);
    auto key = expand_node(c.tls.key, c.self);
    if (!tls_guard::installed())
      throw config_error(file +
                         ": cluster.tls: this opea-node build does not interpose SSL_read & co. "
                         "(caf::openssl would drop healthy links); refusing to run TLS");
    // The certificate must carry this member's name, or peers refuse it.
    auto names = tls_guard::certificate_names(cert);
    if (!names)
      throw config_error(file + ": cluster.tls.certificate: " + caf::to_string(names.error()));
    if (std::find(names->begin(), names->end(), c.self) == names->end())
      throw config_error(file + ": cluster.tls.certificate: " + cert + " names " +
                         (names->empty() ? std::string{"nobody"} : names->front()) +
                         ", not this member '" + c.self + "'");
    if (auto err = tls_guard::self_test(ca, cert, key))
      throw config_error(file + ": cluster.tls: " + caf::to_string(err));
    tls_guard::peer_policy policy;
    policy.self = c.self;
    for (const auto& m : c.members) {
      policy.members.insert(m.name);
      policy.endpoints[{m.host, m.port}] = m.name;
    }
    tls_guard::configure(std::move(policy));
    sys_cfg.load<caf::openssl::manager>();
    sys_cfg.openssl_cafile = ca;
    sys_cfg.openssl_certificate = cert;
    sys_cfg.openssl_key = key;
  }
}

bool cluster_runtime::runs_here(const service_config& svc) const {
  return svc.run_on.empty() ||
         std::find(svc.run_on.begin(), svc.run_on.end(), cfg_.cluster.self) != svc.run_on.end();
}

cluster_runtime::cluster_runtime(const node_config& cfg, caf::actor_system& sys,
                                 monitoring::metrics_registry& metrics,
                                 const service_factory& factory, const monitoring::tracer* tracer)
    : cfg_(cfg),
      sys_(sys),
      metrics_(metrics),
      memory_(std::make_shared<directory_memory>()),
      view_(std::make_shared<cluster_view>()) {
  const auto& c = cfg.cluster;
  const auto& file = cfg.source_name;
  membership_config mc;
  mc.cluster_name = c.name;
  mc.self = c.self;
  for (const auto& m : c.members) mc.members.push_back({m.name, m.host, m.port});
  mc.reconnect = std::chrono::milliseconds{c.reconnect_ms};
  mc.view = view_;
  mc.member_up = &metrics.cluster_member_up;
  mc.members_by_state = &metrics.cluster_members;
  mc.link_transitions = &metrics.cluster_link_transitions;
  mc.memory = memory_;
  // The services this member hosts, each supervised by a one-service megaservice.
  for (const auto& svc : cfg.services) {
    if (!distributed(svc) || !runs_here(svc)) continue;
    rt::service_orchestrator orch;
    auto hosted = factory.make(svc);
    // Retries belong to the caller's proxy (one retry schedule per call,
    // whatever the path); the host applies its deadline, bulkhead and breaker.
    hosted.retry = {};
    orch.add(std::move(hosted));
    rt::megaservice_options opts;
    opts.name = "hosted." + svc.name;
    opts.supervised = true;  // by the node's root supervisor
    opts.tracer = tracer;    // the endpoint's server span and the host's call span
    auto host = std::make_shared<rt::megaservice>(sys, orch, opts, metrics);
    auto ins = monitoring::make_actor_instruments(&metrics, {"endpoint", "", svc.name});
    auto ep = spawn_endpoint(sys, svc.name, host, metrics, ins);
    mc.local_endpoints[svc.name] = ep;
    endpoints_.emplace_back(svc.name, std::make_shared<first_instance>(ep));
    endpoint_actors_.push_back(std::move(ins));
    hosted_.push_back(std::move(host));
  }
  const auto* self = c.find(c.self);
  if (c.tls.enabled) {
    mc.connector = sys.openssl_manager().actor_handle();
    // A peer that dialled us must present a verified certificate for the
    // name it declares in its hello.
    mc.accept_peer = [](const std::string& name) { return tls_guard::claim_accepted_peer(name); };
  } else {
    mc.connector = sys.middleman().actor_handle();
  }
  directory_actors_ = monitoring::make_actor_instruments(&metrics, {"membership", "", ""});
  supervisor_actors_ = monitoring::make_actor_instruments(&metrics, {"supervisor:cluster", "", ""});
  first_directory_ = rt::spawn_instrumented(sys, directory_actors_, membership_actor, mc);
  directory_ = std::make_shared<first_instance>(first_directory_);
  auto published = c.tls.enabled
                       ? caf::openssl::publish(first_directory_, self->port, nullptr, true)
                       : sys.middleman().publish(first_directory_, self->port, nullptr, true);
  if (!published) {
    stop();
    throw config_error(file + ": cluster.nodes." + c.self + ".port: cannot listen on port " +
                       std::to_string(self->port) + ": " + sys.render(published.error()));
  }
  port_ = *published;
  // A restarted directory publishes itself on the port this one got.
  mc.publish_port = port_;
  mc.local_endpoints.clear();  // it takes them from memory_
  directory_cfg_ = std::make_shared<const membership_config>(std::move(mc));
  monitoring::log(monitoring::log_component::cluster)
      .info("opea-node {}: cluster '{}' member, cluster port {}{}", c.self, c.name, port_,
            c.tls.enabled ? " (mutual TLS)" : "");
}

caf::actor cluster_runtime::first_instance::take() {
  std::lock_guard<std::mutex> guard{mtx_};
  return std::exchange(actor_, caf::actor{});
}

caf::actor cluster_runtime::first_instance::close() {
  std::lock_guard<std::mutex> guard{mtx_};
  closed_ = true;
  return std::exchange(actor_, caf::actor{});
}

bool cluster_runtime::first_instance::closed() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return closed_;
}

caf::actor cluster_runtime::spawn_endpoint(caf::actor_system& sys, const std::string& service,
                                           std::shared_ptr<const rt::megaservice> host,
                                           monitoring::metrics_registry& metrics,
                                           const monitoring::actor_instruments_ptr& instruments) {
  // Endpoints travel between members as plain handles (what crosses nodes).
  return caf::actor_cast<caf::actor>(rt::spawn_instrumented(sys, instruments, rt::service_endpoint,
                                                            service, std::move(host), &metrics));
}

caf::expected<rt::child_spec> cluster_runtime::child() {
  std::vector<rt::child_spec> children;
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    rt::child_spec spec;
    spec.id = endpoint_child_prefix + endpoints_[i].first;
    std::shared_ptr<const rt::megaservice> host = hosted_[i];
    auto* metrics = &metrics_;
    spec.start = [first = endpoints_[i].second, service = endpoints_[i].first, host, metrics,
                  ins = endpoint_actors_[i]](caf::local_actor& sup) {
      if (auto instance = first->take()) return instance;
      return spawn_endpoint(sup.system(), service, host, *metrics, ins);
    };
    children.push_back(std::move(spec));
  }
  rt::child_spec dir;
  dir.id = directory_child_id;
  dir.start = [first = directory_, cfg = directory_cfg_,
               ins = directory_actors_](caf::local_actor& sup) {
    auto instance = first->take();
    if (!instance) {
      auto settings = *cfg;
      // After stop() (the node is shutting down) the port stays closed.
      if (first->closed()) settings.publish_port = 0;
      instance = rt::spawn_instrumented(sup.system(), ins, membership_actor, std::move(settings));
    }
    // The directory follows its siblings' restarts.
    caf::anon_send(caf::actor_cast<rt::supervisor_handle>(&sup), rt::watch_children_atom::value,
                   caf::actor_cast<rt::child_watcher>(instance));
    return instance;
  };
  children.push_back(std::move(dir));
  rt::supervisor_flags flags;
  flags.intensity = 10;
  flags.period = std::chrono::seconds{10};
  return rt::supervisor_child("cluster", flags, std::move(children), rt::restart_type::permanent,
                              supervisor_actors_);
}

cluster_runtime::~cluster_runtime() {
  stop();
}

rt::micro_service cluster_runtime::proxy_for(const service_config& svc, rt::service_type type) {
  rt::micro_service out;
  out.name = svc.name;
  out.type = type;
  rt::cluster_placement placement;
  placement.directory = first_directory_;
  placement.choice = cfg_.cluster.balance == balance_policy::least_outstanding
                         ? rt::replica_choice::least_outstanding
                         : rt::replica_choice::round_robin;
  prometheus::Labels labels{{"service", svc.name}};
  placement.series.replicas = &metrics_.cluster_replicas.Add(labels);
  placement.series.retries = &metrics_.cluster_retries.Add(labels);
  placement.series.node_down = &metrics_.cluster_node_down.Add(labels);
  placement.series.remote_call_duration = &metrics_.cluster_remote_call_duration.Add(
      labels, monitoring::metrics_registry::latency_buckets());
  out.cluster = std::move(placement);
  svc.set_policies(out);
  return out;
}

void cluster_runtime::mount(gateway& gw) const {
  auto view = view_;
  gw.add_route("/v1/cluster", {"GET"},
               [view](rt::http::request&&, std::shared_ptr<rt::http::response_writer> out) {
                 out->reply_json(200, view->get());
               });
}

void cluster_runtime::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (port_ != 0) {
    auto mm = cfg_.cluster.tls.enabled ? sys_.openssl_manager().actor_handle()
                                       : sys_.middleman().actor_handle();
    caf::anon_send(mm, caf::close_atom::value, port_);
  }
  // First instances that no supervisor took; the others stop with the root.
  if (directory_)
    if (auto dir = directory_->close()) caf::anon_send_exit(dir, caf::exit_reason::user_shutdown);
  for (auto& ep : endpoints_)
    if (auto instance = ep.second->close())
      caf::anon_send_exit(instance, caf::exit_reason::user_shutdown);
  memory_->clear();
  for (auto& h : hosted_) h->stop();
}

}  // namespace opea::nodes
