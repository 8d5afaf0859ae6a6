#include "runtime/megaservice/flow_executor.hpp"

#include <caf/all.hpp>

#include "runtime/errors.hpp"

namespace opea::runtime {

namespace {

using self_ptr = flow_executor_actor::stateful_pointer<flow_executor_state>;

bool is_sec(const caf::error& err, caf::sec code) {
  return err.category() == caf::atom("system") && err.code() == static_cast<uint8_t>(code);
}

running_flow* find(self_ptr self, uint64_t id) {
  auto i = self->state.flows.find(id);
  return i == self->state.flows.end() ? nullptr : i->second.get();
}

/// Ends flow `id` with `result` (once: later replies find no flow). A flow
/// that failed trips its request's cancellation, so the calls it still has
/// in flight (sibling branches) stop.
void finish(self_ptr self, uint64_t id, caf::expected<flow_result> result) {
  auto i = self->state.flows.find(id);
  if (i == self->state.flows.end()) return;
  auto job = std::move(i->second->job);
  self->state.flows.erase(i);
  if (!result && job->ctx->cancel) job->ctx->cancel->cancel();
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

/// Ends flow `id` with the error of its call to service i. The proxy's
/// errors are runtime errors already; CAF's own (the proxy was down) are
/// named after the service.
void fail(self_ptr self, uint64_t id, size_t i, caf::error err) {
  auto* f = find(self, id);
  if (f == nullptr) return;
  const auto& name = f->env->graph->names[i];
  if (err.category() != error_category) {
    if (is_sec(err, caf::sec::request_receiver_down))
      err = make_error(errc::service_unavailable, name, "its proxy is down");
    else
      err = make_error(errc::service_failed, name, describe(err));
  }
  finish(self, id, std::move(err));
}

void dispatch(self_ptr self, uint64_t id, size_t i);

void on_output(self_ptr self, uint64_t id, size_t i, const json_ptr& input, json_ptr output) {
  auto* f = find(self, id);
  if (f == nullptr) return;
  const auto& env = *f->env;
  const auto& name = env.graph->names[i];
  std::vector<size_t> pruned;
  if (env.hooks.outputs) {
    if (!run_hook(self, id, name, "align_outputs", [&] {
          auto r = env.hooks.outputs(*output, align_node{i, name}, *input, *f->job->ctx);
          if (r.patch) output = apply_patch(output, *r.patch);
          pruned = std::move(r.pruned);
        }))
      return;
  }
  auto ready = f->flow.complete(i, std::move(output), pruned);
  if (!ready) {
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

/// Runs DAG node i of flow `id`: its input (merged at joins), the
/// align_inputs hook, then the call through the service's proxy. The proxy
/// answers every call exactly once and by the request's deadline, so the
/// flow needs no timer of its own.
void dispatch(self_ptr self, uint64_t id, size_t i) {
  auto* f = find(self, id);
  if (f == nullptr) return;
  const auto& env = *f->env;
  const auto& name = env.graph->names[i];
  const auto& job = *f->job;
  auto input = f->flow.input_of(i, job.input);
  if (!input) {
    finish(self, id, std::move(input.error()));
    return;
  }
  json_ptr in = std::move(*input);
  if (env.hooks.inputs) {
    if (!run_hook(self, id, name, "align_inputs", [&] {
          auto r = env.hooks.inputs(*in, align_node{i, name}, *job.ctx);
          if (r.patch) in = apply_patch(in, *r.patch);
        }))
      return;
  }
  self->request(env.proxies[i], caf::infinite, invoke_atom::value, in, job.ctx)
      .then(
          [=](json_ptr& output) {
            guarded(self, id, [&] { on_output(self, id, i, in, std::move(output)); });
          },
          [=](caf::error& err) { guarded(self, id, [&] { fail(self, id, i, std::move(err)); }); });
}

void start(self_ptr self, flow_env_ptr env, flow_job_ptr job) {
  auto id = self->state.next_id++;
  auto owned = std::make_unique<running_flow>(std::move(env), std::move(job));
  auto* f = owned.get();
  self->state.flows.emplace(id, std::move(owned));
  if (const auto& cancel = f->job->ctx->cancel)
    cancel->on_cancel([executor = caf::actor_cast<flow_executor_actor>(self), id] {
      caf::anon_send(executor, flow_cancel_atom::value, id);
    });
  guarded(self, id, [&] {
    for (auto i : f->flow.start()) {
      dispatch(self, id, i);
      if (find(self, id) == nullptr) return;
    }
  });
}

}  // namespace

const flow_executor_actor& flow_env::next_executor() const {
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

flow_executor_actor::behavior_type flow_executor(
    flow_executor_actor::stateful_pointer<flow_executor_state> self) {
  return {
      [self](run_atom, flow_env_ptr& env, flow_job_ptr& job) {
        start(self, std::move(env), std::move(job));
      },
      [self](flow_cancel_atom, uint64_t id) {
        auto* f = find(self, id);
        if (f == nullptr) return;
        finish(self, id,
               make_error(errc::cancelled, f->job->megaservice,
                          "the request was cancelled (its client went away) before it finished"));
      },
  };
}

}  // namespace opea::runtime
