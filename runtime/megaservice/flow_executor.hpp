#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>

#include "runtime/dag/flow_state.hpp"
#include "runtime/service/messages.hpp"
#include "runtime/service/service_proxy.hpp"

namespace opea::runtime {
struct flow_env;
using flow_env_ptr = std::shared_ptr<const flow_env>;
}  // namespace opea::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(opea::runtime::flow_env_ptr)

namespace opea::runtime {

/// (flow_cancel_atom, uint64_t flow id): the request's cancellation was
/// tripped (its client left); the flow ends with errc::cancelled.
using flow_cancel_atom = caf::atom_constant<caf::atom("fcancel")>;

/// The interface of a flow executor (see `flow_executor`): (run_atom,
/// flow_env_ptr, flow_job_ptr) starts a flow; (flow_cancel_atom, uint64_t)
/// is internal.
using flow_executor_actor = caf::typed_actor<caf::reacts_to<run_atom, flow_env_ptr, flow_job_ptr>,
                                             caf::reacts_to<flow_cancel_atom, uint64_t>>;

/// What every flow of a megaservice needs, as one immutable snapshot that the
/// supervisor rebuilds whenever a proxy or a flow executor is replaced.
/// Shared read-only between flow executors.
struct flow_env {
  std::shared_ptr<const dag> graph;
  /// The proxy of each service (index = node): every call goes through it
  /// (runtime/service/service_proxy.hpp), which answers by the deadline.
  std::vector<service_proxy_actor> proxies;
  align_hooks hooks;
  /// The megaservice's long-lived flow executors; a request goes to one of them.
  std::vector<flow_executor_actor> executors;
  /// The executor for the next request: round robin, counted per calling
  /// thread (no shared counter between threads).
  const flow_executor_actor& next_executor() const;
};

/// The current flow_env of a megaservice: replaced by its supervisor when a
/// service actor is replaced, read by whoever starts a flow. Thread-safe
/// (atomic shared_ptr operations).
class flow_env_slot {
 public:
  flow_env_ptr load() const { return std::atomic_load(&env_); }
  void store(flow_env_ptr env) {
    std::atomic_store(&env_, std::move(env));
    std::lock_guard<std::mutex> guard{mtx_};
    changed_.notify_all();
  }
  /// Blocks until the slot holds something other than `old` or `timeout`
  /// passed; returns what it holds then. For tests and tools that wait for
  /// a replacement (never call it from an actor).
  flow_env_ptr wait_for_change(const flow_env_ptr& old, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> guard{mtx_};
    changed_.wait_for(guard, timeout, [&] { return load() != old; });
    return load();
  }

 private:
  flow_env_ptr env_;
  std::mutex mtx_;
  std::condition_variable changed_;
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

/// A long-lived actor that runs many requests over a megaservice's graph at
/// once, each as a `running_flow`: it dispatches every node whose
/// predecessors are done at once (siblings run in parallel), merges inputs at
/// joins, applies the align hooks, sends every call to the service's proxy
/// (which alone applies deadline, bulkhead, breaker and retry, and answers
/// every call by its deadline), and calls the job's `done` exactly once.
///
/// Why not one actor per request: on CAF 0.17 every actor that terminates
/// wakes the clock thread (local_actor::cleanup cancels its timeouts), and a
/// spawn allocates and registers an actor; an executor costs one message per
/// request instead.
///
/// Protocol: `flow_executor_actor`.
flow_executor_actor::behavior_type flow_executor(
    flow_executor_actor::stateful_pointer<flow_executor_state> self);

}  // namespace opea::runtime
