#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace opea::runtime {

/// Settings of a `circuit_breaker`, with Resilience4j's meaning and defaults.
/// Each field names its config key; `circuit_breaker::make` refuses invalid
/// values with errc::bad_request whose subject is that key.
struct circuit_breaker_settings {
  /// How the outcomes that decide whether to open are kept.
  enum class window_kind {
    /// The last `window_size` calls.
    count_based,
    /// The calls of the last `window_size` seconds (one bucket per second).
    time_based,
  };

  /// Key `sliding_window_type`: count_based | time_based. Default: count_based.
  window_kind window = window_kind::count_based;

  /// Key `sliding_window_size`: calls (count_based) or seconds (time_based)
  /// in the window; 1..100000. Default: 100.
  uint32_t window_size = 100;

  /// Key `minimum_calls`: outcomes in the window before any rate is computed
  /// (below it the breaker never opens); >= 1. A count window of size W uses
  /// min(minimum_calls, W). Default: 100.
  uint32_t minimum_calls = 100;

  /// Key `failure_rate_threshold`: percent of failed calls in the window at
  /// or above which the breaker opens; (0, 100]. Default: 50.
  double failure_rate_threshold = 50;

  /// Key `slow_call_rate_threshold`: percent of slow calls in the window at
  /// or above which the breaker opens; (0, 100]. Default: 100.
  double slow_call_rate_threshold = 100;

  /// Key `slow_call_duration_ms`: a call that took this long or longer is
  /// slow (whether it succeeded or failed); >= 1. Default: 60000 ms.
  std::chrono::milliseconds slow_call_duration{60000};

  /// Key `wait_in_open_ms`: how long an open breaker refuses calls before it
  /// lets probes through (half-open); >= 1. Default: 60000 ms.
  std::chrono::milliseconds wait_in_open{60000};

  /// Key `wait_in_open_multiplier`: each consecutive re-open (half-open ->
  /// open without closing in between) multiplies the wait by this factor:
  /// the k-th re-open waits wait_in_open * multiplier^k, capped at
  /// `max_wait_in_open`. Closing starts over at wait_in_open; finite, >= 1.
  /// Default: 1 (the wait never grows).
  double wait_in_open_multiplier = 1;

  /// Key `max_wait_in_open_ms`: cap of the growing wait; 0 = wait_in_open *
  /// 1024 (ten doublings); when set, >= wait_in_open. Default: 0.
  std::chrono::milliseconds max_wait_in_open{0};

  /// Key `permitted_calls_in_half_open`: probe calls a half-open breaker
  /// lets through; their outcomes close or re-open it; >= 1. Default: 10.
  uint32_t permitted_calls_in_half_open = 10;

  /// The consecutive-failures shorthand of the node config
  /// `circuit_breaker: {failures: N, open_ms: T}`: N failed calls in a row
  /// open the breaker (a success in between starts the count over), it stays
  /// open for T, then one probe call closes it (success) or re-opens it
  /// (failure). That is: count window N, minimum_calls N,
  /// failure_rate_threshold 100, slow calls off (threshold 100, duration
  /// milliseconds::max()), wait_in_open T, permitted_calls_in_half_open 1.
  /// N = 0 (no breaker) gives settings that `make` refuses
  /// (sliding_window_size).
  static circuit_breaker_settings consecutive(uint32_t failures,
                                              std::chrono::milliseconds open_for);
};

/// "count_based" or "time_based", as in the config.
const char* to_string(circuit_breaker_settings::window_kind x);

/// Resilience4j's circuit breaker for one service: counts the outcomes of
/// recent calls and stops calling a service that fails (or is slow) too
/// often, then probes it before trusting it again.
///
/// Not thread-safe: owned by one actor (the service's proxy), which reads
/// the clock and passes `now` to every call that depends on time, so the
/// class is tested without actors or sleeps.
///
/// Transitions:
/// - closed -> open: once the window holds the minimum number of calls and
///   the failure rate or the slow call rate reaches its threshold.
/// - open -> half_open: on the first `try_acquire` at or after the wait.
/// - half_open -> closed when the `permitted_calls_in_half_open` probes have
///   ended with both rates under their thresholds (the window starts empty);
///   half_open -> open otherwise, with a longer wait (see the multiplier).
/// - `force_open`, `disable` and `reset` move to forced_open, disabled and
///   closed from any state; only `reset` (or the other two) leaves them.
///
/// Outcomes are attributed to the current state, as in Resilience4j: an
/// outcome that arrives while open, forced_open or disabled is dropped; one
/// that arrives while half-open with no probe in flight (a call let through
/// before the breaker opened) is dropped too.
class circuit_breaker {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  enum class state { closed, open, half_open, forced_open, disabled };

  /// The breaker for `settings`, or errc::bad_request naming the offending
  /// config key (e.g. subject "failure_rate_threshold") with what is allowed.
  [[nodiscard]] static caf::expected<circuit_breaker> make(
      const circuit_breaker_settings& settings);

