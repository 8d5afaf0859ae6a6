#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "monitoring/actor_instruments.hpp"
#include "runtime/resilience/bulkhead.hpp"
#include "runtime/resilience/circuit_breaker.hpp"
#include "runtime/resilience/retry_schedule.hpp"
#include "runtime/service/request_context.hpp"
#include "runtime/service/service_type.hpp"
#include "runtime/supervision/child_spec.hpp"
#include "runtime/supervision/restart_window.hpp"

namespace opea::runtime {

using json = nlohmann::json;

/// Immutable JSON shared between actors without copies.
using json_ptr = std::shared_ptr<const json>;

/// The body of an in-process microservice: takes the node's input document and
/// returns its output document, or an error (e.g. errc::bad_request). Runs on a
/// CAF scheduler thread: it must not block (blocking work belongs in an
/// external service or a bounded worker pool). A handler that throws crashes
/// its actor; the megaservice restarts it and the request gets an error.
using service_handler =
    std::function<caf::expected<json>(const json& input, const request_context& ctx)>;

/// The behavior of an in-process microservice written as a whole actor, for
/// services that answer asynchronously (an HTTP backend, a worker pool) or
/// keep state. It must answer (invoke_atom, json_ptr, request_context_ptr)
/// with a json_ptr or an error, typically through a response promise. An
/// exception that escapes a handler answers errc::service_crashed to the
/// request being handled and crashes the actor, as with `service_handler`.
using actor_body = std::function<caf::behavior(caf::event_based_actor* self)>;

/// How a proxy picks a replica of a distributed service.
enum class replica_choice {
  /// The next live replica in turn.
  round_robin,
  /// The live replica with the fewest calls in flight (ties: first added).
  least_outstanding,
};

/// The series a distributed service's proxy records besides its service
/// instruments; each may be null (not exported).
struct cluster_series {
  /// opea_cluster_replicas{service}: live replicas.
  prometheus::Gauge* replicas = nullptr;
  /// opea_cluster_retries_total{service}: retries after a member was lost.
  prometheus::Counter* retries = nullptr;
  /// opea_cluster_node_down_errors_total{service}: calls that failed with node_down.
  prometheus::Counter* node_down = nullptr;
  /// opea_cluster_remote_call_duration_seconds{service}: each send's time to
  /// its reply or error.
  prometheus::Histogram* remote_call_duration = nullptr;
};

/// Where the replicas of a service distributed over a cluster are found.
struct cluster_placement {
  /// The membership directory the service's proxy subscribes to (null: only
  /// replica_up messages sent to the proxy directly, as in tests).
  caf::actor directory;
  /// Default: round_robin.
  replica_choice choice = replica_choice::round_robin;
  cluster_series series;
};

/// A service outside this node, reached through an adapter actor that turns
/// each call into a request to it: opea::http's `http::remote_service` (an
/// OPEA Python microservice, TEI, TGI, vLLM called with POST and a JSON
/// body) makes one. The runtime knows no protocol: it supervises the adapter
/// like any service actor, and its proxy stops a cancelled call upstream
/// (the adapter aborts its exchange).
struct service_adapter {
  /// What /v1/list_service shows as the service's kind, e.g. "http".
  std::string kind;
  /// Spawns the adapter (a `service_actor`) under the megaservice's
  /// supervisor, measured by `instruments` (runtime/instrumented_actor.hpp's
  /// spawn_instrumented; null: not measured); called again on every restart.
  std::function<caf::actor(caf::local_actor& supervisor,
                           const monitoring::actor_instruments_ptr& instruments)>
      start;
};

/// One microservice of a graph, as OPEA's `MicroService`: a name, where it
/// lives (host, port, endpoint) and its type. It runs in-process (a `handler`
/// or an actor `body`), outside the node through an `adapter`
/// (`http::remote_service`), or on cluster members (`cluster`).
struct micro_service {
  std::string name;
  std::string host = "0.0.0.0";
  uint16_t port = 80;
  /// Path of the HTTP endpoint, e.g. "/v1/add". Default: "/".
  std::string endpoint = "/";
  service_type type = service_type::undefined;
  service_role role = service_role::microservice;
  /// When set, the service runs in-process as an actor around this handler.
  service_handler handler;
  /// When set (and `handler` is not), the service runs in-process as this actor.
  actor_body body;
  /// When set (and neither `handler` nor `body` is), the service runs outside
  /// the node, called through this adapter at `endpoint_url()`.
  std::optional<service_adapter> adapter;
  /// Set for a service whose replicas run on cluster members: no actor is
  /// spawned for it here; its proxy calls the members' endpoints.
  std::optional<cluster_placement> cluster;
  /// Timeout of one call to a service outside the node (through its
  /// adapter). Default: 30 s.
  std::chrono::milliseconds timeout{30000};
  /// The restart limit of the service's actor (Akka's per-child limit, see
  /// child_spec::limit): past it the service is stopped for good and calls
  /// to it fail with 503 naming it. Default: 5 in 10 s.
  restart_policy restart;
  /// When its supervisor restarts the service's actor (OTP's restart type:
  /// permanent, transient, temporary). Default: permanent.
  restart_type restart_mode = restart_type::permanent;
  /// Whether a call may be sent again (a retry, another replica). Default: false.
  bool idempotent = false;
  /// Circuit breaker of calls to the service. Default: none.
  std::optional<circuit_breaker_settings> breaker;
  /// Limit of calls in flight to the service (and its queue). Default: none.
  std::optional<bulkhead_settings> bulkhead;
  /// Retries of calls that failed transiently (idempotent services only).
  /// Default: 1 attempt (no retry).
  retry_settings retry;

  /// An in-process service.
  static micro_service local(std::string name, service_handler handler,
                             service_type type = service_type::undefined);

  /// An in-process service written as a whole actor.
  static micro_service actor(std::string name, actor_body body,
                             service_type type = service_type::undefined);

  bool in_process() const { return static_cast<bool>(handler) || static_cast<bool>(body); }
  /// Runs as an actor of this node (a handler, a body, or an adapter), not on
  /// cluster members.
  bool local() const { return !cluster.has_value(); }

  /// "http://host:port/endpoint", OPEA's `endpoint_path`.
  std::string endpoint_url() const;
};

}  // namespace opea::runtime
