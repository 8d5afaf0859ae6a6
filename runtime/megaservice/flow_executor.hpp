#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/stateful_actor.hpp>

#include "monitoring/metrics_registry.hpp"
#include "runtime/dag/flow_state.hpp"
#include "runtime/service/messages.hpp"
#include "runtime/supervision/service_guard.hpp"

namespace opea::runtime {

/// What every flow of a megaservice needs, as one immutable snapshot that the
/// supervisor rebuilds whenever a service actor or a flow executor is
/// replaced. Shared read-only between flow executors.
struct flow_env {
  std::shared_ptr<const dag> graph;
  /// The current actor of each service (index = node); null once it failed for good.
  std::vector<caf::actor> services;
  align_hooks hooks;
  /// Per-service instruments, index = node.
  std::vector<monitoring::service_instruments> instruments;
  /// The supervisor, asked for a fresh handle when a service was restarting.
  caf::actor supervisor;
  /// Breaker and bulkhead per service (index = node); null where neither is
  /// configured. Shared by every executor and every env of the megaservice.
  std::vector<std::shared_ptr<service_guard>> guards;
  /// Retry policy per service (index = node).
  std::vector<retry_policy> retries;
  /// The megaservice's long-lived flow executors; a request goes to one of them.
  std::vector<caf::actor> executors;
  /// The executor for the next request: round robin, counted per calling
  /// thread (no shared counter between threads).
  const caf::actor& next_executor() const;
  /// True when a service may never answer on its own (an actor-bodied one
  /// that does not enforce the deadline itself): the executor then arms one
  /// timer per flow for its deadline. Otherwise flows arm no timer at all (a
  /// CAF timer costs wake-ups of CAF's clock thread): in-process handlers
  /// always return, HTTP calls time out in the client at min(service timeout,
  /// time left), and actors marked answers_by_deadline answer in time.
  bool arm_deadline_timer = false;
};

using flow_env_ptr = std::shared_ptr<const flow_env>;

/// The current flow_env of a megaservice: replaced by its supervisor when a
/// service actor is replaced, read by whoever starts a flow. Thread-safe
/// (atomic shared_ptr operations).
class flow_env_slot {
 public:
  flow_env_ptr load() const { return std::atomic_load(&env_); }
  void store(flow_env_ptr env) { std::atomic_store(&env_, std::move(env)); }

 private:
  flow_env_ptr env_;
};

/// One request in progress on an executor.
struct running_flow {
  running_flow(flow_env_ptr e, flow_job_ptr j) : env(std::move(e)), job(std::move(j)), flow(env->graph) {}
  flow_env_ptr env;
  flow_job_ptr job;
  flow_state flow;
};

struct flow_executor_state {
  flow_executor_state() = default;
  flow_executor_state(const flow_executor_state&) = delete;
  flow_executor_state& operator=(const flow_executor_state&) = delete;
  /// Answers every flow still in progress (the executor stopped or crashed)
  /// with errc::service_unavailable: accepted work is never dropped silently.
  ~flow_executor_state();

  /// Flows in progress by id. Replies carry the id, not a pointer: a flow that
  /// already finished (a sibling failed, the deadline passed) ignores them.
  std::unordered_map<uint64_t, std::unique_ptr<running_flow>> flows;
  uint64_t next_id = 1;
  static inline const char* name = "opea.flow_executor";
};

/// (deadline_atom, uint64_t flow id): a flow's deadline timer fired.
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;

/// (slot_atom, uint64_t flow id, uint32_t node, guard, target, input, retried,
/// uint32_t attempt): a bulkhead slot was handed to a queued call.
using slot_atom = caf::atom_constant<caf::atom("slot")>;

/// (retry_atom, uint64_t flow id, uint32_t node, input, uint32_t attempt): a
/// retry's backoff is over.
using retry_atom = caf::atom_constant<caf::atom("retry")>;

/// A long-lived actor that runs many requests over a megaservice's graph at
/// once, each as a `running_flow`: it dispatches every node whose
/// predecessors are done at once (siblings run in parallel), merges inputs at
/// joins, applies the align hooks, stops dispatching once the deadline
/// passed, and calls the job's `done` exactly once. A call that bounced off a
/// service actor that was down is retried once on the supervisor's fresh
/// actor (it never ran, so this is safe).
///
/// Why not one actor per request: on CAF 0.17 every actor that terminates
/// wakes the clock thread (local_actor::cleanup cancels its timeouts), and a
/// spawn allocates and registers an actor; an executor costs one message per
/// request instead.
///
/// Protocol: (run_atom, flow_env_ptr, flow_job_ptr) starts a flow;
/// (deadline_atom, ...), (slot_atom, ...) and (retry_atom, ...) are internal.
caf::behavior flow_executor(caf::stateful_actor<flow_executor_state>* self);

}  // namespace opea::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(opea::runtime::flow_env_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<opea::runtime::service_guard>)
