#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>

namespace opea::runtime {

/// OTP's restart intensity: at most `max_restarts` restarts within `period`.
/// Defaults: 5 restarts in 10 s, as in opea-node's config.
struct restart_policy {
  size_t max_restarts = 5;
  std::chrono::milliseconds period{10000};
  /// First restart in a window is immediate; each further one waits
  /// `backoff_base * 2^(n-1)`, capped at `backoff_max`. Default: 10 ms, 1 s.
  std::chrono::milliseconds backoff_base{10};
  std::chrono::milliseconds backoff_max{1000};
};

/// Decides whether a crashed child may restart, and after what delay. A plain
/// class that takes `now` as an argument, so it is tested without actors or
/// sleeps. Not thread-safe: owned by one supervisor actor.
class restart_window {
 public:
  using clock = std::chrono::steady_clock;

  explicit restart_window(restart_policy policy = {}) : policy_(policy) {}

  /// Records a crash at `now`. Returns the delay before the restart, or nullopt
  /// when the intensity is exceeded (more than max_restarts within period):
  /// the child has failed for good and the failure escalates.
  std::optional<std::chrono::milliseconds> on_crash(clock::time_point now);

  /// Restarts counted inside the current window (after pruning at `now`).
  size_t restarts_in_window(clock::time_point now);

  const restart_policy& policy() const { return policy_; }

 private:
  void prune(clock::time_point now);

  restart_policy policy_;
  std::deque<clock::time_point> restarts_;
};

}  // namespace opea::runtime
