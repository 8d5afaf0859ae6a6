#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace opea::runtime {

/// The cancellation of one request: tripped once when its client leaves (the
/// HTTP edge: a JSON request's connection closed, a stream's reader gone),
/// when its flow failed so that work still in flight is of no use (sibling
/// branches), or when a remote caller cancels. Whoever started work for the
/// request registers how to stop it: a flow ends at once, a proxy answers its
/// calls and stops remote calls and upstream HTTP requests.
///
/// Thread-safe: every member may be called from any thread (`mtx_` guards the
/// callbacks; `cancelled_` is atomic). Callbacks run on the thread that
/// cancels, once, outside the lock; they must not block.
class cancellation {
 public:
  virtual ~cancellation() = default;

  /// Trips the cancellation and runs the callbacks once. Idempotent.
  void cancel();

  /// True once cancelled: producers stop generating.
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  /// Registers `f`, run once on cancel (right away, on this thread, if
  /// already cancelled).
  void on_cancel(std::function<void()> f);

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mtx_;
  std::vector<std::function<void()>> on_cancel_;
};

using cancellation_ptr = std::shared_ptr<cancellation>;

}  // namespace opea::runtime
