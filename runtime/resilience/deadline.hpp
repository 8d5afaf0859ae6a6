#pragma once

#include <chrono>
#include <cstdint>

namespace opea::runtime {

/// The instant by which a call must be finished, or none. A value type: it
/// reads no clock; every question about time takes `now`. Not thread-safe
/// (a plain value; copy it to share it).
///
/// Arithmetic saturates: a deadline that would lie beyond the clock's range
/// is none, so `after(nanoseconds::max(), now)` and a huge `budget_ms` never
/// overflow.
class deadline {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// No deadline: never expires. Default-constructed deadlines are none too.
  deadline() = default;

  /// No deadline: never expires, `remaining` is nanoseconds::max().
  static deadline none() { return deadline{}; }

  /// Expires at `when` (time_point::max() means none).
  static deadline at(time_point when) { return deadline{when}; }

  /// Expires `budget` after `now`; a budget <= 0 is already expired at `now`.
  /// Saturates to none when `now + budget` is beyond the clock's range.
  static deadline after(std::chrono::nanoseconds budget, time_point now);

  /// True for the deadline that never expires.
  bool is_none() const { return when_ == time_point::max(); }

  /// The instant it expires; time_point::max() when none.
  time_point when() const { return when_; }

  /// Time left at `now`: 0 when expired, nanoseconds::max() when none.
  std::chrono::nanoseconds remaining(time_point now) const;

  /// True when `now` is at or past the deadline (never for none).
  bool expired(time_point now) const { return !is_none() && now >= when_; }

  /// The budget to send to the next hop (e.g. in the cluster envelope):
  /// `remaining(now)` in whole milliseconds (rounded down) minus
  /// `hop_allowance` (Default: 0 ms; a negative one counts as 0), floored
  /// at 0; -1 for none.
  int64_t budget_ms(time_point now, std::chrono::milliseconds hop_allowance = {}) const;

  /// The receiving side of `budget_ms`: a deadline `budget_ms` after `now`;
  /// none when `budget_ms` < 0. The budget shrinks at every hop because the
  /// time spent in transit and in queues is not given back.
  static deadline from_budget_ms(int64_t budget_ms, time_point now);

  /// The earlier of two deadlines (none only when both are none).
  static deadline earliest(deadline a, deadline b) { return a.when_ <= b.when_ ? a : b; }

  friend bool operator==(const deadline& a, const deadline& b) { return a.when_ == b.when_; }
  friend bool operator!=(const deadline& a, const deadline& b) { return a.when_ != b.when_; }

 private:
  explicit deadline(time_point when) : when_(when) {}

  time_point when_ = time_point::max();
};

}  // namespace opea::runtime
