#include "runtime/service/cancellation.hpp"

namespace opea::runtime {

void cancellation::cancel() {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (cancelled_.exchange(true, std::memory_order_acq_rel)) return;
    callbacks.swap(on_cancel_);
  }
  for (auto& f : callbacks) f();
}

void cancellation::on_cancel(std::function<void()> f) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!cancelled_.load(std::memory_order_acquire)) {
      on_cancel_.push_back(std::move(f));
      return;
    }
  }
  f();
}

}  // namespace opea::runtime
