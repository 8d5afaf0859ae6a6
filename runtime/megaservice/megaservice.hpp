#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "monitoring/metrics_registry.hpp"
#include "monitoring/tracing/tracer.hpp"
#include "runtime/dag/service_orchestrator.hpp"
#include "runtime/service/messages.hpp"
#include "runtime/supervision/child_spec.hpp"

namespace opea::runtime {

/// Settings of one megaservice.
struct megaservice_options {
  /// Name used in logs, metrics and /v1/list_service. Default: "megaservice".
  std::string name = "megaservice";
  /// Deadline of a request from the moment it is accepted. Default: 30 s.
  std::chrono::milliseconds deadline{30000};
  /// OPEA's "Service Description". Default: "OPEA Microservice Infrastructure".
  std::string description = "OPEA Microservice Infrastructure";
  /// Long-lived actors that run the requests' flows (each runs many at once).
  /// Default 0: one per worker thread of the actor system's scheduler.
  size_t flow_executors = 0;
  /// The OTP supervisor of the service actors (named after the megaservice):
  /// strategy, intensity and period, backoff. Default: one_for_one, 10
  /// restarts within 10 s (OTP's 1 in 5 s would give up at the second crash
  /// of any service; each service's own limit, `micro_service::restart`,
  /// stops one crash-looping service before the megaservice gives up).
  supervisor_flags supervision = default_supervision();
  /// False (default): the megaservice starts its services' supervisor
  /// itself, and its giving up fails every service for good. True: a parent
  /// supervisor starts it through `child()` (opea-node's root supervisor),
  /// and restarts it after it escalated; until it started, calls wait.
  bool supervised = false;
  /// Traces each service call (a span per DAG node call, parent: the
  /// request's traceparent) and, at a cluster endpoint, each remote call it
  /// serves (a server span). Must outlive the megaservice. Default: null
  /// (no spans; the trace context still flows).
  const monitoring::tracer* tracer = nullptr;

  static supervisor_flags default_supervision() {
    supervisor_flags f;
    f.intensity = 10;
    f.period = std::chrono::milliseconds{10000};
    return f;
  }
};

/// Life-cycle state of one service of a megaservice.
enum class service_status : int { running = 0, restarting = 1, failed = 2 };

std::string_view to_string(service_status x);

/// The status of a megaservice's services, written by its supervisor actor and
/// read from any thread (atomics; the names never change after construction).
class status_board {
 public:
  explicit status_board(const std::vector<std::string>& names);
  size_t size() const { return entries_.size(); }
  const std::string& name(size_t i) const { return entries_[i].name; }
  service_status status(size_t i) const {
    return static_cast<service_status>(entries_[i].state.load(std::memory_order_relaxed));
  }
  uint64_t restarts(size_t i) const { return entries_[i].restarts.load(std::memory_order_relaxed); }
  void set_status(size_t i, service_status s) {
    entries_[i].state.store(static_cast<int>(s), std::memory_order_relaxed);
  }
  void count_restart(size_t i) { entries_[i].restarts.fetch_add(1, std::memory_order_relaxed); }

 private:
  struct entry {
    std::string name;
    std::atomic<int> state{0};
    std::atomic<uint64_t> restarts{0};
  };
  std::vector<entry> entries_;
};

/// A flow run as a function: `megaservice::async_schedule` with the
/// megaservice's shared state kept alive (see megaservice::runner).
using flow_runner = std::function<void(json input, request_context ctx,
                                       std::function<void(caf::expected<flow_result>)> done)>;

/// A megaservice: an OTP supervisor (runtime/supervision) over one actor per
/// service of its graph (in-process handlers, actors or adapters), with the
/// strategy, intensity and restart types of its options and services, and
/// an actor that runs one proxy per service (the one call path: deadline,
/// bulkhead, breaker, retry, replicas) and each request's flow on one of a
/// few long-lived flow executor actors. Called through `async_schedule` /
/// `schedule` (or a `runner`); it knows no HTTP: an edge (opea::http's
/// `http::flow_route`, the node's ChatQnA routes) turns requests into calls.
///
/// Thread-safe: every member may be called from any thread; the object only
/// holds immutable data and actor handles. Runners and callers keep the
/// shared state alive, so an edge may outlive the megaservice object.
class megaservice {
 public:
  /// Validates and compiles the graph (throws graph_error) and every
  /// service's policies (throws std::invalid_argument naming the service and
  /// key, or a service with neither handler, body, adapter nor cluster
  /// placement), spawns the supervisor, the service actors and their proxies.
  megaservice(caf::actor_system& sys, const service_orchestrator& orchestrator,
              megaservice_options options, monitoring::metrics_registry& metrics);
  ~megaservice();

