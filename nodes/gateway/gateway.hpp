#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "monitoring/metrics_registry.hpp"
#include "runtime/http/server.hpp"
#include "runtime/megaservice/megaservice.hpp"

namespace opea::nodes {

/// The node's HTTP front door: serves the routes of its megaservices plus
/// - `GET /v1/health_check`: OPEA's shape {"Service Title", "Service Description"}
///   plus "version" and "status";
/// - `GET /health`: 200 {"status":"ok"}, or 503 {"status":"degraded","failed":[...]}
///   once a service failed for good;
/// - `GET /v1/list_service`: every megaservice with its route and services;
/// - `GET /metrics`: Prometheus text format 0.0.4.
/// Every response is counted in opea_http_requests_total{route,code}, where
/// `route` is a served path or "other" (bounded cardinality).
///
/// Thread-safety: mount megaservices before start(); afterwards the gateway
/// only reads immutable data and the megaservices' thread-safe status.
class gateway {
 public:
  gateway(runtime::http::server_config http, monitoring::metrics_registry& metrics,
          std::string node_name);
  ~gateway();

  /// Serves `routes` as the routes of `m` (listed under it by
  /// /v1/list_service; `m` must outlive the gateway's server).
  void mount(const runtime::megaservice& m, std::vector<runtime::http::route> routes);

  /// The paths served for the megaservice named `megaservice`.
  std::vector<std::string> routes_of(const std::string& megaservice) const;

  /// Serves one more route (before start()).
  void add_route(std::string path, std::vector<std::string> methods,
                 runtime::http::handler handler);

  /// The underlying server, to mount route sets on (before start()).
  runtime::http::server& server() { return *server_; }

  /// Logs one line per response at level info (before start()): `access`,
  /// method, target, status, milliseconds, request and response bytes, the
  /// caller's address, the request id and the trace id (from the request's
  /// traceparent; "-" when absent). Headers and bodies never reach it.
  void log_access(bool on) { access_log_ = on; }

  /// Binds and starts serving; returns the bound port.
  [[nodiscard]] caf::expected<uint16_t> start();

  void stop();

  uint16_t port() const;

 private:
  void add_builtin_routes();

  monitoring::metrics_registry& metrics_;
  std::string node_name_;
  std::unique_ptr<runtime::http::server> server_;
  struct mounted {
    const runtime::megaservice* megaservice;
    std::vector<std::string> paths;
  };
  std::vector<mounted> megaservices_;
  std::set<std::string> routes_;
  bool access_log_ = false;
};

}  // namespace opea::nodes
