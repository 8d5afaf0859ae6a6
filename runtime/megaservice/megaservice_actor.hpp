#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/stateful_actor.hpp>

#include "runtime/megaservice/flow_executor.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "runtime/service/service_proxy.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace opea::runtime {

/// Everything the actor of one megaservice is started with.
struct megaservice_actor_config {
  std::string name;
  std::shared_ptr<const dag> graph;
  std::vector<micro_service> specs;
  align_hooks hooks;
  std::vector<monitoring::service_instruments> instruments;
  std::shared_ptr<status_board> board;
  /// Where the actor publishes the current flow_env.
  std::shared_ptr<flow_env_slot> env_slot;
  /// Flow executors to run; 0: one per scheduler worker.
  size_t executors = 0;
  /// The settings of each service's proxy (index = node).
  std::vector<service_proxy_options> proxies;
  /// The actor series of each service's proxy (index = node) and of the
  /// flow executors (one series for the pool); null: not measured.
  std::vector<monitoring::actor_instruments_ptr> proxy_actors;
  monitoring::actor_instruments_ptr executor_actors;
};

/// (services_atom, supervisor_handle services, caf::actor parent): the
/// supervisor of the megaservice's service actors started (again); `parent`
/// is the supervisor above it, which restarts it after it escalated (null
/// when there is none: then its exit is final).
using services_atom = caf::atom_constant<caf::atom("services")>;

struct megaservice_actor_state {
  megaservice_actor_config cfg;
  /// The proxy of each service; shared with the exit hook.
  std::shared_ptr<std::vector<service_proxy_actor>> proxies;
  /// The flow executors (flow_env::executors); shared with the exit hook.
  std::shared_ptr<std::vector<flow_executor_actor>> executors;
  /// The current supervisor of the service actors and its parent (null
  /// until the first services_atom).
  supervisor_handle services;
  caf::actor parent;
  /// Why the parent exited, once it did: the reason given for the services.
  caf::error parent_exit;
  /// Whether each service's actor was started before: the next start is a
  /// restart.
  std::vector<bool> started;
  flow_env_ptr env;
  static inline const char* name = "opea.megaservice";
};

/// The actor of a megaservice: runs one proxy per service (the one call
/// path, runtime/service/service_proxy.hpp) and the flow executors, and
/// follows the OTP supervisor of the service actors (runtime/supervision):
/// it subscribes to it (watch_children) and tells each proxy when its
/// service's actor starts (service_up), goes down and will be restarted
/// (service_down, calls wait bounded by their deadline) or is stopped for
/// good (service_down for good: calls fail with the reason, e.g. the
/// service exceeded its restart intensity). When the supervisor itself
/// exits past its intensity, its parent (if any) restarts it and the calls
/// wait; without a parent, or when the parent is gone too, every service is
/// failed for good. It keeps status_board and the service metrics (up,
/// restarts) current. A proxy or executor that crashed is replaced (an
/// executor's requests in progress were answered with
/// errc::service_unavailable).
/// Protocol: (run_atom, flow_job_ptr) starts a flow on an executor;
/// (caf::get_atom) -> uint32_t answers the number of services (a round trip
/// after everything the actor received before); (call_back_atom, name,
/// input, context, callback) passes a call to the proxy of service `name`
/// (for calls made before the proxies were published); services_atom above;
/// child_up / child_down / child_stopped from the services' supervisor.
caf::behavior megaservice_actor(caf::stateful_actor<megaservice_actor_state>* self,
                                megaservice_actor_config cfg);

}  // namespace opea::runtime
