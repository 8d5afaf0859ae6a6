#include "runtime/scheduler.hpp"

#include <cstdint>
#include <mutex>

#include <caf/atom.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/scheduler/coordinator.hpp>

namespace opea::runtime {

namespace {

/// CAF's work-sharing policy, except that an idle worker polls the shared
/// queue for `spin_before_sleep` before it waits on the condition variable.
/// Enqueueing is CAF's: with no sleeping worker, notify_one makes no system
/// call. Polling takes the queue's lock with try_lock only, so it never
/// makes an enqueueing thread wait behind a spinner.
class spinning_sharing : public caf::policy::work_sharing {
 public:
  template <class Worker>
  caf::resumable* dequeue(Worker* self) {
    auto& data = d(self->parent());
    auto until = std::chrono::steady_clock::now() + spin_before_sleep;
    for (uint32_t i = 1;; ++i) {
      {
        std::unique_lock<std::mutex> guard{data.lock, std::try_to_lock};
        if (guard.owns_lock() && !data.queue.empty()) {
          auto* job = data.queue.front();
          data.queue.pop_front();
          return job;
        }
      }
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if (i % 64 == 0 && std::chrono::steady_clock::now() >= until) break;
    }
    return caf::policy::work_sharing::dequeue(self);
  }
};

}  // namespace

std::string_view to_string(scheduler_policy policy) {
  return scheduler_policy_names.at(static_cast<size_t>(policy));
}

std::optional<scheduler_policy> parse_scheduler_policy(std::string_view name) {
  for (size_t i = 0; i < scheduler_policy_names.size(); ++i)
    if (scheduler_policy_names[i] == name) return static_cast<scheduler_policy>(i);
  return std::nullopt;
}

void configure_scheduler(caf::actor_system_config& cfg, scheduler_policy policy,
                         std::size_t max_threads) {
  if (max_threads > 0) cfg.set("scheduler.max-threads", max_threads);
  switch (policy) {
    case scheduler_policy::sharing:
      cfg.set("scheduler.policy", caf::atom("sharing"));
      break;
    case scheduler_policy::stealing:
      cfg.set("scheduler.policy", caf::atom("stealing"));
      break;
    case scheduler_policy::spinning:
      // A scheduler module loaded by the user replaces CAF's choice.
      cfg.load<caf::scheduler::coordinator<spinning_sharing>>();
      break;
  }
}

}  // namespace opea::runtime
