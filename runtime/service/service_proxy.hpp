#pragma once

// The one call path to a service. Every call a flow (or a cluster endpoint
// serving another node) makes to a service goes through that service's
// proxy actor, which alone decides, per call and in this order:
//
//   retry( breaker( bulkhead( deadline( call ) ) ) )
//
// and records the outcome. Replicas are the supervised local actor of the
// service (in-process handler, actor body or HTTP adapter) or, for a service
// distributed over a cluster, the endpoints of the members that run it.
// See runtime/resilience/README.md for the policies.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/behavior.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>

#include "monitoring/metrics_registry.hpp"
#include "monitoring/tracing/tracer.hpp"
#include "runtime/cluster/remote_protocol.hpp"
#include "runtime/resilience/bulkhead.hpp"
#include "runtime/resilience/circuit_breaker.hpp"
#include "runtime/resilience/retry_schedule.hpp"
#include "runtime/service/messages.hpp"

namespace opea::runtime {

/// (service_up_atom, service_actor): the supervised local actor of the proxy's
/// service started or was restarted; calls waiting for it are sent.
using service_up_atom = caf::atom_constant<caf::atom("svcup")>;
/// (service_down_atom, caf::error reason, bool for_good): the local actor
/// went down. Not for good: it is restarting, calls wait for it (bounded by
/// their deadline). For good: calls fail with `reason`.
using service_down_atom = caf::atom_constant<caf::atom("svcdown")>;
/// (replica_up_atom, std::string node, caf::actor endpoint): a replica of the
/// proxy's service on a cluster member is reachable (sent by the membership
/// directory). A newer endpoint for the same node replaces the old one.
using replica_up_atom = caf::atom_constant<caf::atom("replup")>;
/// (replica_down_atom, std::string node): the member left; its replica is gone.
using replica_down_atom = caf::atom_constant<caf::atom("repldown")>;
/// (subscribe_atom, std::string service, caf::actor proxy): sent by a proxy to
/// its directory, which answers with replica_up messages now and
/// replica_up/replica_down as members come and go.
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
/// (call_back_atom, json_ptr input, request_context_ptr, call_callback): one
/// call, answered by calling the callback instead of a response message. For
/// callers that are not actors (an edge route, dataprep, a cluster endpoint):
/// no actor per call and one message less than a request.
using call_back_atom = caf::atom_constant<caf::atom("pcallback")>;
/// Internal to the proxy: (psweep_atom, int64_t when) its one timer, armed
/// for the earliest instant something is due; (pretry_atom, uint64_t call) a
/// retry's backoff is over; (pcancel_atom, uint64_t call) the call's request
/// was cancelled.
using psweep_atom = caf::atom_constant<caf::atom("psweep")>;
using pretry_atom = caf::atom_constant<caf::atom("pretry")>;
using pcancel_atom = caf::atom_constant<caf::atom("pcancel")>;

/// The answer to a call_back_atom call: called exactly once, on a CAF thread
/// (it must not block). The proxy calls it with the output or an error of
/// the runtime's category naming the service. A call that no proxy answers
/// (it was sent to a proxy that was down, or its proxy stopped with the call
/// open) is answered when the last reference goes, with
/// errc::service_unavailable naming `service`: never lost. What `fn` throws
/// is logged and swallowed, with the request id of `ctx` (if given).
class call_answer {
 public:
  call_answer(std::string service, std::function<void(caf::expected<json_ptr>)> fn,
              request_context_ptr ctx = nullptr)
      : service_(std::move(service)), fn_(std::move(fn)), ctx_(std::move(ctx)) {}
  call_answer(const call_answer&) = delete;
  call_answer& operator=(const call_answer&) = delete;
  ~call_answer();
  /// Answers the call (the first time only).
  void operator()(caf::expected<json_ptr> res) const;

