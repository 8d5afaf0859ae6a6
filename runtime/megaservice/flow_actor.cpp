#include "runtime/megaservice/flow_actor.hpp"

#include <caf/all.hpp>

#include "runtime/errors.hpp"

namespace opea::runtime {

namespace {

using self_ptr = caf::stateful_actor<flow_actor_state>*;

bool is_sec(const caf::error& err, caf::sec code) {
  return err.category() == caf::atom("system") && err.code() == static_cast<uint8_t>(code);
}

void finish(self_ptr self, const flow_job_ptr& job, caf::expected<flow_result> result) {
  if (self->state.finished) return;
  self->state.finished = true;
  job->done(std::move(result));
  self->quit();
}

void fail(self_ptr self, const flow_env_ptr& env, const flow_job_ptr& job, size_t i,
          caf::error err) {
  const auto& name = env->graph->names[i];
  if (err.category() != error_category) {
    if (is_sec(err, caf::sec::request_timeout))
      err = make_error(errc::deadline_exceeded, name,
                       "no reply from service '" + name + "' before the request deadline");
    else if (is_sec(err, caf::sec::request_receiver_down))
      err = make_error(errc::service_unavailable, name, "its actor is down");
    else
      err = make_error(errc::service_failed, name, describe(err));
  }
  env->instruments[i].count_error(to_string(code_of(err)));
  finish(self, job, std::move(err));
}

void dispatch(self_ptr self, const flow_env_ptr& env, const flow_job_ptr& job, size_t i);

void on_output(self_ptr self, const flow_env_ptr& env, const flow_job_ptr& job, size_t i,
               const json_ptr& input, json_ptr output) {
  if (self->state.finished) return;
  const auto& name = env->graph->names[i];
  if (env->hooks.outputs) {
    try {
      output = std::make_shared<const json>(env->hooks.outputs(*output, name, *input, *job->ctx));
    } catch (const std::exception& e) {
      finish(
          self, job,
          make_error(errc::service_failed, name, std::string{"align_outputs threw: "} + e.what()));
      return;
    }
  }
  auto ready = self->state.flow->complete(i, std::move(output));
  if (!ready) {
    env->instruments[i].count_error(to_string(code_of(ready.error())));
    finish(self, job, std::move(ready.error()));
    return;
  }
  for (auto next : *ready) {
    if (self->state.finished) return;
    dispatch(self, env, job, next);
  }
  if (self->state.flow->finished()) {
    auto& fs = *self->state.flow;
    flow_result res;
    res.output = fs.final_output();
    for (auto leaf : fs.leaves_reached()) res.leaves.push_back(env->graph->names[leaf]);
    for (size_t n = 0; n < env->graph->size(); ++n)
      if (fs.state(n) == flow_state::node_state::done)
        res.results.emplace_back(env->graph->names[n], fs.output(n));
    finish(self, job, std::move(res));
  }
}

void call(self_ptr self, const flow_env_ptr& env, const flow_job_ptr& job, size_t i,
          const caf::actor& target, const json_ptr& input, bool retried);

caf::duration timeout_of(const request_context& ctx) {
  if (ctx.deadline == clock_type::time_point::max()) return caf::infinite;
  return caf::duration{ctx.remaining()};
}

/// Asks the supervisor for the current actor of service i (waiting for a
/// restart in progress), then calls it; a call sent this way is not retried.
void lookup_and_call(self_ptr self, const flow_env_ptr& env, const flow_job_ptr& job, size_t i,
                     const json_ptr& input) {
  self->request(env->supervisor, timeout_of(*job->ctx), lookup_atom::value,
                static_cast<uint32_t>(i))
      .then([=](caf::actor& fresh) { call(self, env, job, i, fresh, input, true); },
            [=](caf::error& err) { fail(self, env, job, i, std::move(err)); });
}

void call(self_ptr self, const flow_env_ptr& env, const flow_job_ptr& job, size_t i,
          const caf::actor& target, const json_ptr& input, bool retried) {
  const auto& ctx = job->ctx;
  if (ctx->deadline != clock_type::time_point::max() &&
      ctx->remaining() <= std::chrono::nanoseconds::zero()) {
    fail(self, env, job, i,
         make_error(
             errc::deadline_exceeded, env->graph->names[i],
             "the deadline passed before service '" + env->graph->names[i] + "' was dispatched"));
    return;
  }
  // No per-call timer: see flow_env::arm_deadline_timer.
  auto timeout = caf::infinite;
  // Pointer, not a copy: the instruments hold label maps.
  const auto* ins = &env->instruments[i];
  ins->requests->Increment();
  auto started = clock_type::now();
  self->request(target, timeout, invoke_atom::value, input, ctx)
      .then(
          [=](json_ptr& output) {
            ins->duration->Observe(
                std::chrono::duration<double>(clock_type::now() - started).count());
            on_output(self, env, job, i, input, std::move(output));
          },
          [=](caf::error& err) {
            ins->duration->Observe(
                std::chrono::duration<double>(clock_type::now() - started).count());
            if (self->state.finished) return;
            if (!retried && is_sec(err, caf::sec::request_receiver_down)) {
              // The actor died before it saw the call (it is being restarted): ask
              // the supervisor for the fresh one and send the call once more.
              lookup_and_call(self, env, job, i, input);
              return;
            }
            fail(self, env, job, i, std::move(err));
          });
}

void dispatch(self_ptr self, const flow_env_ptr& env, const flow_job_ptr& job, size_t i) {
  const auto& name = env->graph->names[i];
  if (job->ctx->expired()) {
    fail(self, env, job, i,
         make_error(errc::deadline_exceeded, name,
                    "the deadline passed before service '" + name + "' was dispatched"));
    return;
  }
  auto input = self->state.flow->input_of(i, job->input);
  if (!input) {
    finish(self, job, std::move(input.error()));
    return;
  }
  json_ptr in = std::move(*input);
  if (env->hooks.inputs) {
    try {
      in = std::make_shared<const json>(env->hooks.inputs(*in, name, *job->ctx));
    } catch (const std::exception& e) {
      finish(
          self, job,
          make_error(errc::service_failed, name, std::string{"align_inputs threw: "} + e.what()));
      return;
    }
  }
  const auto& target = env->services[i];
  if (!target) {
    // Restarting or failed: the supervisor knows which.
    lookup_and_call(self, env, job, i, in);
    return;
  }
  call(self, env, job, i, target, in, false);
}

}  // namespace

caf::behavior deadline_relay_actor(caf::event_based_actor*) {
  return {
      [](deadline_atom, const caf::weak_actor_ptr& flow) {
        if (auto alive = flow.lock())
          caf::anon_send(caf::actor_cast<caf::actor>(alive), deadline_atom::value);
      },
  };
}

caf::behavior flow_actor(caf::stateful_actor<flow_actor_state>* self, flow_env_ptr env,
                         flow_job_ptr job) {
  self->state.flow = std::make_unique<flow_state>(env->graph);
  if (env->arm_deadline_timer && job->ctx->deadline != clock_type::time_point::max()) {
    auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
    if (env->deadline_relay)
      // Anonymous: a delayed_send would carry the flow as its (strong) sender.
      caf::delayed_anon_send(env->deadline_relay, job->ctx->remaining(), deadline_atom::value,
                             std::move(weak));
    else
      self->delayed_send(self, job->ctx->remaining(), deadline_atom::value);
  }
  for (auto i : self->state.flow->start()) {
    if (self->state.finished) break;
    dispatch(self, env, job, i);
  }
  return {
      [self, env, job](deadline_atom) {
        if (self->state.finished) return;
        std::string waiting;
        size_t first = env->graph->size();
        for (size_t i = 0; i < env->graph->size(); ++i) {
          if (self->state.flow->state(i) != flow_state::node_state::running) continue;
          if (first == env->graph->size()) first = i;
          waiting += (waiting.empty() ? "'" : ", '") + env->graph->names[i] + "'";
        }
        if (first == env->graph->size()) first = 0;
        fail(self, env, job, first,
             make_error(errc::deadline_exceeded, env->graph->names[first],
                        "no reply from service " + waiting + " before the request deadline"));
      },
  };
}

}  // namespace opea::runtime
