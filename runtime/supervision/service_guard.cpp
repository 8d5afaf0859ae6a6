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

namespace {

std::string open_reason(uint32_t failures, std::chrono::milliseconds left) {
  return "its circuit breaker is open after " + std::to_string(failures) +
         " consecutive failures (next probe in " + std::to_string(left.count()) + " ms)";
}

const char* half_open_reason = "its circuit breaker is half-open and its probe call has not "
                               "answered yet";

}  // namespace

service_guard::admission service_guard::admit(clock::time_point now,
                                              std::function<void()> on_slot) {
  admission result;
  if (breaker_.failures > 0) {
    // Fail fast before taking a slot or a place in the queue.
    std::lock_guard<std::mutex> guard{mtx_};
    if (state_ == circuit_state::open && now < opened_at_ + breaker_.open_for) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(opened_at_ + breaker_.open_for - now);
      result.error = make_error(errc::service_unavailable, service_,
                                open_reason(breaker_.failures, left));
      return result;
    }
    if (state_ == circuit_state::half_open && probe_in_flight_) {
      result.error = make_error(errc::service_unavailable, service_, half_open_reason);
      return result;
    }
  }
  if (bulkhead_.max_in_flight > 0) {
    std::lock_guard<std::mutex> guard{slots_mtx_};
    if (in_flight_.load(std::memory_order_relaxed) < bulkhead_.max_in_flight) {
      in_flight_.fetch_add(1, std::memory_order_relaxed);
    } else if (on_slot && waiting_.size() < bulkhead_.max_queue) {
      waiting_.push_back(std::move(on_slot));
      result.queued = true;
      return result;
    } else {
      std::string why = "its bulkhead limit is reached: max_in_flight = " +
                        std::to_string(bulkhead_.max_in_flight) + " call(s) already in flight";
      if (bulkhead_.max_queue > 0)
        why += " and max_queue = " + std::to_string(bulkhead_.max_queue) + " waiting";
      result.error = make_error(errc::overloaded, service_, std::move(why));
      return result;
    }
  }
  return pass_breaker(now);
}

service_guard::admission service_guard::resume(clock::time_point now) {
  return pass_breaker(now);
}

service_guard::admission service_guard::pass_breaker(clock::time_point now) {
  admission result;
  if (breaker_.failures == 0) return result;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    switch (state_) {
      case circuit_state::closed:
        return result;
      case circuit_state::open:
        if (now >= opened_at_ + breaker_.open_for) {
          set_state(circuit_state::half_open);
          probe_in_flight_ = true;
          result.probe = true;
          return result;
        }
        result.error = make_error(
            errc::service_unavailable, service_,
            open_reason(breaker_.failures, std::chrono::duration_cast<std::chrono::milliseconds>(
                                               opened_at_ + breaker_.open_for - now)));
        break;
      case circuit_state::half_open:
        if (!probe_in_flight_) {
          probe_in_flight_ = true;
          result.probe = true;
          return result;
        }
        result.error = make_error(errc::service_unavailable, service_, half_open_reason);
        break;
    }
  }
  // Refused: the slot this call held goes to the next one.
  if (bulkhead_.max_in_flight > 0) free_slot();
  return result;
}

void service_guard::free_slot() {
  std::function<void()> next;
  {
    std::lock_guard<std::mutex> guard{slots_mtx_};
    if (waiting_.empty()) {
      in_flight_.fetch_sub(1, std::memory_order_relaxed);
      return;
    }
    // The slot passes to the first waiting call: in_flight stays.
    next = std::move(waiting_.front());
    waiting_.pop_front();
  }
  next();
}

void service_guard::cancel(const admission& ticket) {
  if (ticket.probe) {
    std::lock_guard<std::mutex> guard{mtx_};
    probe_in_flight_ = false;  // the next call becomes the probe
  }
  if (bulkhead_.max_in_flight > 0) free_slot();
}

void service_guard::release(const admission& ticket, bool failed, clock::time_point now) {
  if (breaker_.failures > 0) {
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
    } else if (state_ == circuit_state::closed) {
      // A call admitted while the circuit was closed counts only while it
      // still is (a probe decides the other states).
      if (!failed) {
        consecutive_failures_ = 0;
      } else if (++consecutive_failures_ >= breaker_.failures) {
        opened_at_ = now;
        set_state(circuit_state::open);
      }
    }
  }
  if (bulkhead_.max_in_flight > 0) free_slot();
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

size_t service_guard::queued() const {
  std::lock_guard<std::mutex> guard{slots_mtx_};
  return waiting_.size();
}

}  // namespace opea::runtime
