#pragma once

#include <memory>
#include <vector>

#include <caf/actor.hpp>
#include <caf/stateful_actor.hpp>

#include "monitoring/metrics_registry.hpp"
#include "runtime/dag/flow_state.hpp"
#include "runtime/service/messages.hpp"

namespace opea::runtime {

/// What every flow of a megaservice needs, as one immutable snapshot that the
/// supervisor rebuilds whenever a service actor is replaced. Shared read-only
/// between flow actors.
struct flow_env {
  std::shared_ptr<const dag> graph;
  /// The current actor of each service (index = node); null once it failed for good.
  std::vector<caf::actor> services;
  align_hooks hooks;
  /// Per-service instruments, index = node.
  std::vector<monitoring::service_instruments> instruments;
  /// The supervisor, asked for a fresh handle when a service was restarting.
  caf::actor supervisor;
};

using flow_env_ptr = std::shared_ptr<const flow_env>;

struct flow_actor_state {
  std::unique_ptr<flow_state> flow;
  bool finished = false;
  static inline const char* name = "opea.flow";
};

/// Runs one request over the graph: dispatches every node whose predecessors
/// are done at once (siblings run in parallel), merges inputs at joins,
/// applies the align hooks, stops dispatching once the deadline passed, and
/// calls `job->done` exactly once before quitting. A call that bounced off a
/// service actor that was down is retried once on the supervisor's fresh
/// actor (it never ran, so this is safe).
caf::behavior flow_actor(caf::stateful_actor<flow_actor_state>* self, flow_env_ptr env,
                         flow_job_ptr job);

}  // namespace opea::runtime
