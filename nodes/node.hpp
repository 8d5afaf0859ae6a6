#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "monitoring/metrics_registry.hpp"
#include "monitoring/tracing/tracer.hpp"
#include "nodes/application.hpp"
#include "nodes/config/node_config.hpp"
#include "nodes/gateway/gateway.hpp"
#include "runtime/http/fwd.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "runtime/service/service_catalog.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace opea::actors {
class store_registry;
}  // namespace opea::actors

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace opea::nodes {

/// One opea-node process: the actor system (scheduler from the config), the
/// metrics registry, the shared HTTP client, one megaservice per configured
/// graph and the HTTP gateway that serves them. Its supervision tree: a root
/// supervisor (`node.supervision`) over one supervisor per megaservice
/// (`megaservices[i].supervision`) over its service actors (each with its
/// `restart` type and limit). The node names no application: each
/// megaservice is served by the application of its `api`, and every
/// application (make_applications: ChatQnA, dataprep, TEI's /rerank) mounts
/// its own routes, which call the same supervised services.
///
/// Thread-safety: construct, start and stop from one thread (main).
class node final : private node_services {
 public:
  /// Builds every megaservice of `cfg`. Throws config_error naming the file
  /// and key for what only shows when building (unknown built-in, bad
  /// built-in parameters, a cycle in the flows).
  explicit node(node_config cfg);
  ~node();

  /// Starts the gateway; returns the bound HTTP port.
  [[nodiscard]] caf::expected<uint16_t> start();

  /// Stops serving and shuts the actors down. Idempotent.
  void stop();

  const node_config& config() const override { return cfg_; }
  monitoring::metrics_registry& metrics() override { return *metrics_; }
  caf::actor_system& system() { return *system_; }
  const std::vector<std::unique_ptr<runtime::megaservice>>& megaservices() const {
    return megaservices_;
  }
  /// The root supervisor: one child per megaservice, named after it (null
  /// after stop()).
  const runtime::supervisor_handle& root() const { return root_; }
  /// The HTTP gateway (its routes, e.g. gateway::routes_of).
  const class gateway& http_gateway() const { return *gateway_; }

 private:
  // Declaration order is teardown order reversed: the gateway stops first,
  // then the megaservices, then the actor system waits for every actor, and
  // only then go the client and the metrics that actors still touched.
  node_config cfg_;
  /// The event loops of the gateway and the HTTP client when the scheduler's
  /// workers run them (`node.http.io_threads: 0`), one per I/O worker;
  /// they outlive the actor system.
  std::vector<std::unique_ptr<boost::asio::io_context>> loops_;
  caf::actor_system_config system_cfg_;
  std::unique_ptr<monitoring::metrics_registry> metrics_;
  /// `node.tracing` / OTEL_*: used by the gateway's server, the HTTP client
  /// and the megaservices, so it goes after them (its destructor flushes).
  std::unique_ptr<monitoring::tracer> tracer_;
  std::shared_ptr<runtime::http::client> client_;
  std::unique_ptr<caf::actor_system> system_;
  std::unique_ptr<class cluster_runtime> cluster_;
  std::shared_ptr<actors::store_registry> stores_;
  runtime::service_catalog catalog_;
  std::unique_ptr<class service_factory> factory_;
  std::vector<std::unique_ptr<runtime::megaservice>> megaservices_;
  /// One-service megaservices "service.NAME" for the services the node's own
  /// routes call that no megaservice of this node has.
  std::vector<std::unique_ptr<runtime::megaservice>> service_megaservices_;
  // Before the gateway, which is destroyed first: the routes' handlers it
  // holds may still use what the applications made.
  std::vector<std::unique_ptr<application>> apps_;
  std::unique_ptr<gateway> gateway_;
  runtime::supervisor_handle root_;

  void start_root();
  /// Builds tracer_ from node.tracing and the OTEL_* environment.
  void start_tracing();
  /// The service as a megaservice runs it here: a proxy to the members
  /// that host it (cluster), else the local actor or HTTP adapter.
  runtime::micro_service service_for(const service_config& svc) const;
  /// How the node's own routes (dataprep, /v1/embeddings, /rerank) call
  /// `svc`: through a megaservice of this node that has it (its proxy, its
  /// metrics), else through a one-service megaservice of its own, which
  /// joins the root supervisor.
  runtime::service_call caller_of(const service_config& svc) override;
  gateway& edge() override { return *gateway_; }
  std::shared_ptr<runtime::http::client> client() const override { return client_; }
  actors::store_registry& stores() override { return *stores_; }
  bool runs_here(const service_config& svc) const override;
};

}  // namespace opea::nodes
