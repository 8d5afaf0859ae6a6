#pragma once

#include <atomic>
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
  /// True when a service may never answer on its own (an actor-bodied one):
  /// the flow then arms one timer for its deadline. Otherwise calls carry no
  /// timer at all (a CAF request timeout costs two wake-ups of CAF's clock
  /// thread per hop): in-process handlers always return, and HTTP calls time
  /// out in the client at min(service timeout, time left).
  bool arm_deadline_timer = false;
  /// Receives each flow's deadline timer message, (deadline_atom,
  /// caf::weak_actor_ptr flow), and passes it on if the flow still runs. The
  /// timer (CAF 0.17 cannot cancel a delayed_send) then holds a weak
  /// reference: a finished flow's memory is freed at once instead of when its
  /// deadline passes (~1.4 KB per request for the whole deadline otherwise).
  caf::actor deadline_relay;
};

using flow_env_ptr = std::shared_ptr<const flow_env>;

/// The current flow_env of a megaservice: replaced by its supervisor when a
/// service actor is replaced, read by whoever spawns a flow. Thread-safe
/// (atomic shared_ptr operations).
class flow_env_slot {
 public:
  flow_env_ptr load() const { return std::atomic_load(&env_); }
  void store(flow_env_ptr env) { std::atomic_store(&env_, std::move(env)); }

 private:
  flow_env_ptr env_;
};

struct flow_actor_state {
  std::unique_ptr<flow_state> flow;
  bool finished = false;
  static inline const char* name = "opea.flow";
};

/// (deadline_atom): the flow's deadline timer fired.
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;

/// Forwards (deadline_atom, weak_actor_ptr) to the flow if it is alive.
caf::behavior deadline_relay_actor(caf::event_based_actor* self);

/// Runs one request over the graph: dispatches every node whose predecessors
/// are done at once (siblings run in parallel), merges inputs at joins,
/// applies the align hooks, stops dispatching once the deadline passed, and
/// calls `job->done` exactly once before quitting. A call that bounced off a
/// service actor that was down is retried once on the supervisor's fresh
/// actor (it never ran, so this is safe).
caf::behavior flow_actor(caf::stateful_actor<flow_actor_state>* self, flow_env_ptr env,
                         flow_job_ptr job);

}  // namespace opea::runtime
