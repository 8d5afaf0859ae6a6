#include "monitoring/tracing/memory_transport.hpp"

namespace opea::monitoring {

memory_transport::memory_transport() : state_(std::make_shared<state>()) {}

span_transport memory_transport::transport() const {
  return [st = state_](const std::string& body, const std::string& content_type) {
    std::lock_guard<std::mutex> lock{st->mutex};
    st->requests.push_back(request{body, content_type});
    return !st->refuse;
  };
}

std::vector<memory_transport::request> memory_transport::requests() const {
  std::lock_guard<std::mutex> lock{state_->mutex};
  return state_->requests;
}

void memory_transport::fail(bool refuse) {
  std::lock_guard<std::mutex> lock{state_->mutex};
  state_->refuse = refuse;
}

}  // namespace opea::monitoring