  /// The answer of `try_acquire`.
  struct permission {
    /// The call may be made; then exactly one of on_success, on_failure or
    /// on_ignored must follow.
    bool permitted = false;
    /// When refused by an open breaker: time until it lets a probe through
    /// (rounded up to whole ms). 0 otherwise.
    std::chrono::milliseconds retry_after{0};
  };

  /// Asks to make one call now. Closed and disabled permit. Open refuses
  /// until wait_in_open has elapsed, then turns half-open. Half-open permits
  /// up to permitted_calls_in_half_open calls and refuses more until they
  /// end (on_ignored gives a permit back). forced_open always refuses.
  permission try_acquire(time_point now);

  /// The permitted call succeeded after `duration` (>= slow_call_duration
  /// counts as slow).
  void on_success(std::chrono::nanoseconds duration, time_point now);

  /// The permitted call failed in a way that counts against the service
  /// after `duration` (a failure that is also slow counts in both rates).
  void on_failure(std::chrono::nanoseconds duration, time_point now);

  /// A permitted call that ended without an outcome that counts (the
  /// caller's bad request, a client that left, a call never sent): frees its
  /// half-open permit, records nothing.
  void on_ignored(time_point now);

  /// The state as of the last call that took `now` (an open breaker whose
  /// wait has passed stays open until the next `try_acquire`).
  state current() const { return state_; }

  /// Refuses every call until `reset` or `disable`. Not counted by
  /// `times_opened`.
  void force_open(time_point now);

  /// Permits every call and records nothing until `reset` or `force_open`.
  void disable();

  /// Back to closed with an empty window and the initial wait_in_open.
  void reset();

  /// Percent of failed calls: over the window when closed, forced_open or
  /// disabled; the rate that opened it when open; over the probes when
  /// half-open. -1 while fewer than the minimum calls are recorded.
  double failure_rate() const;

  /// Percent of slow calls, over the same calls as `failure_rate`; -1 while
  /// fewer than the minimum calls are recorded.
  double slow_call_rate() const;

  /// Outcomes behind the rates: in the window (closed, forced_open,
  /// disabled), at the moment it opened (open), or of probes (half-open). A
  /// time window is as of the last call that took `now`.
  uint64_t buffered_calls() const;

  /// One line for a refusal at `now`, for messages and logs, e.g. "its
  /// circuit breaker is open: failure rate 62.5 % >= 50 % over the last 8
  /// calls (next probe in 1200 ms)", or "its circuit breaker is open after 5
  /// consecutive failures (next probe in 1200 ms)" when the failure
  /// threshold is 100 % over a count window (the `consecutive` shorthand).
  /// Empty when a `try_acquire` at `now` would be permitted.
  std::string why_refused(time_point now) const;

  /// How many times it opened by itself (closed -> open and half_open ->
  /// open), for tests and metrics.
  uint64_t times_opened() const { return times_opened_; }

  /// The wait the breaker applies (or applied) in the current open period.
  std::chrono::milliseconds current_wait_in_open() const { return wait_; }

  const circuit_breaker_settings& settings() const { return settings_; }

 private:
  /// Outcome counts of some calls.
  struct tally {
    uint32_t calls = 0;
    uint32_t failures = 0;
    uint32_t slow = 0;
  };

  /// What opened the breaker, kept for `why_refused` and the rates.
  struct trip {
    bool by_probes = false;  // half_open -> open
    bool by_slow = false;    // the slow call rate, not the failure rate
    tally counts;
  };

  explicit circuit_breaker(const circuit_breaker_settings& settings);

  void record(bool failed, std::chrono::nanoseconds duration, time_point now);
  void slide(time_point now);
  void add_to_window(bool failed, bool slow);
  void clear_window();
  void open(bool by_probes, bool by_slow, const tally& counts, time_point now);
  void close();
  void to_half_open();
  bool trips(const tally& counts, bool* by_slow) const;
  const tally& visible_tally() const;
  uint32_t visible_minimum() const;

  circuit_breaker_settings settings_;
  state state_ = state::closed;
  uint32_t minimum_ = 1;  // effective minimum_calls of the window
  std::chrono::milliseconds max_wait_{0};

  // The window (closed state). Count-based: one entry per call (bit 0
  // failed, bit 1 slow), oldest at `next_` once full. Time-based: one tally
  // per second, the current second at `head_sec_ % window_size`.
  std::vector<uint8_t> ring_;
  uint32_t next_ = 0;
  std::vector<tally> buckets_;
  bool epoch_set_ = false;
  time_point epoch_{};
  int64_t head_sec_ = 0;
  tally window_;

  // Open.
  time_point open_until_{};
  std::chrono::milliseconds wait_{0};
  uint32_t reopens_ = 0;
  trip trip_;
  uint64_t times_opened_ = 0;

  // Half-open: permits handed out (and not given back), of which in flight.
  uint32_t probes_permitted_ = 0;
  uint32_t probes_in_flight_ = 0;
  tally probes_;
};

/// "closed", "open", "half_open", "forced_open" or "disabled".
const char* to_string(circuit_breaker::state x);

}  // namespace opea::runtime
