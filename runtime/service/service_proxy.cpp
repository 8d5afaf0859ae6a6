#include "runtime/service/service_proxy.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <limits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "monitoring/log.hpp"
#include "runtime/cluster/remote_protocol.hpp"
#include "runtime/errors.hpp"

namespace opea::runtime {

namespace {

using time_point = clock_type::time_point;
using detail::phase;
using detail::proxy_call;
using detail::replica;
using detail::watching_sink;

using self_ptr = service_proxy_actor::stateful_pointer<service_proxy_state>;

std::string key_of(const char* section, const caf::error& err) {
  return std::string{section} + "." + subject_of(err);
}

double seconds_since(time_point t, time_point now) {
  return std::chrono::duration<double>(now - t).count();
}

bool is_sec(const caf::error& err, caf::sec code) {
  return err.category() == caf::atom("system") && err.code() == static_cast<uint8_t>(code);
}

/// Whether a failed call counts against the service (the breaker's view):
/// not the caller's bad request nor a client that left.
bool counts_against_service(const caf::error& err) {
  if (err.category() != error_category) return true;
  switch (code_of(err)) {
    case errc::bad_request:
    case errc::cancelled:
    case errc::invalid_graph:
      return false;
    default:
      return true;
  }
}

void set_circuit_gauge(service_proxy_state& st) {
  if (st.breaker && st.opt.instruments.circuit_state != nullptr)
    st.opt.instruments.circuit_state->Set(static_cast<double>(st.breaker->current()));
}

void set_bulkhead_gauges(service_proxy_state& st) {
  if (!st.bulk) return;
  const auto& ins = st.opt.instruments;
  if (ins.bulkhead_in_flight != nullptr)
    ins.bulkhead_in_flight->Set(static_cast<double>(st.bulk->in_flight()));
  if (ins.bulkhead_queued != nullptr)
    ins.bulkhead_queued->Set(static_cast<double>(st.bulk->queued()));
}

void arm(self_ptr self, time_point when) {
  auto& st = self->state;
  if (when == time_point::max()) return;
  if (st.armed && st.armed_at <= when) return;
  st.armed = true;
  st.armed_at = when;
  auto delay = std::max(when - self->clock().now(), clock_type::duration::zero());
  // CAF 0.17 cannot cancel a timer: a superseded one is recognised by its
  // instant and ignored when it fires.
  self->delayed_send(self, delay, psweep_atom::value,
                     static_cast<int64_t>(when.time_since_epoch().count()));
}

void attempt(self_ptr self, uint64_t id);
void drain_admitted(self_ptr self);

/// Opens a call (not yet attempted); returns its id.
uint64_t open_call(self_ptr self, json_ptr input, request_context_ptr ctx) {
  auto& st = self->state;
  auto id = st.next_call++;
  auto& call = st.calls[id];
  call.input = std::move(input);
  call.started = self->clock().now();
  if (ctx->sink && st.retry) {
    if (!st.opt.distributed) call.watch = std::make_shared<watching_sink>(ctx->sink);
  }
  if (st.opt.tracer != nullptr && st.opt.tracer->enabled()) {
    auto parent = monitoring::span_context::parse(ctx->traceparent, ctx->tracestate);
    call.span = st.opt.tracer->start_span(
        st.opt.service,
        st.opt.distributed ? monitoring::span_kind::client : monitoring::span_kind::internal,
        parent ? *parent : monitoring::span_context{});
    if (call.span.context().valid()) {
      // The replica (and what it calls) sees this span as its parent.
      auto copy = std::make_shared<request_context>(*ctx);
      copy->traceparent = call.span.traceparent();
      ctx = std::move(copy);
    }
  }
  if (ctx->cancel && (st.opt.distributed || st.opt.upstream)) {
    // The request was cancelled (its client left, its flow failed):
    // answer the call at once and stop the remote or upstream work.
    auto me = caf::actor_cast<service_proxy_actor>(self);
    ctx->cancel->on_cancel([me, id] { caf::anon_send(me, pcancel_atom::value, id); });
  }
  call.ctx = std::move(ctx);
  return id;
}

/// Answers call `id` (once) and forgets it. `reason` labels a failure in
/// opea_service_errors_total (empty: the error's own code).
/// Counts the send of `call` in `requests` if it is not counted yet.
void count_send(service_proxy_state& st, proxy_call& call) {
  if (!call.send_uncounted) return;
  call.send_uncounted = false;
  if (st.opt.instruments.requests != nullptr) st.opt.instruments.requests->Increment();
}

void finish(self_ptr self, uint64_t id, caf::expected<json_ptr> res, const char* reason = nullptr) {
  auto& st = self->state;
  auto it = st.calls.find(id);
  if (it == st.calls.end()) return;
  auto call = std::move(it->second);
  st.calls.erase(it);
  count_send(st, call);
  if (call.send != 0) st.sends.erase(call.send);
  if (call.state == phase::queued && st.bulk) st.bulk->cancel(id);
  if (call.budget_held != nullptr) call.budget_held->release();
  auto now = self->clock().now();
  const auto& ins = st.opt.instruments;
  {
    auto seconds = seconds_since(call.started, now);
    if (ins.duration != nullptr) ins.duration->Observe(seconds);
    if (ins.stats != nullptr) ins.stats->record(seconds);
  }
  if (!res) {
    const auto& err = res.error();
    if (code_of(err) == errc::node_down && st.opt.cluster.node_down != nullptr)
      st.opt.cluster.node_down->Increment();
    ins.count_error(reason != nullptr ? std::string{reason} : std::string{to_string(code_of(err))});
  }
  if (call.span.is_recording()) {
    call.span.set_attribute("opea.service", st.opt.service);
    if (!st.opt.megaservice.empty())
      call.span.set_attribute("opea.megaservice", st.opt.megaservice);
    call.span.set_attribute("opea.attempts", call.attempts);
    if (!call.node.empty()) call.span.set_attribute("opea.node", call.node);
    if (!call.ctx->request_id.empty())
      call.span.set_attribute("opea.request_id", call.ctx->request_id);
    if (!res) {
      call.span.set_attribute("error.type", reason != nullptr
                                                ? std::string{reason}
                                                : std::string{to_string(code_of(res.error()))});
      call.span.set_status(monitoring::status_code::error, describe(res.error()));
    }
    call.span.end();
  }
  if (call.callback)
    (*call.callback)(std::move(res));
  else if (res)
    call.rp.deliver(std::move(*res));
  else
    call.rp.deliver(std::move(res.error()));
  // The permit goes last: freeing it may admit queued calls.
  if (call.permit) {
    call.permit.reset();
    drain_admitted(self);
  }
  set_bulkhead_gauges(st);
}

void fail(self_ptr self, uint64_t id, caf::error err, const char* reason = nullptr) {
  finish(self, id, caf::expected<json_ptr>{std::move(err)}, reason);
}

caf::error deadline_error(const std::string& service, const std::string& why) {
  return make_error(errc::deadline_exceeded, service, why);
}

replica* find_replica(service_proxy_state& st, const caf::actor_addr& addr) {
  for (auto& r : st.replicas)
    if (r.address() == addr) return &r;
  return nullptr;
}

replica* pick(service_proxy_state& st) {
  if (st.replicas.empty()) return nullptr;
  if (st.opt.choice == replica_choice::least_outstanding) {
    auto* best = &st.replicas.front();
    for (auto& r : st.replicas)
      if (r.outstanding < best->outstanding) best = &r;
    return best;
  }
  return &st.replicas[st.next_replica++ % st.replicas.size()];
}

void on_result(self_ptr self, uint64_t id, uint64_t send, caf::expected<json_ptr> res);

/// A reply for a call already answered (deadline, cancel) is dropped and
/// counted, unless it is a replica confirming the cancellation the proxy
/// answered the call with.
void drop_late_reply(service_proxy_state& st, bool confirms_cancel) {
  if (st.opt.instruments.late_replies != nullptr && !confirms_cancel)
    st.opt.instruments.late_replies->Increment();
}

/// Sends call `id` to a replica (it holds its bulkhead slot and breaker
/// permission): the local actor, or a cluster member's endpoint.
void send_now(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto& call = st.calls.at(id);
  auto* r = pick(st);
  if (r == nullptr) {
    if (st.opt.distributed) {
      if (call.breaker_permit && st.breaker) {
        st.breaker->on_ignored(self->clock().now());
        call.breaker_permit = false;
      }
      fail(self, id,
           make_error(errc::service_unavailable, st.opt.service,
                      "no live replica (its nodes are down or not joined yet)"),
           "no_replica");
      return;
    }
    // The local actor is restarting: wait for it (bounded by the deadline).
    call.state = phase::waiting;
    st.waiting.push_back(id);
    arm(self, call.ctx->deadline);
    return;
  }
  auto send = st.next_send++;
  call.send = send;
  call.state = phase::sent;
  call.sent_at = self->clock().now();
  call.replica = r->address();
  call.node = r->node;
  ++call.attempts;
  ++r->outstanding;
  // Every send counts (a retry is a call dispatched to the service again); a
  // local one when it is known to have reached the actor (count_send).
  if (st.opt.distributed) {
    if (st.opt.instruments.requests != nullptr) st.opt.instruments.requests->Increment();
  } else {
    call.send_uncounted = true;
  }
  arm(self, call.ctx->deadline);
  if (st.opt.distributed) {
    st.sends.emplace(send, id);
    bool streaming = call.ctx->sink != nullptr;
    auto bytes =
        make_call_envelope(*call.input, *call.ctx, st.opt.service).SerializeAsString();
    // The endpoint answers the sender: this proxy.
    self->send(r->remote, rinvoke_atom::value, send, std::move(bytes), streaming);
    return;
  }
  auto ctx = call.ctx;
  if (call.watch) {
    auto copy = std::make_shared<request_context>(*call.ctx);
    copy->sink = call.watch;
    ctx = std::move(copy);
  }
  self->request(r->local, caf::infinite, invoke_atom::value, call.input, ctx)
      .then([self, id, send](json_ptr& out) { on_result(self, id, send, std::move(out)); },
            [self, id, send](caf::error& err) { on_result(self, id, send, std::move(err)); });
}

/// The breaker's part, for a call that holds its bulkhead slot (or needs none).
void pass_breaker(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto& call = st.calls.at(id);
  if (st.breaker && !call.breaker_permit) {
    auto now = self->clock().now();
    auto p = st.breaker->try_acquire(now);
    set_circuit_gauge(st);
    if (!p.permitted) {
      fail(self, id,
           make_error(errc::service_unavailable, st.opt.service, st.breaker->why_refused(now)),
           "breaker_open");
      return;
    }
    call.breaker_permit = true;
  }
  send_now(self, id);
}

/// One attempt of call `id`: deadline, then bulkhead, then breaker, then send.
void attempt(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto it = st.calls.find(id);
  if (it == st.calls.end()) return;
  auto& call = it->second;
  auto now = self->clock().now();
  if (call.ctx->expired(now)) {
    fail(self, id,
         deadline_error(st.opt.service, "the deadline passed before service '" + st.opt.service +
                                            (call.attempts == 0 ? "' was dispatched"
                                                                : "' could be called again")),
         "deadline_exceeded");
    return;
  }
  if (st.failed) {
    fail(self, id, st.failed, "restart_intensity");
    return;
  }
  if (st.bulk && !call.permit) {
    auto entry = st.bulk->try_enter(id, now, call.ctx->deadline);
    switch (entry.result) {
      case bulkhead::outcome::admitted:
        call.permit.emplace(std::move(entry.slot));
        set_bulkhead_gauges(st);
        break;
      case bulkhead::outcome::queued:
        call.state = phase::queued;
        set_bulkhead_gauges(st);
        if (auto when = st.bulk->next_expiry()) arm(self, *when);
        return;
      case bulkhead::outcome::rejected:
        fail(self, id, make_error(errc::overloaded, st.opt.service, st.bulk->why_refused()),
             "bulkhead_full");
        return;
    }
  }
  pass_breaker(self, id);
}

/// Queued calls that a freed slot admitted go on to the breaker.
void drain_admitted(self_ptr self) {
  auto& st = self->state;
  if (!st.bulk) return;
  for (auto& [id, slot] : st.bulk->take_admitted()) {
    auto it = st.calls.find(id);
    if (it == st.calls.end()) continue;  // its permit frees the slot again
    it->second.permit.emplace(std::move(slot));
    it->second.state = phase::waiting;
    pass_breaker(self, id);
  }
  set_bulkhead_gauges(st);
}

/// The send of call `id` ended (its reply, its error, its replica lost).
void on_result(self_ptr self, uint64_t id, uint64_t send, caf::expected<json_ptr> res) {
  auto& st = self->state;
  auto it = st.calls.find(id);
  if (it == st.calls.end() || it->second.send != send) {
    drop_late_reply(st, !res && code_of(res.error()) == errc::cancelled);
    return;
  }
  auto& call = it->second;
  auto now = self->clock().now();
  if (auto* r = find_replica(st, call.replica); r != nullptr && r->outstanding > 0)
    --r->outstanding;
  st.sends.erase(send);
  call.send = 0;
  if (call.budget_held != nullptr) {
    call.budget_held->release();
    call.budget_held = nullptr;
  }
  auto took = now - call.sent_at;
  if (st.opt.distributed && st.opt.cluster.remote_call_duration != nullptr)
    st.opt.cluster.remote_call_duration->Observe(std::chrono::duration<double>(took).count());
  if (res) {
    if (st.breaker && call.breaker_permit) st.breaker->on_success(took, now);
    call.breaker_permit = false;
    set_circuit_gauge(st);
    finish(self, id, std::move(res));
    return;
  }
  auto err = std::move(res.error());
  if (!st.opt.distributed && is_sec(err, caf::sec::request_receiver_down)) {
    // The actor was already down when the call reached it: the call never
    // ran. Wait for the restarted actor and send it again (not an attempt,
    // not a request).
    --call.attempts;
    call.send_uncounted = false;
    if (auto* r = find_replica(st, call.replica)) {
      auto dead = r->address();
      st.replicas.erase(std::remove_if(st.replicas.begin(), st.replicas.end(),
                                       [&](const replica& x) { return x.address() == dead; }),
                        st.replicas.end());
    }
    send_now(self, id);
    return;
  }
  count_send(st, call);
  if (err.category() != error_category) {
    if (is_sec(err, caf::sec::request_receiver_down))
      err = make_error(errc::service_unavailable, st.opt.service, "its actor is down");
    else
      err = make_error(errc::service_failed, st.opt.service, describe(err));
  }
  if (st.breaker && call.breaker_permit) {
    if (counts_against_service(err))
      st.breaker->on_failure(took, now);
    else
      st.breaker->on_ignored(now);
  }
  call.breaker_permit = false;
  set_circuit_gauge(st);
  // The call is over for the bulkhead: the retry queues again.
  if (call.permit) {
    call.permit.reset();
    drain_admitted(self);
  }
  auto again = st.calls.find(id);
  if (again == st.calls.end()) return;
  auto& c = again->second;
  bool streamed = c.streamed || (c.watch && c.watch->wrote());
  if (st.retry && !streamed) {
    bool open = st.breaker && (st.breaker->current() == circuit_breaker::state::open ||
                               st.breaker->current() == circuit_breaker::state::forced_open);
    // A member lost mid-call fails all its calls at once; they go to other
    // replicas, so they do not count against the budget (which protects a
    // struggling service from retry storms).
    auto& budget = code_of(err) == errc::node_down ? *st.node_loss_budget : *st.budget;
    auto d = st.retry->after_failure(c.attempts, err, open, now, c.ctx->deadline, budget,
                                     static_cast<uint32_t>(st.calls.size()));
    if (d.v == retry_schedule::verdict::retry) {
      c.budget_held = &budget;
      c.state = phase::backoff;
      if (st.opt.instruments.retries != nullptr) st.opt.instruments.retries->Increment();
      if (code_of(err) == errc::node_down && st.opt.cluster.retries != nullptr)
        st.opt.cluster.retries->Increment();
      if (d.wait.count() == 0)
        attempt(self, id);
      else
        self->delayed_send(self, d.wait, pretry_atom::value, id);
      return;
    }
    if (d.v == retry_schedule::verdict::budget) {
      fail(self, id, std::move(err), "retry_budget");
      return;
    }
  }
  fail(self, id, std::move(err));
}

/// The proxy's timer: fails calls past their deadline and queued calls past
/// their wait, then re-arms for the next instant due.
void sweep(self_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (st.bulk) {
    for (auto id : st.bulk->take_expired(now)) {
      auto it = st.calls.find(id);
      if (it == st.calls.end()) continue;
      it->second.state = phase::waiting;  // no longer in the queue
      if (it->second.ctx->expired(now))
        fail(self, id,
             deadline_error(st.opt.service,
                            "the deadline passed while the call waited for a free slot of "
                            "service '" + st.opt.service + "' (max_in_flight)"),
             "queue_timeout");
      else
        fail(self, id,
             make_error(errc::overloaded, st.opt.service,
                        "the call waited max_wait_ms = " +
                            std::to_string(st.bulk->settings().max_wait.count()) +
                            " ms for a slot of its bulkhead"),
             "queue_timeout");
    }
  }
  std::vector<uint64_t> expired;
  for (auto& [id, call] : st.calls)
    if (call.state != phase::queued && call.ctx->expired(now)) expired.push_back(id);
  for (auto id : expired) {
    auto it = st.calls.find(id);
    if (it == st.calls.end()) continue;
    auto& call = it->second;
    auto why = "no reply from service '" + st.opt.service + "' before the request deadline";
    if (call.state == phase::waiting) {
      why = "the deadline passed while service '" + st.opt.service + "' was restarting";
      st.waiting.erase(std::remove(st.waiting.begin(), st.waiting.end(), id), st.waiting.end());
    } else if (call.state == phase::sent) {
      if (st.breaker && call.breaker_permit) st.breaker->on_failure(now - call.sent_at, now);
      call.breaker_permit = false;
      if (auto* r = find_replica(st, call.replica)) {
        if (r->outstanding > 0) --r->outstanding;
        // The replica may still be working on it: tell it to stop.
        if (st.opt.distributed) self->send(r->remote, rcancel_atom::value, call.send);
      }
    }
    auto err = deadline_error(st.opt.service, why);
    if (call.state == phase::sent && !call.node.empty())
      err = make_error(errc::deadline_exceeded, st.opt.service,
                       "no answer from the replica on node '" + call.node + "' in time");
    fail(self, id, std::move(err), "deadline_exceeded");
  }
  set_circuit_gauge(st);
  auto next = time_point::max();
  for (auto& [id, call] : st.calls)
    if (call.state != phase::queued) next = std::min(next, call.ctx->deadline);
  if (st.bulk)
    if (auto when = st.bulk->next_expiry()) next = std::min(next, *when);
  arm(self, next);
}

void release_waiting(self_ptr self) {
  auto& st = self->state;
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  for (auto id : waiting) {
    auto it = st.calls.find(id);
    if (it == st.calls.end() || it->second.state != phase::waiting) continue;
    if (st.failed) {
      fail(self, id, st.failed, "restart_intensity");
      continue;
    }
    send_now(self, id);
  }
}

void set_replica_gauge(service_proxy_state& st) {
  if (st.opt.cluster.replicas != nullptr)
    st.opt.cluster.replicas->Set(static_cast<double>(st.replicas.size()));
}

/// The member behind `endpoint` left: its calls in flight fail with node_down
/// (transient: the retry schedule may send them to another replica).
void remove_replica(self_ptr self, const caf::actor_addr& endpoint) {
  auto& st = self->state;
  auto it = std::find_if(st.replicas.begin(), st.replicas.end(),
                         [&](const replica& r) { return r.address() == endpoint; });
  if (it == st.replicas.end()) return;
  auto node = it->node;
  self->demonitor(it->remote.address());
  st.replicas.erase(it);
  set_replica_gauge(st);
  std::vector<std::pair<uint64_t, uint64_t>> lost;
  for (auto& [id, call] : st.calls)
    if (call.state == phase::sent && call.replica == endpoint) lost.emplace_back(id, call.send);
  for (auto& [id, send] : lost) {
    std::string why = "node '" + node + "' left the cluster while the call was in flight";
    if (!st.opt.idempotent) why += " (not retried: the service is not idempotent)";
    on_result(self, id, send, make_error(errc::node_down, st.opt.service, std::move(why)));
  }
}

}  // namespace

call_answer::~call_answer() {
  (*this)(make_error(errc::service_unavailable, service_,
                     "the call ended without an answer (its proxy was down or stopped)"));
}

void call_answer::operator()(caf::expected<json_ptr> res) const {
  if (answered_.exchange(true, std::memory_order_acq_rel) || !fn_) return;
  try {
    fn_(std::move(res));
  } catch (const std::exception& e) {
    monitoring::log(monitoring::log_component::service)
        .error("service '{}': the caller's answer callback threw: {} request_id={} trace_id={}",
               service_, e.what(), ctx_ ? ctx_->request_id : "-",
               monitoring::trace_id_of(ctx_ ? ctx_->traceparent : ""));
  } catch (...) {
    monitoring::log(monitoring::log_component::service)
        .error(
            "service '{}': the caller's answer callback threw a non-standard exception "
            "request_id={} trace_id={}",
            service_, ctx_ ? ctx_->request_id : "-",
            monitoring::trace_id_of(ctx_ ? ctx_->traceparent : ""));
  }
}

caf::error validate(const service_proxy_options& options) {
  if (options.breaker)
    if (auto b = circuit_breaker::make(*options.breaker); !b)
      return make_error(errc::bad_request, key_of("circuit_breaker", b.error()),
                        detail_of(b.error()));
  if (options.bulkhead)
    if (auto b = bulkhead::make(*options.bulkhead); !b)
      return make_error(errc::bad_request, key_of("bulkhead", b.error()), detail_of(b.error()));
  if (auto r = retry_schedule::make(options.retry, options.idempotent); !r)
    return make_error(errc::bad_request, key_of("retry", r.error()), detail_of(r.error()));
  return {};
}

service_proxy_actor::behavior_type service_proxy(
    service_proxy_actor::stateful_pointer<service_proxy_state> self,
    service_proxy_options options) {
  auto& st = self->state;
  st.opt = std::move(options);
  // Settings were validated when the megaservice was built (validate()); a
  // policy that fails here is left off rather than taking the service down.
  if (st.opt.breaker)
    if (auto b = circuit_breaker::make(*st.opt.breaker)) st.breaker.emplace(std::move(*b));
  if (st.opt.bulkhead)
    if (auto b = bulkhead::make(*st.opt.bulkhead)) st.bulk.emplace(std::move(*b));
  if (st.opt.retry.attempts > 1)
    if (auto r = retry_schedule::make(st.opt.retry, st.opt.idempotent)) {
      st.retry.emplace(std::move(*r));
      st.budget.emplace(st.opt.retry.budget_percent, st.opt.retry.min_retry_concurrency);
      st.node_loss_budget.emplace(100, std::numeric_limits<uint32_t>::max());
    }
  set_circuit_gauge(st);
  if (st.opt.directory)
    caf::anon_send(st.opt.directory, subscribe_atom::value, st.opt.service,
                   caf::actor_cast<caf::actor>(self));
  self->set_down_handler([self](caf::down_msg& dm) { remove_replica(self, dm.source); });
  return {
      [self](invoke_atom, json_ptr& input, request_context_ptr& ctx) -> caf::result<json_ptr> {
        auto& st = self->state;
        if (!input || !ctx)
          return make_error(errc::bad_request, st.opt.service, "call without input or context");
        auto id = open_call(self, std::move(input), std::move(ctx));
        auto rp = self->make_response_promise<json_ptr>();
        st.calls[id].rp = rp;
        attempt(self, id);
        return rp;
      },
      [self](call_back_atom, json_ptr& input, request_context_ptr& ctx, call_callback& callback) {
        auto& st = self->state;
        if (!callback) return;
        if (!input || !ctx) {
          (*callback)(
              make_error(errc::bad_request, st.opt.service, "call without input or context"));
          return;
        }
        auto id = open_call(self, std::move(input), std::move(ctx));
        st.calls[id].callback = std::move(callback);
        attempt(self, id);
      },
      [self](pretry_atom, uint64_t id) {
        auto& st = self->state;
        auto it = st.calls.find(id);
        if (it == st.calls.end() || it->second.state != phase::backoff) return;
        it->second.state = phase::waiting;
        attempt(self, id);
      },
      [self](psweep_atom, int64_t when) {
        auto& st = self->state;
        if (!st.armed || st.armed_at.time_since_epoch().count() != when) return;  // superseded
        st.armed = false;
        sweep(self);
      },
      [self](service_up_atom, service_actor& actor) {
        auto& st = self->state;
        st.failed = caf::error{};
        st.replicas.clear();
        if (actor) st.replicas.push_back({std::string{}, std::move(actor), endpoint_actor{}, 0});
        release_waiting(self);
      },
      [self](service_down_atom, caf::error& reason, bool for_good) {
        auto& st = self->state;
        st.replicas.clear();
        if (for_good) {
          st.failed = reason ? std::move(reason)
                             : make_error(errc::service_unavailable, st.opt.service,
                                          "it exceeded its restart intensity");
          release_waiting(self);
        }
      },
      [self](rpiece_atom, uint64_t send, std::string& piece) {
        auto& st = self->state;
        auto s = st.sends.find(send);
        if (s == st.sends.end()) return;
        auto it = st.calls.find(s->second);
        if (it == st.calls.end() || !it->second.ctx->sink) return;
        it->second.streamed = true;
        it->second.ctx->sink->write(std::move(piece));
      },
      [self](rreply_atom, uint64_t send, const std::string& bytes) {
        auto& st = self->state;
        auto s = st.sends.find(send);
        if (s == st.sends.end()) {
          drop_late_reply(st, false);
          return;
        }
        auto out = decode_reply(bytes, st.opt.service);
        if (!out) {
          on_result(self, s->second, send, std::move(out.error()));
          return;
        }
        on_result(self, s->second, send, json_ptr{std::make_shared<const json>(std::move(*out))});
      },
      [self](rfail_atom, uint64_t send, uint8_t code, std::string& subject, std::string& detail) {
        auto& st = self->state;
        auto s = st.sends.find(send);
        if (s == st.sends.end()) {
          drop_late_reply(st, static_cast<errc>(code) == errc::cancelled);
          return;
        }
        auto ec = static_cast<errc>(code);
        if (code == 0 || to_string(ec) == std::string{"unknown"}) ec = errc::service_failed;
        if (subject.empty()) subject = st.opt.service;
        on_result(self, s->second, send, make_error(ec, std::move(subject), std::move(detail)));
      },
      [self](pcancel_atom, uint64_t id) {
        auto& st = self->state;
        auto it = st.calls.find(id);
        if (it == st.calls.end()) return;
        auto& call = it->second;
        if (call.state == phase::sent) {
          if (st.breaker && call.breaker_permit) st.breaker->on_ignored(self->clock().now());
          call.breaker_permit = false;
          if (auto* r = find_replica(st, call.replica)) {
            if (r->outstanding > 0) --r->outstanding;
            if (st.opt.distributed) self->send(r->remote, rcancel_atom::value, call.send);
          }
        } else if (call.state == phase::waiting) {
          st.waiting.erase(std::remove(st.waiting.begin(), st.waiting.end(), id),
                           st.waiting.end());
        }
        fail(self, id,
             make_error(errc::cancelled, st.opt.service,
                        "the request was cancelled before the call finished"),
             "cancelled");
      },
      [self](replica_up_atom, const std::string& node, const caf::actor& handle) {
        auto& st = self->state;
        if (!handle) return;
        // Handles cross nodes untyped; this is where one becomes an endpoint.
        auto endpoint = caf::actor_cast<endpoint_actor>(handle);
        for (auto& r : st.replicas) {
          if (r.remote == endpoint) return;
          if (r.node == node) {  // the member restarted: its old endpoint is gone
            remove_replica(self, r.address());
            break;
          }
        }
        self->monitor(endpoint);
        st.replicas.push_back({node, service_actor{}, std::move(endpoint), 0});
        set_replica_gauge(st);
      },
      [self](replica_down_atom, const std::string& node) {
        auto& st = self->state;
        for (auto& r : st.replicas)
          if (r.node == node) {
            remove_replica(self, r.address());
            return;
          }
      },
  };
}

}  // namespace opea::runtime
