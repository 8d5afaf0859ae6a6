#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "monitoring/metrics_registry.hpp"
#include "nodes/cluster/membership.hpp"
#include "nodes/config/node_config.hpp"
#include "nodes/gateway/gateway.hpp"
#include "runtime/service/service_proxy.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "runtime/service/service_catalog.hpp"

namespace opea::nodes {

/// This process's part of a cluster (the config's `cluster` section and
/// `--node`): hosts the services whose `run_on` names this member (each in a
/// one-service megaservice that supervises it, behind an endpoint actor),
/// runs the membership directory on the member's cluster port, and makes
/// the service proxies through which megaservices reach replicas.
///
/// Thread-safety: build, mount and stop from the node's thread.
class cluster_runtime {
 public:
  /// Settings CAF needs before the actor system exists: the middleman (and
  /// caf::openssl with `cluster.tls`), heartbeat and connection timeout.
  static void configure(const node_config& cfg, caf::actor_system_config& sys_cfg);

  /// Hosts this member's services and publishes its directory. Throws
  /// config_error (bad service, cluster port taken).
  cluster_runtime(const node_config& cfg, caf::actor_system& sys,
                  monitoring::metrics_registry& metrics, const runtime::service_catalog& catalog,
                  std::shared_ptr<runtime::http::client> client);
  ~cluster_runtime();

  /// Whether `svc` is reached through proxies (it has `run_on`).
  static bool distributed(const service_config& svc) { return !svc.run_on.empty(); }

  /// Whether this member runs a replica of `svc` (or runs it in-process
  /// because it has no `run_on`).
  bool runs_here(const service_config& svc) const;

  /// The service a megaservice uses for a distributed service: no actor on
  /// this node, its proxy calls the members' endpoints (found through the
  /// directory), with the service's own policies (retry included: a member
  /// lost mid-call is a transient failure for its one retry schedule).
  runtime::micro_service proxy_for(const service_config& svc, runtime::service_type type);

  /// GET /v1/cluster.
  void mount(gateway& gw) const;

  /// The one-service megaservices hosting this member's services for the
  /// cluster (supervised by the node's root).
  std::vector<const runtime::megaservice*> hosted() const {
    std::vector<const runtime::megaservice*> out;
    for (const auto& h : hosted_) out.push_back(h.get());
    return out;
  }

  /// The port the directory listens on.
  uint16_t port() const { return port_; }

  /// Unpublishes the directory and stops hosted services. Idempotent.
  void stop();

 private:
  const node_config& cfg_;
  caf::actor_system& sys_;
  monitoring::metrics_registry& metrics_;
  std::vector<std::unique_ptr<runtime::megaservice>> hosted_;
  std::vector<caf::actor> endpoints_;
  caf::actor directory_;
  std::shared_ptr<cluster_view> view_;
  uint16_t port_ = 0;
};

/// "{node}" in `path` replaced by `node`.
std::string expand_node(std::string path, const std::string& node);

}  // namespace opea::nodes