 private:
  std::string service_;
  std::function<void(caf::expected<json_ptr>)> fn_;
  request_context_ptr ctx_;
  mutable std::atomic<bool> answered_{false};
};
using call_callback = std::shared_ptr<const call_answer>;

}  // namespace opea::runtime

// Local only, like json_ptr: never serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(opea::runtime::call_callback)

namespace opea::runtime {

/// The interface of a service proxy: the call (`service_actor`), what its
/// supervisor and membership directory tell it, the calling side of the
/// remote protocol, and its internal messages. Flow executors and edge
/// routes hold it as a `service_actor` (the call part only).
using service_proxy_actor = service_actor::extend_with<remote_caller_actor>::extend<
    caf::reacts_to<call_back_atom, json_ptr, request_context_ptr, call_callback>,
    caf::reacts_to<service_up_atom, service_actor>,
    caf::reacts_to<service_down_atom, caf::error, bool>,
    caf::reacts_to<replica_up_atom, std::string, caf::actor>,
    caf::reacts_to<replica_down_atom, std::string>, caf::reacts_to<psweep_atom, int64_t>,
    caf::reacts_to<pretry_atom, uint64_t>, caf::reacts_to<pcancel_atom, uint64_t>>;

/// Settings of one service proxy.
struct service_proxy_options {
  /// The service's name (errors, envelopes, subscriptions).
  std::string service;
  /// Whether a call may be sent again (retries need it). Default: false.
  bool idempotent = false;
  /// Circuit breaker. Default: none.
  std::optional<circuit_breaker_settings> breaker;
  /// Bulkhead. Default: none (no limit).
  std::optional<bulkhead_settings> bulkhead;
  /// Retry schedule and budget. Default: 1 attempt (no retry).
  retry_settings retry;
  /// Replica choice of a distributed service. Default: round_robin.
  replica_choice choice = replica_choice::round_robin;
  /// A distributed service: the membership directory to subscribe to for its
  /// replicas (null with `distributed`: replicas only come from replica_up
  /// messages sent directly, as in tests).
  caf::actor directory;
  /// True: replicas are cluster endpoints (remote protocol); a call with no
  /// live replica fails at once. False: the one replica is the local actor
  /// the supervisor announces (service_up_atom); a call waits while it restarts.
  bool distributed = false;
  /// True when the local replica is an HTTP adapter: a cancelled request's
  /// calls are answered at once (the adapter aborts the upstream request).
  /// Always so for distributed services (the replica is told to stop).
  bool upstream = false;
  /// Per-service instruments (requests, duration, errors by reason, retries,
  /// circuit state, late replies); default-constructed = not exported.
  monitoring::service_instruments instruments;
  cluster_series cluster;
  /// A span per call (all its attempts): named after the service, kind
  /// client for a distributed service (the remote hop), internal otherwise;
  /// its context is the traceparent the replica sees. Null: no spans.
  const monitoring::tracer* tracer = nullptr;
  /// The `opea.megaservice` attribute of the spans.
  std::string megaservice;
};

/// Checks every policy of `options` (what `service_proxy` would refuse):
/// errc::bad_request whose subject is the key path under the service, e.g.
/// "circuit_breaker.failure_rate_threshold" or "retry.attempts".
[[nodiscard]] caf::error validate(const service_proxy_options& options);

namespace detail {

using time_point = clock_type::time_point;

/// Forwards pieces to the request's sink and remembers that one went out:
/// a call whose answer was partly streamed is never sent again.
class watching_sink final : public stream_sink {
 public:
  explicit watching_sink(stream_sink_ptr inner) : inner_(std::move(inner)) {}
  void write(std::string piece) override {
    wrote_.store(true, std::memory_order_release);
    inner_->write(std::move(piece));
  }
  bool wrote() const { return wrote_.load(std::memory_order_acquire); }