  megaservice(const megaservice&) = delete;
  megaservice& operator=(const megaservice&) = delete;

  const std::string& name() const;
  const megaservice_options& options() const;

  /// The megaservice's actor: accepts (run_atom, flow_job_ptr).
  caf::actor actor() const;

  /// With `options.supervised`: the child spec under which a parent
  /// supervisor runs this megaservice's services. Its start spawns their
  /// supervisor (id and name: the megaservice's name; restart permanent;
  /// shutdown infinity, as OTP's for a supervisor) and hands it to the
  /// megaservice's actor. Without `supervised`: errc::bad_request.
  caf::expected<child_spec> child() const;

  /// Runs one request; `done` is called exactly once on a CAF thread and must
  /// not block — except after stop(), when it is called with
  /// errc::service_unavailable before async_schedule returns. `ctx.deadline`
  /// defaults to now + options().deadline when unset.
  void async_schedule(json input, request_context ctx,
                      std::function<void(caf::expected<flow_result>)> done) const;

  /// `async_schedule` as a `flow_runner` that keeps the megaservice's shared
  /// state alive (not the object: once it is stopped, requests fail with
  /// errc::service_unavailable), for an edge that may outlive the object.
  flow_runner runner() const;

  /// Runs one request and waits for it. Never call it from an actor.
  caf::expected<flow_result> schedule(json input, request_context ctx = {}) const;

  /// Calls one service of this megaservice without a flow, through its proxy
  /// (the same call path as a flow: deadline, bulkhead, breaker, retry,
  /// waiting while the service restarts; its metrics). For callers outside
  /// the actor system (an HTTP route, dataprep, a cluster endpoint): one
  /// message to the proxy, which answers through `done` (service_proxy.hpp,
  /// call_answer). `ctx.deadline` defaults to
  /// now + options().deadline when unset. `done` is called exactly once, on
  /// a CAF thread, and must not block: with the service's output, its error,
  /// errc::bad_request when the megaservice has no service `service`, or
  /// errc::service_unavailable naming the service when the megaservice was
  /// stopped or the call's proxy stopped before answering it.
  void async_call(const std::string& service, json input, request_context ctx,
                  std::function<void(caf::expected<json_ptr>)> done) const;

  /// `async_call` of `service` with a fresh context, as a `service_call`
  /// that keeps the megaservice's shared state alive (not the object: once
  /// it is stopped, calls fail with errc::service_unavailable).
  service_call caller(std::string service) const;

  /// Whether the megaservice has a service named `name`.
  bool has_service(const std::string& name) const;

  /// The services with their type, endpoint, status and restarts, as served
  /// by /v1/list_service.
  json describe_services() const;

  /// Status of every service, readable from any thread.
  const status_board& status() const;

  /// The proxy of service `name`, to call it without a flow with
  /// (invoke_atom, json_ptr, request_context_ptr) -> json_ptr through the
  /// same call path as a flow (deadline, bulkhead, breaker, retry, waiting
  /// for a restart); null when there is no such service or the megaservice
  /// has not started yet. Thread-safe.
  service_actor proxy(const std::string& name) const;

  /// Stops the supervisor and its services. Requests in progress are answered
  /// with errc::service_unavailable, and so is every later request, at once.
  /// Idempotent; also done by the destructor.
  void stop();

  /// Opaque state shared with route handlers and callbacks.
  struct shared;

 private:
  std::shared_ptr<shared> shared_;
};

}  // namespace opea::runtime
