#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "monitoring/metrics_registry.hpp"
#include "nodes/config/node_config.hpp"
#include "runtime/dag/service_orchestrator.hpp"
#include "runtime/http/fwd.hpp"
#include "runtime/http/server.hpp"
#include "runtime/megaservice/megaservice.hpp"

namespace opea::actors {
class store_registry;
}

namespace opea::nodes {

class gateway;

/// What the node lends an application while it builds itself.
class node_services {
 public:
  virtual ~node_services() = default;
  virtual const node_config& config() const = 0;
  /// The HTTP gateway, to add routes to (before the node starts).
  virtual gateway& edge() = 0;
  /// The node's shared HTTP client (null when no service needs one).
  virtual std::shared_ptr<runtime::http::client> client() const = 0;
  virtual actors::store_registry& stores() = 0;
  /// The node's metrics, for series of an application's own.
  virtual monitoring::metrics_registry& metrics() = 0;
  /// How a route calls `svc`: through a megaservice of the node that has it
  /// (its proxy and metrics), else a one-service megaservice of its own that
  /// joins the root supervisor. Only before the supervision tree starts
  /// (`application::attach`).
  virtual runtime::service_call caller_of(const service_config& svc) = 0;
  /// Whether `svc` runs on this member (always true outside a cluster).
  virtual bool runs_here(const service_config& svc) const = 0;
};

/// An application module of opea-node: a megaservice API (its graph hooks and
/// routes, chosen by a megaservice's `api`) and/or routes of its own on the
/// gateway (dataprep, TEI's /rerank). The node names no application: it asks
/// each one registered in `make_applications` (applications.cpp), so adding
/// one is a new folder plus one line there. Errors are config_error naming
/// the file and key.
class application {
 public:
  virtual ~application() = default;

  /// The `api` of the megaservices it serves (their hooks and routes), as
  /// written in the config; "" for an application with routes of its own only.
  virtual std::string_view api() const { return {}; }

  /// Sets the hooks of the graph of a megaservice it serves, before the
  /// megaservice is built.
  virtual void prepare(const megaservice_config& mc, runtime::service_orchestrator& o) const {}

  /// The routes of a megaservice it serves, running its flows on `run`.
  virtual std::vector<runtime::http::route> routes(const megaservice_config& mc,
                                                   const runtime::flow_runner& run) const {
    return {};
  }

  /// After the megaservices were built, before the supervision tree starts:
  /// take the callers of the services its own routes use.
  virtual void attach(node_services& node) {}

  /// Once the supervision tree runs, before the gateway serves: load what
  /// must be there before the first request and mount its own routes.
  virtual void start(node_services& node) {}
};

/// Every application of opea-node, in the order they attach and start.
std::vector<std::unique_ptr<application>> make_applications();

}  // namespace opea::nodes
