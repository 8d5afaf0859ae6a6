#include "runtime/megaservice/megaservice_actor.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "monitoring/log.hpp"
#include "runtime/errors.hpp"
#include "runtime/instrumented_actor.hpp"

namespace opea::runtime {

namespace {

using self_ptr = caf::stateful_actor<megaservice_actor_state>*;

std::optional<size_t> index_of(self_ptr self, const std::string& id) {
  const auto& specs = self->state.cfg.specs;
  for (size_t i = 0; i < specs.size(); ++i)
    if (specs[i].name == id) return i;
  return std::nullopt;
}

/// Whether the message being handled comes from the current supervisor of
/// the services (events of an old one are stale).
bool from_services(self_ptr self) {
  const auto& st = self->state;
  return st.services && self->current_sender() == st.services.address();
}

/// The supervisor's children are dynamically typed (it supervises any
/// actor); a service's child is cast to its interface here, once.
service_actor as_service(const caf::actor& instance) {
  return caf::actor_cast<service_actor>(instance);
}

service_proxy_actor spawn_proxy(self_ptr self, size_t i) {
  auto& st = self->state;
  auto proxy = spawn_instrumented<caf::monitored>(
      *self, i < st.cfg.proxy_actors.size() ? st.cfg.proxy_actors[i] : nullptr, service_proxy,
      st.cfg.proxies[i]);
  // A replaced proxy learns the service's current actor from the supervisor
  // (the answer waits while it restarts; a child_stopped covers the rest).
  if (st.services && st.cfg.specs[i].local())
    self->request(st.services, caf::infinite, get_child_atom::value, st.cfg.specs[i].name)
        .then(
            [self, proxy](const caf::actor& instance) {
              self->send(proxy, service_up_atom::value, as_service(instance));
            },
            [](const caf::error&) {});
  return proxy;
}

void publish_env(self_ptr self) {
  auto env = std::make_shared<flow_env>();
  env->graph = self->state.cfg.graph;
  env->proxies.assign(self->state.proxies->begin(), self->state.proxies->end());
  env->hooks = self->state.cfg.hooks;
  env->executors = *self->state.executors;
  self->state.env = env;
  if (self->state.cfg.env_slot) self->state.cfg.env_slot->store(std::move(env));
}

/// Service `i` will not come back: calls to it fail with `why`.
void fail_for_good(self_ptr self, size_t i, const caf::error& why) {
  auto& st = self->state;
  st.cfg.board->set_status(i, service_status::failed);
  st.cfg.instruments[i].up->Set(0);
  self->send((*st.proxies)[i], service_down_atom::value, why, true);
}

/// The services' supervisor exited with `reason`. With a live parent it will
/// be restarted (calls wait); otherwise every local service is failed.
void services_gone(self_ptr self, const caf::error& reason) {
  auto& st = self->state;
  st.services = nullptr;
  auto final = !st.parent;
  // The parent's exit (it gave up too) is the better answer: it says why
  // nothing restarts the services any more.
  const auto& cause = final && st.parent_exit ? st.parent_exit : reason;
  auto why = code_of(cause) == errc::restart_intensity
                 ? cause
                 : make_error(errc::service_unavailable, st.cfg.name,
                              "its services' supervisor stopped (" + describe(cause) + ")");
  for (size_t i = 0; i < st.cfg.specs.size(); ++i) {
    if (!st.cfg.specs[i].local()) continue;
    if (final) {
      fail_for_good(self, i, why);
    } else {
      st.cfg.board->set_status(i, service_status::restarting);
      self->send((*st.proxies)[i], service_down_atom::value, why, false);
    }
  }
}

/// A proxy or executor went down: replace it. False if `source` is neither.
bool replace_helper(self_ptr self, const caf::actor_addr& source, const caf::error& reason) {
  auto& st = self->state;
  for (auto& x : *st.executors) {
    if (x.address() != source) continue;
    monitoring::log(monitoring::log_component::megaservice)
        .error(
            "megaservice '{}': a flow executor went down ({}); its requests in progress were "
            "answered with service_unavailable; starting a new one",
            st.cfg.name, describe(reason));
    x = spawn_instrumented<caf::monitored>(*self, st.cfg.executor_actors, flow_executor);
    publish_env(self);
    return true;
  }
  for (size_t i = 0; i < st.proxies->size(); ++i) {
    if ((*st.proxies)[i].address() != source) continue;
    monitoring::log(monitoring::log_component::megaservice)
        .error("megaservice '{}': the proxy of service '{}' went down ({}); starting a new one",
               st.cfg.name, st.cfg.specs[i].name, describe(reason));
    (*st.proxies)[i] = spawn_proxy(self, i);
    if (st.cfg.board->status(i) == service_status::failed)
      self->send((*st.proxies)[i], service_down_atom::value,
                 make_error(errc::service_unavailable, st.cfg.specs[i].name,
                            "it was stopped for good by its supervisor"),
                 true);
    publish_env(self);
    return true;
  }
  return false;
}

}  // namespace

caf::behavior megaservice_actor(caf::stateful_actor<megaservice_actor_state>* self,
                                megaservice_actor_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  auto n = st.cfg.specs.size();
  st.started.assign(n, false);
  st.proxies = std::make_shared<std::vector<service_proxy_actor>>(n);
  for (size_t i = 0; i < n; ++i) (*st.proxies)[i] = spawn_proxy(self, i);
  auto executors = st.cfg.executors;
  if (executors == 0) executors = std::max<size_t>(1, self->system().scheduler().num_workers());
  st.executors = std::make_shared<std::vector<flow_executor_actor>>();
  for (size_t i = 0; i < executors; ++i)
    st.executors->push_back(
        spawn_instrumented<caf::monitored>(*self, st.cfg.executor_actors, flow_executor));
  publish_env(self);
  self->attach_functor([proxies = st.proxies, executors = st.executors](const caf::error&) {
    // Flows first (requests in progress are answered), then the proxies
    // (calls in progress are answered). The service actors belong to their
    // supervisor.
    for (auto& x : *executors) caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    for (auto& x : *proxies) caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (replace_helper(self, dm.source, dm.reason)) return;
    if (st.services && dm.source == st.services.address()) {
      if (dm.reason != caf::exit_reason::user_shutdown || !st.parent)
        monitoring::log(monitoring::log_component::megaservice)
            .error("megaservice '{}': the supervisor of its services exited ({}){}", st.cfg.name,
                   describe(dm.reason),
                   st.parent ? "; its parent supervisor decides whether it restarts"
                             : "; its services are failed for good");
      services_gone(self, dm.reason);
      return;
    }
    if (st.parent && dm.source == st.parent.address()) {
      monitoring::log(monitoring::log_component::megaservice)
          .error(
              "megaservice '{}': the supervisor above its services exited ({}); its "
              "services are failed for good",
              st.cfg.name, describe(dm.reason));
      st.parent = nullptr;
      st.parent_exit = dm.reason;
      if (!st.services) services_gone(self, dm.reason);
      // Otherwise the services' supervisor's own down message follows.
    }
  });
  return {
      [self](run_atom, flow_job_ptr& job) {
        auto& env = self->state.env;
        const auto& target = env->next_executor();
        self->send(target, run_atom::value, env, std::move(job));
      },
      [self](caf::get_atom) -> uint32_t {
        // A round trip: the actor has handled what it received before.
        return static_cast<uint32_t>(self->state.cfg.specs.size());
      },
      [self](call_back_atom, const std::string& service, json_ptr& input, request_context_ptr& ctx,
             call_callback& callback) {
        if (!callback) return;
        auto i = index_of(self, service);
        if (!i) {
          (*callback)(make_error(errc::bad_request, service,
                                 "megaservice '" + self->state.cfg.name + "' has no such service"));
          return;
        }
        self->send((*self->state.proxies)[*i], call_back_atom::value, std::move(input),
                   std::move(ctx), std::move(callback));
      },
      [self](services_atom, const supervisor_handle& services, const caf::actor& parent) {
        auto& st = self->state;
        st.services = services;
        self->monitor(services);
        if (parent && parent != st.parent) {
          st.parent = parent;
          self->monitor(parent);
        }
        self->send(services, watch_children_atom::value, caf::actor_cast<child_watcher>(self));
      },
      [self](child_up_atom, const std::string& id, const caf::actor& instance) {
        auto& st = self->state;
        if (!from_services(self)) return;  // an old supervisor
        auto i = index_of(self, id);
        if (!i) return;
        if (st.started[*i] && st.cfg.board->status(*i) != service_status::running) {
          st.cfg.board->count_restart(*i);
          st.cfg.instruments[*i].restarts->Increment();
        }
        st.started[*i] = true;
        st.cfg.board->set_status(*i, service_status::running);
        st.cfg.instruments[*i].up->Set(1);
        self->send((*st.proxies)[*i], service_up_atom::value, as_service(instance));
      },
      [self](child_down_atom, const std::string& id, const caf::error& reason) {
        auto& st = self->state;
        if (!from_services(self)) return;
        auto i = index_of(self, id);
        if (!i) return;
        // Calls wait for the restart (bounded by their deadline); a
        // child_stopped follows if there will be none.
        st.cfg.board->set_status(*i, service_status::restarting);
        self->send((*st.proxies)[*i], service_down_atom::value, reason, false);
      },
      [self](child_stopped_atom, const std::string& id, const caf::error& why) {
        if (!from_services(self)) return;
        if (auto i = index_of(self, id)) fail_for_good(self, *i, why);
      },
  };
}

}  // namespace opea::runtime
