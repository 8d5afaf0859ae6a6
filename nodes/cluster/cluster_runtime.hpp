#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "monitoring/metrics_registry.hpp"
#include "nodes/cluster/membership.hpp"
#include "nodes/config/node_config.hpp"
#include "nodes/gateway/gateway.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "runtime/service/service_proxy.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace opea::nodes {

class service_factory;

/// This process's part of a cluster (the config's `cluster` section and
/// `--node`): hosts the services whose `run_on` names this member (each in a
/// one-service megaservice that supervises it, behind an endpoint actor),
/// runs the membership directory on the member's cluster port, and makes
/// the service proxies through which megaservices reach replicas.
///
/// Its actors join the node's supervision tree through `child()`: a
/// "cluster" supervisor (one_for_one, 10 restarts in 10 s) over one
/// "endpoint.SERVICE" per hosted service, then the "directory". A restarted
/// endpoint is announced by the directory to this node's proxies and to the
/// members that are up; a restarted directory publishes itself again on the
/// cluster port, keeps its subscribers (directory_memory) and rejoins its
/// peers as a member that came back does.
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
                  monitoring::metrics_registry& metrics, const service_factory& factory,
                  const monitoring::tracer* tracer = nullptr);
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

  /// The "cluster" supervisor over the endpoints and the directory, for the
  /// node's root (after the hosted megaservices: it stops before them). The
  /// endpoints and directory that the constructor made (so that the port is
  /// known and checked at once) are its first instances; restarts spawn
  /// fresh ones.
  caf::expected<runtime::child_spec> child();

  /// The one-service megaservices hosting this member's services for the
  /// cluster (supervised by the node's root).
  std::vector<const runtime::megaservice*> hosted() const {
    std::vector<const runtime::megaservice*> out;
    for (const auto& h : hosted_) out.push_back(h.get());
    return out;
  }

  /// The port the directory listens on.
  uint16_t port() const { return port_; }

  /// Closes the cluster port and stops hosted services; the endpoints and
  /// the directory stop with the node's root (or here, if `child()` was
  /// never started). Idempotent.
  void stop();

 private:
  /// A first instance made by the constructor, handed to the supervisor's
  /// first start or, if stop() comes first, stopped there. Shared between
  /// the node's thread and the supervisor's; thread-safe.
  class first_instance {
   public:
    explicit first_instance(caf::actor a) : actor_(std::move(a)) {}
    /// The instance, once (null afterwards).
    caf::actor take();
    /// Takes the instance if still there and marks the cell closed.
    caf::actor close();
    bool closed() const;

   private:
    mutable std::mutex mtx_;
    caf::actor actor_;
    bool closed_ = false;
  };
  using first_instance_ptr = std::shared_ptr<first_instance>;

  static caf::actor spawn_endpoint(caf::actor_system& sys, const std::string& service,
                                   std::shared_ptr<const runtime::megaservice> host,
                                   monitoring::metrics_registry& metrics,
                                   const monitoring::actor_instruments_ptr& instruments);

  const node_config& cfg_;
  caf::actor_system& sys_;
  monitoring::metrics_registry& metrics_;
  /// Shared with their endpoints, which may outlive this object by a few
  /// messages while the actor system shuts down.
  std::vector<std::shared_ptr<runtime::megaservice>> hosted_;
  /// Service name and first endpoint, per hosted service.
  std::vector<std::pair<std::string, first_instance_ptr>> endpoints_;
  /// The actor series of each endpoint (index as endpoints_), of the
  /// directory and of the cluster's supervisor (every instance of each).
  std::vector<monitoring::actor_instruments_ptr> endpoint_actors_;
  monitoring::actor_instruments_ptr directory_actors_;
  monitoring::actor_instruments_ptr supervisor_actors_;
  first_instance_ptr directory_;
  /// The first directory: the handle proxies subscribe to (a restarted one
  /// finds them in memory_).
  caf::actor first_directory_;
  std::shared_ptr<directory_memory> memory_;
  /// The directory's settings, for restarts.
  std::shared_ptr<const membership_config> directory_cfg_;
  std::shared_ptr<cluster_view> view_;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

/// "{node}" in `path` replaced by `node`.
std::string expand_node(std::string path, const std::string& node);

}  // namespace opea::nodes
