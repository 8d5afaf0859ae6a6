#include "runtime/resilience/deadline.hpp"

namespace opea::runtime {

namespace {

using std::chrono::nanoseconds;

/// `now + d`, or time_point::max() when that is beyond the clock's range.
deadline::time_point saturating_add(deadline::time_point now, nanoseconds d) {
  using time_point = deadline::time_point;
  if (d.count() > 0 && now > time_point::max() - d) return time_point::max();
  if (d.count() < 0 && now < time_point::min() - d) return time_point::min();
  return now + d;
}

}  // namespace

deadline deadline::after(nanoseconds budget, time_point now) {
  return deadline{saturating_add(now, budget)};
}

nanoseconds deadline::remaining(time_point now) const {
  if (is_none()) return nanoseconds::max();
  return when_ > now ? when_ - now : nanoseconds{0};
}

int64_t deadline::budget_ms(time_point now, std::chrono::milliseconds hop_allowance) const {
  if (is_none()) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(remaining(now)).count();
  auto allowance = hop_allowance.count();
  if (allowance < 0) allowance = 0;
  return left > allowance ? left - allowance : 0;
}

deadline deadline::from_budget_ms(int64_t budget_ms, time_point now) {
  if (budget_ms < 0) return none();
  // Milliseconds beyond what nanoseconds can hold would overflow the cast.
  constexpr int64_t max_ms = nanoseconds::max().count() / 1000000;
  if (budget_ms >= max_ms) return none();
  return deadline{saturating_add(now, std::chrono::milliseconds{budget_ms})};
}

}  // namespace opea::runtime