 private:
  stream_sink_ptr inner_;
  std::atomic<bool> wrote_{false};
};

enum class phase : uint8_t {
  /// Not sent: waiting for the local actor to come back from a restart.
  waiting,
  /// Waiting in the bulkhead's queue for a slot.
  queued,
  /// Sent to a replica; its answer is awaited.
  sent,
  /// Failed transiently; a retry is due after its backoff.
  backoff,
};

/// A replica: the local actor of the service, or a cluster member's endpoint.
struct replica {
  std::string node;
  /// Set for the local replica.
  service_actor local;
  /// Set for a replica on a cluster member.
  endpoint_actor remote;
  size_t outstanding = 0;
  caf::actor_addr address() const { return local ? local.address() : remote.address(); }
};

struct proxy_call {
  json_ptr input;
  request_context_ptr ctx;
  /// Where the answer goes: the request's promise, or `callback`.
  caf::typed_response_promise<json_ptr> rp;
  call_callback callback;
  phase state = phase::waiting;
  /// Sends that reached (or may have reached) a replica.
  uint32_t attempts = 0;
  /// Id of the send in flight (replies of earlier sends are late).
  uint64_t send = 0;
  /// A send to the local actor not yet counted in `requests`: it counts once
  /// its reply comes or the call ends, unless the actor was already down
  /// when it arrived (the send never ran and goes to the restarted actor).
  bool send_uncounted = false;
  std::optional<bulkhead::permit> permit;
  bool breaker_permit = false;
  /// The budget whose slot this call's current attempt (a retry) holds.
  retry_budget* budget_held = nullptr;
  time_point started;
  time_point sent_at;
  caf::actor_addr replica;
  std::string node;
  /// Set for streamed calls with retries: tells whether a piece went out.
  std::shared_ptr<watching_sink> watch;
  /// A remote replica streamed a piece of this call.
  bool streamed = false;
  /// The call's span (not recording without a tracer or when unsampled).
  monitoring::span span;
};

}  // namespace detail

/// The state of a service proxy (see `service_proxy`); private to it.
struct service_proxy_state {
  service_proxy_options opt;
  std::optional<circuit_breaker> breaker;
  std::optional<bulkhead> bulk;
  std::optional<retry_schedule> retry;
  std::optional<retry_budget> budget;
  /// Retries after a member was lost: not limited (see service_proxy.cpp).
  std::optional<retry_budget> node_loss_budget;
  std::vector<detail::replica> replicas;
  /// Local service failed for good: calls fail with this error.
  caf::error failed;
  std::unordered_map<uint64_t, detail::proxy_call> calls;
  /// Send id -> call id, for the remote protocol's replies.
  std::unordered_map<uint64_t, uint64_t> sends;
  std::deque<uint64_t> waiting;
  uint64_t next_call = 1;
  uint64_t next_send = 1;
  size_t next_replica = 0;
  bool armed = false;
  clock_type::time_point armed_at;
  static inline const char* name = "opea.service_proxy";
};

/// The proxy of one service. Protocol:
/// - (invoke_atom, json_ptr, request_context_ptr) -> json_ptr: one call (or
///   call_back_atom with a callback for the answer). It
///   is answered exactly once: with the output, the service's error, or a
///   rejection naming the service (breaker open, bulkhead full, queue
///   timeout, deadline exceeded, restart intensity, no live replica), and
///   never after its deadline (a reply that comes later is dropped and
///   counted in opea_service_late_replies_total).
/// - service_up_atom / service_down_atom from the supervisor;
///   replica_up_atom / replica_down_atom from the membership directory;
///   the remote protocol's replies (runtime/cluster/remote_protocol.hpp);
///   the rest is internal.
/// A call is sent at most `retry.attempts` times in all, whatever the path
/// (a send that bounced off an actor that was already down never reached
/// the service and is not counted).
service_proxy_actor::behavior_type service_proxy(
    service_proxy_actor::stateful_pointer<service_proxy_state> self, service_proxy_options options);

}  // namespace opea::runtime
