#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

#include <caf/error.hpp>

namespace prometheus {
class Gauge;
}

namespace opea::runtime {

/// Circuit breaker of one service: after `failures` consecutive failed calls
/// the circuit opens and calls fail at once (errc::service_unavailable) for
/// `open_for`; then one probe call is let through (half-open): its success
/// closes the circuit, its failure opens it again. Default: off.
struct breaker_policy {
  /// Consecutive failed calls that open the circuit; 0 = no breaker.
  uint32_t failures = 0;
  /// How long an open circuit rejects calls before a probe. Default: 5 s.
  std::chrono::milliseconds open_for{5000};
};

/// Bulkhead of one service: at most `max_in_flight` calls to it at once from
/// all the flows of a megaservice, and at most `max_queue` more waiting (in
/// arrival order) for one of them to end; a call beyond both fails at once
/// (errc::overloaded) instead of piling up behind a slow service.
/// Default: off.
struct bulkhead_policy {
  /// Calls in flight at once; 0 = no limit (and no queue).
  uint32_t max_in_flight = 0;
  /// Calls waiting for a free slot; 0 = none (refuse at once).
  uint32_t max_queue = 0;
};

enum class circuit_state : int { closed = 0, open = 1, half_open = 2 };

const char* to_string(circuit_state x);

/// The breaker and bulkhead of one service of a megaservice, shared by all
/// its flow executors. Thread-safe (two small mutexes, touched only for the
/// policies that are on). Takes `now` as an argument, so it is tested
/// without sleeps.
///
/// A call goes: `admit` -> (if queued: its `on_slot` runs when a slot is
/// handed to it, then `resume`) -> the call -> `release`; or `cancel` when a
/// call that holds a slot is not made after all.
class service_guard {
 public:
  using clock = std::chrono::steady_clock;

  /// `state_gauge` (may be null) mirrors the circuit state (0 closed, 1 open,
  /// 2 half-open) for Prometheus.
  service_guard(std::string service, breaker_policy breaker, bulkhead_policy bulkhead,
                prometheus::Gauge* state_gauge = nullptr);

  /// True when either policy is on (otherwise the guard need not exist).
  static bool needed(const breaker_policy& breaker, const bulkhead_policy& bulkhead) {
    return breaker.failures > 0 || bulkhead.max_in_flight > 0;
  }

  /// The result of `admit` / `resume`: an error naming the service (the call
  /// must not be made), a place in the queue, or a ticket to hand back to
  /// `release` (or `cancel`) exactly once.
  struct admission {
    caf::error error;
    /// Waiting for a slot: `on_slot` will run (on the thread that freed it).
    bool queued = false;
    /// This call is the half-open circuit's probe.
    bool probe = false;
  };

  /// Asks to make a call. `on_slot` is kept only when the call is queued; it
  /// must not block (e.g. send a message) and must lead to `resume` or
  /// `cancel`.
  admission admit(clock::time_point now, std::function<void()> on_slot = {});

  /// After `on_slot` ran: applies the circuit breaker to the call that now
  /// holds a slot (an error frees the slot).
  admission resume(clock::time_point now);

  /// Ends an admitted call. `failed`: it failed in a way that counts against
  /// the service (see `counts_as_failure`).
  void release(const admission& ticket, bool failed, clock::time_point now);

  /// Gives back the slot of an admitted (or resumed) call that will not be
  /// made, without counting for or against the service.
  void cancel(const admission& ticket);

  /// Whether an error of a call counts against the service: server-side
  /// failures (5xx: crashed, failed, timed out, unreachable, bad response,
  /// node down), not the caller's (bad request) nor a client that left.
  static bool counts_as_failure(const caf::error& err);

  /// Whether calls may wait for a slot (then `admit` wants an `on_slot`).
  bool queues() const { return bulkhead_.max_in_flight > 0 && bulkhead_.max_queue > 0; }

  circuit_state state() const;
  uint32_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  size_t queued() const;
  const std::string& service() const { return service_; }

 private:
  /// The circuit-breaker part of admission for a call that holds a slot.
  admission pass_breaker(clock::time_point now);
  /// Frees a slot: hands it to the first queued call, if any.
  void free_slot();
  void set_state(circuit_state s);

  std::string service_;
  breaker_policy breaker_;
  bulkhead_policy bulkhead_;
  prometheus::Gauge* gauge_;
  // Bulkhead.
  mutable std::mutex slots_mtx_;
  std::atomic<uint32_t> in_flight_{0};
  std::deque<std::function<void()>> waiting_;
  // Circuit breaker.
  mutable std::mutex mtx_;
  circuit_state state_ = circuit_state::closed;
  uint32_t consecutive_failures_ = 0;
  clock::time_point opened_at_{};
  bool probe_in_flight_ = false;
};

}  // namespace opea::runtime
