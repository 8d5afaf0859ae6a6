#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include <caf/actor_system_config.hpp>

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace opea::runtime {

/// How CAF's scheduler hands jobs to its worker threads.
enum class scheduler_policy {
  /// CAF's work sharing: one shared queue; an idle worker sleeps on a
  /// condition variable, and every job enqueued wakes one.
  sharing,
  /// CAF's work stealing (CAF's own default): per-worker queues; an idle
  /// worker polls the others, backing off to 50 us sleeps.
  stealing,
  /// Work sharing tuned for the chains of messages of one request
  /// (executor -> proxy -> service -> proxy -> executor). A worker whose
  /// actor sends to an idle actor and has nothing else queued (or whose job
  /// is not an actor: a BASP worker handing over a message that came from
  /// another node) keeps that job in its own slot and runs it next (Go's
  /// and Tokio's "LIFO slot"):
  /// no lock on the shared queue, no wake-up of another thread, a warm
  /// cache; after 64 such jobs in a row it serves the shared queue, so
  /// actors that keep sending to each other starve nothing. An idle worker
  /// watches the shared queue (an atomic count, not its mutex, so that
  /// enqueueing threads never sleep on a mutex a poller holds) for
  /// `spin_before_sleep` (5 us) before it sleeps, and an enqueue wakes a
  /// worker only when one sleeps; before sleeping, and while asleep every 2 ms backing off to
  /// 10 ms (an idle node's workers wake about 100 times a second), it takes
  /// a job left in a busy worker's slot, so a sender whose handler keeps its
  /// worker after sending delays that job by 2 to 10 ms at most.
  /// The node's default. A longer poll (50 us) took the CPU of other
  /// processes on the same cores (BENCHMARKS.md, "Scheduler: spin before
  /// sleeping"); the slot's numbers are in "Scheduler: a request's hops on
  /// one worker".
  spinning,
};

/// How long an idle worker of the `spinning` policy polls before it sleeps.
inline constexpr std::chrono::microseconds spin_before_sleep{5};

/// The policies' names, in the order of `scheduler_policy` (the config
/// values of node.scheduler.policy).
inline constexpr std::array<std::string_view, 3> scheduler_policy_names = {"sharing", "stealing",
                                                                           "spinning"};

/// "sharing", "stealing" or "spinning".
[[nodiscard]] std::string_view to_string(scheduler_policy policy);

/// The policy named `name` ("sharing", "stealing" or "spinning"); nullopt
/// for anything else.
[[nodiscard]] std::optional<scheduler_policy> parse_scheduler_policy(std::string_view name);

/// Sets `cfg`'s scheduler: `policy` with `max_threads` workers (0: CAF's
/// default, the number of hardware threads). Call before the actor system
/// is built from `cfg`.
///
/// With `loops` and a policy that `drives_io`, worker i also runs loops[i]
/// between jobs (polled while it spins for work, blocked in while it
/// sleeps, woken by a post): I/O handlers then run on CAF's threads, and
/// what they send goes to the worker that ran them, so an HTTP request can
/// be parsed, routed through its actors and answered without leaving its
/// thread. Workers past the last loop run none, except that any idle worker
/// takes over a loop that no thread has been inside for 1 ms (its worker
/// busy with a long job). The loops must outlive the actor system, and
/// nothing else may run them. Their handlers must not block.
void configure_scheduler(caf::actor_system_config& cfg, scheduler_policy policy,
                         std::size_t max_threads, std::vector<boost::asio::io_context*> loops = {});

/// The event loop that the scheduler worker running on this thread drives
/// (see `configure_scheduler`), or null on any other thread.
[[nodiscard]] boost::asio::io_context* current_io();

/// Whether `policy`'s workers run an event loop given to
/// `configure_scheduler` (only `spinning`'s do).
[[nodiscard]] bool drives_io(scheduler_policy policy);

}  // namespace opea::runtime
