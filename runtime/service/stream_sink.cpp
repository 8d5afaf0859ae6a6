#include "runtime/service/stream_sink.hpp"

namespace opea::runtime {

void stream_sink::cancel() {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (cancelled_.exchange(true, std::memory_order_acq_rel)) return;
    callbacks.swap(on_cancel_);
  }
  for (auto& f : callbacks) f();
}

void stream_sink::on_cancel(std::function<void()> f) {
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
