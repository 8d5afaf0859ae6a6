#include "runtime/supervision/service_guard.hpp"

#include <prometheus/gauge.h>

#include "runtime/errors.hpp"

namespace opea::runtime {

const char* to_string(circuit_state x) {
  switch (x) {
    case circuit_state::closed:
      return "closed";
    case circuit_state::open:
      return "open";
    case circuit_state::half_open:
      return "half-open";
  }
  return "unknown";
}

service_guard::service_guard(std::string service, breaker_policy breaker,
                             bulkhead_policy bulkhead, prometheus::Gauge* state_gauge)
    : service_(std::move(service)), breaker_(breaker), bulkhead_(bulkhead), gauge_(state_gauge) {
  if (gauge_ != nullptr) gauge_->Set(0);
}

void service_guard::set_state(circuit_state s) {
  state_ = s;
  if (gauge_ != nullptr) gauge_->Set(static_cast<double>(static_cast<int>(s)));
}

service_guard::admission service_guard::admit(clock::time_point now) {
  admission result;
  if (bulkhead_.max_in_flight > 0) {
    auto before = in_flight_.fetch_add(1, std::memory_order_relaxed);
    if (before >= bulkhead_.max_in_flight) {
      in_flight_.fetch_sub(1, std::memory_order_relaxed);
      result.error = make_error(errc::overloaded, service_,
                                "its bulkhead limit is reached: max_in_flight = " +
                                    std::to_string(bulkhead_.max_in_flight) +
                                    " call(s) already in flight");
      return result;
    }
  }
  if (breaker_.failures == 0) return result;
  std::lock_guard<std::mutex> guard{mtx_};
  std::string why;
  if (state_ == circuit_state::open) {
    if (now >= opened_at_ + breaker_.open_for) {
      set_state(circuit_state::half_open);
      probe_in_flight_ = true;
      result.probe = true;
      return result;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(opened_at_ +
                                                                      breaker_.open_for - now);
    why = "its circuit breaker is open after " + std::to_string(breaker_.failures) +
          " consecutive failures (next probe in " + std::to_string(left.count()) + " ms)";
  } else if (state_ == circuit_state::half_open) {
    if (!probe_in_flight_) {
      probe_in_flight_ = true;
      result.probe = true;
      return result;
    }
    why = "its circuit breaker is half-open and its probe call has not answered yet";
  } else {
    return result;
  }
  if (bulkhead_.max_in_flight > 0) in_flight_.fetch_sub(1, std::memory_order_relaxed);
  result.error = make_error(errc::service_unavailable, service_, std::move(why));
  return result;
}

void service_guard::release(const admission& ticket, bool failed, clock::time_point now) {
  if (bulkhead_.max_in_flight > 0) in_flight_.fetch_sub(1, std::memory_order_relaxed);
  if (breaker_.failures == 0) return;
  std::lock_guard<std::mutex> guard{mtx_};
  if (ticket.probe) {
    probe_in_flight_ = false;
    if (failed) {
      opened_at_ = now;
      set_state(circuit_state::open);
    } else {
      consecutive_failures_ = 0;
      set_state(circuit_state::closed);
    }
    return;
  }
  // A call admitted while the circuit was closed: it counts only while the
  // circuit is still closed (a probe decides the other states).
  if (state_ != circuit_state::closed) return;
  if (!failed) {
    consecutive_failures_ = 0;
    return;
  }
  if (++consecutive_failures_ >= breaker_.failures) {
    opened_at_ = now;
    set_state(circuit_state::open);
  }
}

bool service_guard::counts_as_failure(const caf::error& err) {
  if (!err) return false;
  if (err.category() != error_category) return true;  // CAF's own: receiver down, timeouts
  switch (code_of(err)) {
    case errc::bad_request:
    case errc::cancelled:
    case errc::invalid_graph:
      return false;
    default:
      return true;
  }
}

circuit_state service_guard::state() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return state_;
}

}  // namespace opea::runtime
