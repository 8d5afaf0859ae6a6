#include "runtime/megaservice/supervisor_actor.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include "runtime/errors.hpp"
#include "runtime/service/http_service_actor.hpp"
#include "runtime/service/local_service_actor.hpp"

namespace opea::runtime {

namespace {

using self_ptr = caf::stateful_actor<supervisor_state>*;

caf::actor spawn_child(self_ptr self, size_t i) {
  const auto& spec = self->state.cfg.specs[i];
  if (spec.handler)
    return self->spawn<caf::monitored>(local_service_actor, spec.name, spec.handler);
  if (spec.body) return self->spawn<caf::monitored>(guarded_service_actor, spec.name, spec.body);
  return self->spawn<caf::monitored>(http_service_actor, spec, self->state.cfg.client);
}

caf::actor spawn_proxy(self_ptr self, size_t i) {
  auto& st = self->state;
  auto proxy = self->spawn<caf::monitored>(service_proxy, st.cfg.proxies[i]);
  if (const auto& child = (*st.children)[i])
    self->send(proxy, service_up_atom::value, child);
  else if (st.cfg.board->status(i) == service_status::failed)
    self->send(proxy, service_down_atom::value,
               make_error(errc::service_unavailable, st.cfg.specs[i].name,
                          "it exceeded its restart intensity"),
               true);
  return proxy;
}

void publish_env(self_ptr self) {
  auto env = std::make_shared<flow_env>();
  env->graph = self->state.cfg.graph;
  env->proxies = *self->state.proxies;
  env->hooks = self->state.cfg.hooks;
  env->executors = *self->state.executors;
  self->state.env = env;
  if (self->state.cfg.env_slot) self->state.cfg.env_slot->store(std::move(env));
}

void restart(self_ptr self, size_t i) {
  auto& st = self->state;
  (*st.children)[i] = spawn_child(self, i);
  st.cfg.board->set_status(i, service_status::running);
  st.cfg.board->count_restart(i);
  st.cfg.instruments[i].restarts->Increment();
  st.cfg.instruments[i].up->Set(1);
  self->send((*st.proxies)[i], service_up_atom::value, (*st.children)[i]);
}

/// A proxy or executor went down: replace it. False if `source` is neither.
bool replace_helper(self_ptr self, const caf::actor_addr& source, const caf::error& reason) {
  auto& st = self->state;
  for (auto& x : *st.executors) {
    if (x.address() != source) continue;
    spdlog::error(
        "megaservice '{}': a flow executor went down ({}); its requests in progress were "
        "answered with service_unavailable; starting a new one",
        st.cfg.name, describe(reason));
    x = self->spawn<caf::monitored>(flow_executor);
    publish_env(self);
    return true;
  }
  for (size_t i = 0; i < st.proxies->size(); ++i) {
    if ((*st.proxies)[i].address() != source) continue;
    spdlog::error("megaservice '{}': the proxy of service '{}' went down ({}); starting a new one",
                  st.cfg.name, st.cfg.specs[i].name, describe(reason));
    (*st.proxies)[i] = spawn_proxy(self, i);
    publish_env(self);
    return true;
  }
  return false;
}

}  // namespace

caf::behavior supervisor_actor(caf::stateful_actor<supervisor_state>* self, supervisor_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  auto n = st.cfg.specs.size();
  st.children = std::make_shared<std::vector<caf::actor>>(n);
  st.proxies = std::make_shared<std::vector<caf::actor>>(n);
  for (size_t i = 0; i < n; ++i) st.windows.emplace_back(st.cfg.specs[i].restart);
  // Children start in graph order and stop with the supervisor; a service on
  // cluster members has no actor here, only its proxy.
  for (size_t i = 0; i < n; ++i) {
    if (!st.cfg.specs[i].local()) continue;
    (*st.children)[i] = spawn_child(self, i);
    st.cfg.instruments[i].up->Set(1);
  }
  for (size_t i = 0; i < n; ++i) (*st.proxies)[i] = spawn_proxy(self, i);
  auto executors = st.cfg.executors;
  if (executors == 0) executors = std::max<size_t>(1, self->system().scheduler().num_workers());
  st.executors = std::make_shared<std::vector<caf::actor>>();
  for (size_t i = 0; i < executors; ++i)
    st.executors->push_back(self->spawn<caf::monitored>(flow_executor));
  publish_env(self);
  self->attach_functor([children = st.children, proxies = st.proxies,
                        executors = st.executors](const caf::error&) {
    // Flows first (requests in progress are answered), then the proxies
    // (calls in progress are answered), then the services in reverse order,
    // as OTP stops children.
    for (auto& x : *executors) caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    for (auto& x : *proxies) caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    for (auto i = children->rbegin(); i != children->rend(); ++i)
      if (*i) caf::anon_send_exit(*i, caf::exit_reason::user_shutdown);
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (replace_helper(self, dm.source, dm.reason)) return;
    size_t i = 0;
    while (i < st.children->size() && (*st.children)[i].address() != dm.source) ++i;
    if (i == st.children->size()) return;
    const auto& name = st.cfg.specs[i].name;
    auto delay = st.windows[i].on_crash(std::chrono::steady_clock::now());
    if (!delay) {
      const auto& pol = st.windows[i].policy();
      spdlog::error(
          "megaservice '{}': service '{}' exceeded its restart intensity ({} restarts in "
          "{} ms) and is marked failed; last exit: {}",
          st.cfg.name, name, pol.max_restarts, pol.period.count(), describe(dm.reason));
      (*st.children)[i] = caf::actor{};
      st.cfg.board->set_status(i, service_status::failed);
      st.cfg.instruments[i].up->Set(0);
      self->send((*st.proxies)[i], service_down_atom::value,
                 make_error(errc::service_unavailable, name, "it exceeded its restart intensity"),
                 true);
      return;
    }
    spdlog::warn("megaservice '{}': service '{}' went down ({}); restarting in {} ms", st.cfg.name,
                 name, describe(dm.reason), delay->count());
    st.cfg.board->set_status(i, service_status::restarting);
    if (delay->count() == 0) {
      restart(self, i);
    } else {
      // Until the restart, the proxy keeps calls waiting (bounded by their deadline).
      (*st.children)[i] = caf::actor{};
      self->send((*st.proxies)[i], service_down_atom::value, dm.reason, false);
      self->delayed_send(self, *delay, restart_atom::value, static_cast<uint32_t>(i));
    }
  });
  return {
      [self](run_atom, flow_job_ptr& job) {
        auto& env = self->state.env;
        const auto& target = env->next_executor();
        self->send(target, run_atom::value, env, std::move(job));
      },
      [self](caf::get_atom) -> uint32_t {
        // A round trip: the supervisor has handled what it received before.
        return static_cast<uint32_t>(self->state.children->size());
      },
      [self](restart_atom, uint32_t i) {
        if (i < self->state.children->size()) restart(self, i);
      },
  };
}

}  // namespace opea::runtime
