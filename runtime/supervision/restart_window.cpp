#include "runtime/supervision/restart_window.hpp"

#include <algorithm>

namespace opea::runtime {

void restart_window::prune(clock::time_point now) {
  while (!restarts_.empty() && now - restarts_.front() >= policy_.period) restarts_.pop_front();
}

size_t restart_window::restarts_in_window(clock::time_point now) {
  prune(now);
  return restarts_.size();
}

std::optional<std::chrono::milliseconds> restart_window::on_crash(clock::time_point now) {
  prune(now);
  if (restarts_.size() >= policy_.max_restarts) return std::nullopt;
  restarts_.push_back(now);
  auto n = restarts_.size();  // 1 for the first restart in this window
  if (n <= 1) return std::chrono::milliseconds{0};
  auto delay = policy_.backoff_base;
  for (size_t i = 2; i < n && delay < policy_.backoff_max; ++i) delay *= 2;
  return std::min(delay, policy_.backoff_max);
}

}  // namespace opea::runtime
