#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/stateful_actor.hpp>

#include "runtime/megaservice/flow_executor.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "runtime/service/service_proxy.hpp"
#include "runtime/supervision/restart_window.hpp"

namespace opea::runtime {

/// Everything the supervisor of one megaservice is started with.
struct supervisor_config {
  std::string name;
  std::shared_ptr<const dag> graph;
  std::vector<micro_service> specs;
  align_hooks hooks;
  std::vector<monitoring::service_instruments> instruments;
  std::shared_ptr<status_board> board;
  std::shared_ptr<http::client> client;
  /// Where the supervisor publishes the current flow_env.
  std::shared_ptr<flow_env_slot> env_slot;
  /// Flow executors to run; 0: one per scheduler worker.
  size_t executors = 0;
  /// The settings of each service's proxy (index = node).
  std::vector<service_proxy_options> proxies;
};

struct supervisor_state {
  supervisor_config cfg;
  /// Current actor per service (null for a service on cluster members);
  /// shared with the exit hook that stops them.
  std::shared_ptr<std::vector<caf::actor>> children;
  /// The proxy of each service; shared with the exit hook.
  std::shared_ptr<std::vector<caf::actor>> proxies;
  std::vector<restart_window> windows;
  /// The flow executors (flow_env::executors); shared with the exit hook.
  std::shared_ptr<std::vector<caf::actor>> executors;
  flow_env_ptr env;
  static inline const char* name = "opea.megaservice";
};

/// The megaservice's supervisor: one_for_one over its service actors, started
/// in graph order and stopped with it. A crashed service restarts immediately
/// the first time in its window and with exponential backoff after that; past
/// its restart intensity it is marked failed (status_board, opea_service_up 0)
/// and calls to it fail with errc::service_unavailable. It runs one proxy per
/// service (runtime/service/service_proxy.hpp), tells it when the service's
/// actor goes down and comes back, and runs the megaservice's flow executors;
/// a proxy or executor that crashed is replaced (an executor's requests in
/// progress were answered with errc::service_unavailable).
/// Protocol: (run_atom, flow_job_ptr) starts a flow on an executor;
/// (caf::get_atom) -> uint32_t answers the number of services (a round trip
/// after everything the supervisor received before); (restart_atom,
/// uint32_t) is internal.
caf::behavior supervisor_actor(caf::stateful_actor<supervisor_state>* self, supervisor_config cfg);

}  // namespace opea::runtime
