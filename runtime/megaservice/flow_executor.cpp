#include "runtime/megaservice/flow_executor.hpp"

#include <caf/all.hpp>

#include "runtime/errors.hpp"

namespace opea::runtime {

namespace {

using self_ptr = caf::stateful_actor<flow_executor_state>*;

bool is_sec(const caf::error& err, caf::sec code) {
  return err.category() == caf::atom("system") && err.code() == static_cast<uint8_t>(code);
}

running_flow* find(self_ptr self, uint64_t id) {
  auto i = self->state.flows.find(id);
  return i == self->state.flows.end() ? nullptr : i->second.get();
}

/// Ends flow `id` with `result` (once: later replies find no flow).
void finish(self_ptr self, uint64_t id, caf::expected<flow_result> result) {
  auto i = self->state.flows.find(id);
  if (i == self->state.flows.end()) return;
  auto job = std::move(i->second->job);
  self->state.flows.erase(i);
  job->complete(std::move(result));
}

/// Runs `fn`, part of flow `id`'s work; anything it throws fails that flow
/// only (service_failed naming the megaservice), never the executor.
template <class F>
void guarded(self_ptr self, uint64_t id, F&& fn) {
  auto failed = [&](const std::string& what) {
    auto* f = find(self, id);
    if (f == nullptr) return;
    finish(self, id, make_error(errc::service_failed, f->job->megaservice, "internal error in its flow: " + what));
  };
  try {
    fn();
  } catch (const std::exception& e) {
    failed(e.what());
  } catch (...) {
    failed("a non-standard exception");
  }
}

/// Runs an align hook of flow `id` for `service`; whatever it throws fails
/// that flow naming the hook (and returns false).
template <class F>
bool run_hook(self_ptr self, uint64_t id, const std::string& service, const char* hook, F&& fn) {
  try {
    fn();
    return true;
  } catch (const std::exception& e) {
    finish(self, id,
           make_error(errc::service_failed, service, std::string{hook} + " threw: " + e.what()));
  } catch (...) {
    finish(self, id,
           make_error(errc::service_failed, service,
                      std::string{hook} + " threw a non-standard exception"));
  }
  return false;
}

void fail(self_ptr self, uint64_t id, size_t i, caf::error err) {
  auto* f = find(self, id);
  if (f == nullptr) return;
  const auto& name = f->env->graph->names[i];
  if (err.category() != error_category) {
    if (is_sec(err, caf::sec::request_timeout))
      err = make_error(errc::deadline_exceeded, name,
                       "no reply from service '" + name + "' before the request deadline");
    else if (is_sec(err, caf::sec::request_receiver_down))
      err = make_error(errc::service_unavailable, name, "its actor is down");
    else
      err = make_error(errc::service_failed, name, describe(err));
  }
  f->env->instruments[i].count_error(to_string(code_of(err)));
  finish(self, id, std::move(err));
}

void dispatch(self_ptr self, uint64_t id, size_t i);

void on_output(self_ptr self, uint64_t id, size_t i, const json_ptr& input, json_ptr output) {
  auto* f = find(self, id);
  if (f == nullptr) return;
  const auto& env = *f->env;
  const auto& name = env.graph->names[i];
  if (env.hooks.outputs) {
    if (!run_hook(self, id, name, "align_outputs", [&] {
          output =
              std::make_shared<const json>(env.hooks.outputs(*output, name, *input, *f->job->ctx));
        }))
      return;
  }
  auto ready = f->flow.complete(i, std::move(output));
  if (!ready) {
    env.instruments[i].count_error(to_string(code_of(ready.error())));
    finish(self, id, std::move(ready.error()));
    return;
  }
  for (auto next : *ready) {
    dispatch(self, id, next);
    // A dispatch that failed ended the flow.
    if ((f = find(self, id)) == nullptr) return;
  }
  if (f->flow.finished()) {
    const auto& fs = f->flow;
    const auto& names = f->env->graph->names;
    flow_result res;
    res.output = fs.final_output();
    for (auto leaf : fs.leaves_reached()) res.leaves.push_back(names[leaf]);
    for (size_t n = 0; n < names.size(); ++n)
      if (fs.state(n) == flow_state::node_state::done) res.results.emplace_back(names[n], fs.output(n));
    finish(self, id, std::move(res));
  }
}

void call(self_ptr self, uint64_t id, size_t i, const caf::actor& target, const json_ptr& input,
          bool retried, uint32_t attempt);

caf::duration timeout_of(const request_context& ctx) {
  if (ctx.deadline == clock_type::time_point::max()) return caf::infinite;
  return caf::duration{ctx.remaining()};
}

/// Asks the supervisor for the current actor of service i (waiting for a
/// restart in progress), then calls it; a call sent this way is not retried.
void lookup_and_call(self_ptr self, uint64_t id, size_t i, const json_ptr& input,
                     uint32_t attempt) {
  auto* f = find(self, id);
  if (f == nullptr) return;
  self->request(f->env->supervisor, timeout_of(*f->job->ctx), lookup_atom::value,
                static_cast<uint32_t>(i))
      .then(
          [=](caf::actor& fresh) {
            guarded(self, id, [&] { call(self, id, i, fresh, input, true, attempt); });
          },
          [=](caf::error& err) { guarded(self, id, [&] { fail(self, id, i, std::move(err)); }); });
}

/// After call number `attempt` to service i failed with `err`: when the
/// service's retry policy allows another attempt for this error and the
/// deadline leaves room for the backoff, schedules it (retry_atom) and
/// returns true.
bool retry_later(self_ptr self, uint64_t id, size_t i, const json_ptr& input, uint32_t attempt,
                 const caf::error& err) {
  auto* f = find(self, id);
  if (f == nullptr || i >= f->env->retries.size()) return false;
  const auto& policy = f->env->retries[i];
  if (attempt >= policy.attempts || !retry_policy::is_transient(err)) return false;
  auto wait = policy.backoff_before(attempt);
  const auto& ctx = *f->job->ctx;
  if (ctx.deadline != clock_type::time_point::max() && ctx.remaining() <= wait) return false;
  if (auto* retries = f->env->instruments[i].retries) retries->Increment();
  self->delayed_send(self, wait, retry_atom::value, id, static_cast<uint32_t>(i), input,
                     attempt + 1);
  return true;
}

/// A retry's backoff is over: call the service's current actor again.
void retry_now(self_ptr self, uint64_t id, size_t i, const json_ptr& input, uint32_t attempt) {
  auto* f = find(self, id);
  if (f == nullptr) return;
  const auto& target = f->env->services[i];
  if (!target) {
    lookup_and_call(self, id, i, input, attempt);
    return;
  }
  call(self, id, i, target, input, false, attempt);
}

/// Sends one admitted call to service i and handles its answer; `guard`
/// (null when the service has none) gets the call's outcome.
void send_call(self_ptr self, uint64_t id, size_t i, const caf::actor& target,
               const json_ptr& input, bool retried, uint32_t attempt,
               std::shared_ptr<service_guard> guard, service_guard::admission ticket) {
  auto* f = find(self, id);
  if (f == nullptr) {
    if (guard) guard->cancel(ticket);
    return;
  }
  const auto& ctx = f->job->ctx;
  // Registry-owned instruments: valid after the flow (and its env) are gone.
  const auto& ins = f->env->instruments[i];
  auto* duration = ins.duration;
  ins.requests->Increment();
  auto started = clock_type::now();
  // No per-call timer: see flow_env::arm_deadline_timer.
  self->request(target, caf::infinite, invoke_atom::value, input, ctx)
      .then(
          [=](json_ptr& output) {
            auto now = clock_type::now();
            duration->Observe(std::chrono::duration<double>(now - started).count());
            // Released whether or not the flow still runs: the call is over.
            if (guard) guard->release(ticket, false, now);
            guarded(self, id, [&] { on_output(self, id, i, input, std::move(output)); });
          },
          [=](caf::error& err) {
            auto now = clock_type::now();
            duration->Observe(std::chrono::duration<double>(now - started).count());
            bool bounced = !retried && is_sec(err, caf::sec::request_receiver_down);
            // A call that bounced off a restarting actor never ran: not a failure.
            if (guard) guard->release(ticket, !bounced && service_guard::counts_as_failure(err), now);
            guarded(self, id, [&] {
              if (bounced) {
                // The actor died before it saw the call (it is being restarted): ask
                // the supervisor for the fresh one and send the call once more.
                lookup_and_call(self, id, i, input, attempt);
                return;
              }
              if (!retry_later(self, id, i, input, attempt, err)) fail(self, id, i, std::move(err));
            });
          });
}

void call(self_ptr self, uint64_t id, size_t i, const caf::actor& target, const json_ptr& input,
          bool retried, uint32_t attempt) {
  auto* f = find(self, id);
  if (f == nullptr) return;
  const auto& ctx = f->job->ctx;
  if (ctx->deadline != clock_type::time_point::max() &&
      ctx->remaining() <= std::chrono::nanoseconds::zero()) {
    const auto& name = f->env->graph->names[i];
    fail(self, id, i,
         make_error(errc::deadline_exceeded, name,
                    "the deadline passed before service '" + name + "' was dispatched"));
    return;
  }
  if (i >= f->env->guards.size() || !f->env->guards[i]) {
    send_call(self, id, i, target, input, retried, attempt, nullptr, {});
    return;
  }
  // Breaker and bulkhead: a refused call is never sent; a queued one is sent
  // when a slot is handed to it (slot_atom).
  auto guard = f->env->guards[i];
  std::function<void()> on_slot;
  if (guard->queues())
    on_slot = [executor = caf::actor_cast<caf::actor>(self), id, i, guard, target, input,
               retried, attempt] {
      caf::anon_send(executor, slot_atom::value, id, static_cast<uint32_t>(i), guard, target,
                     input, retried, attempt);
    };
  auto ticket = guard->admit(clock_type::now(), std::move(on_slot));
  if (ticket.error) {
    fail(self, id, i, std::move(ticket.error));
    return;
  }
  if (!ticket.queued)
    send_call(self, id, i, target, input, retried, attempt, std::move(guard), ticket);
}

/// A bulkhead slot was handed to a call of flow `id` that waited for one.
void on_slot(self_ptr self, uint64_t id, size_t i, const std::shared_ptr<service_guard>& guard,
             const caf::actor& target, const json_ptr& input, bool retried, uint32_t attempt) {
  auto* f = find(self, id);
  if (f == nullptr) {  // the flow ended while the call waited
    guard->cancel({});
    return;
  }
  if (f->job->ctx->expired()) {
    guard->cancel({});
    const auto& name = f->env->graph->names[i];
    fail(self, id, i,
         make_error(errc::deadline_exceeded, name,
                    "the deadline passed while the call waited for a free slot of service '" +
                        name + "' (max_in_flight)"));
    return;
  }
  auto ticket = guard->resume(clock_type::now());
  if (ticket.error) {
    fail(self, id, i, std::move(ticket.error));
    return;
  }
  send_call(self, id, i, target, input, retried, attempt, guard, ticket);
}

void dispatch(self_ptr self, uint64_t id, size_t i) {
  auto* f = find(self, id);
  if (f == nullptr) return;
  const auto& env = *f->env;
  const auto& name = env.graph->names[i];
  const auto& job = *f->job;
  if (job.ctx->expired()) {
    fail(self, id, i,
         make_error(errc::deadline_exceeded, name,
                    "the deadline passed before service '" + name + "' was dispatched"));
    return;
  }
  auto input = f->flow.input_of(i, job.input);
  if (!input) {
    finish(self, id, std::move(input.error()));
    return;
  }
  json_ptr in = std::move(*input);
  if (env.hooks.inputs) {
    if (!run_hook(self, id, name, "align_inputs", [&] {
          in = std::make_shared<const json>(env.hooks.inputs(*in, name, *job.ctx));
        }))
      return;
  }
  const auto& target = env.services[i];
  if (!target) {
    // Restarting or failed: the supervisor knows which.
    lookup_and_call(self, id, i, in, 1);
    return;
  }
  call(self, id, i, target, in, false, 1);
}

void start(self_ptr self, flow_env_ptr env, flow_job_ptr job) {
  auto id = self->state.next_id++;
  auto owned = std::make_unique<running_flow>(std::move(env), std::move(job));
  auto* f = owned.get();
  self->state.flows.emplace(id, std::move(owned));
  guarded(self, id, [&] {
    const auto& ctx = *f->job->ctx;
    if (f->env->arm_deadline_timer && ctx.deadline != clock_type::time_point::max())
      // CAF 0.17 cannot cancel it; it only holds the executor and the id.
      self->delayed_send(self, ctx.remaining(), deadline_atom::value, id);
    for (auto i : f->flow.start()) {
      dispatch(self, id, i);
      if (find(self, id) == nullptr) return;
    }
  });
}

void on_deadline(self_ptr self, uint64_t id) {
  auto* f = find(self, id);
  if (f == nullptr) return;
  const auto& names = f->env->graph->names;
  std::string waiting;
  size_t first = names.size();
  for (size_t i = 0; i < names.size(); ++i) {
    if (f->flow.state(i) != flow_state::node_state::running) continue;
    if (first == names.size()) first = i;
    waiting += (waiting.empty() ? "'" : ", '") + names[i] + "'";
  }
  if (first == names.size()) first = 0;
  fail(self, id, first,
       make_error(errc::deadline_exceeded, names[first],
                  "no reply from service " + waiting + " before the request deadline"));
}

}  // namespace

const caf::actor& flow_env::next_executor() const {
  thread_local size_t turn = 0;
  return executors[turn++ % executors.size()];
}

flow_executor_state::~flow_executor_state() {
  auto left = std::move(flows);
  for (auto& [id, f] : left) {
    if (!f->job) continue;
    const auto& names = f->env->graph->names;
    std::string subject = f->job->megaservice;
    for (size_t i = 0; i < names.size(); ++i)
      if (f->flow.state(i) == flow_state::node_state::running) {
        subject = names[i];
        break;
      }
    f->job->complete(make_error(errc::service_unavailable, subject,
                                "the megaservice's flow executor stopped before the request "
                                "finished"));
  }
}

caf::behavior flow_executor(caf::stateful_actor<flow_executor_state>* self) {
  return {
      [self](run_atom, flow_env_ptr& env, flow_job_ptr& job) {
        start(self, std::move(env), std::move(job));
      },
      [self](deadline_atom, uint64_t id) { guarded(self, id, [&] { on_deadline(self, id); }); },
      [self](slot_atom, uint64_t id, uint32_t i, const std::shared_ptr<service_guard>& guard,
             const caf::actor& target, const json_ptr& input, bool retried, uint32_t attempt) {
        guarded(self, id, [&] { on_slot(self, id, i, guard, target, input, retried, attempt); });
      },
      [self](retry_atom, uint64_t id, uint32_t i, const json_ptr& input, uint32_t attempt) {
        guarded(self, id, [&] { retry_now(self, id, i, input, attempt); });
      },
  };
}

}  // namespace opea::runtime
