#include <catch2/catch.hpp>

#include <limits>

#include "runtime/resilience/deadline.hpp"

using namespace opea::runtime;
using namespace std::chrono_literals;

namespace {

using time_point = deadline::time_point;

const time_point t0 = time_point{} + 1000s;

}  // namespace

TEST_CASE("deadline: none never expires", "[resilience]") {
  auto d = deadline::none();
  CHECK(d.is_none());
  CHECK(d.when() == time_point::max());
  CHECK(d.remaining(t0) == std::chrono::nanoseconds::max());
  CHECK_FALSE(d.expired(t0));
  CHECK_FALSE(d.expired(time_point::max()));
  CHECK(d.budget_ms(t0) == -1);
  CHECK(d.budget_ms(t0, 100ms) == -1);
  CHECK(deadline{}.is_none());
  CHECK(deadline{} == deadline::none());
  CHECK(deadline::at(time_point::max()).is_none());
}

TEST_CASE("deadline: at and after", "[resilience]") {
  auto d = deadline::after(5s, t0);
  CHECK_FALSE(d.is_none());
  CHECK(d.when() == t0 + 5s);
  CHECK(d == deadline::at(t0 + 5s));
  CHECK(d.remaining(t0) == 5s);
  CHECK(d.remaining(t0 + 2s) == 3s);
  CHECK(d.remaining(t0 + 5s) == 0s);
  CHECK(d.remaining(t0 + 6s) == 0s);  // never negative
  CHECK_FALSE(d.expired(t0 + 4999ms));
  CHECK(d.expired(t0 + 5s));
  CHECK(d.expired(t0 + 6s));

  auto past = deadline::after(-1s, t0);
  CHECK(past.when() == t0 - 1s);
  CHECK(past.expired(t0));
  CHECK(deadline::after(0s, t0).expired(t0));

  // Too far to represent: saturates to none instead of overflowing.
  CHECK(deadline::after(std::chrono::nanoseconds::max(), t0).is_none());
}

TEST_CASE("deadline: the budget sent to the next hop", "[resilience]") {
  auto d = deadline::after(1500ms + 999us, t0);
  CHECK(d.budget_ms(t0) == 1500);  // rounded down
  CHECK(d.budget_ms(t0, 200ms) == 1300);
  CHECK(d.budget_ms(t0, 1500ms) == 0);
  CHECK(d.budget_ms(t0, 2000ms) == 0);  // floored at 0
  CHECK(d.budget_ms(t0, -50ms) == 1500);
  CHECK(d.budget_ms(t0 + 1s) == 500);
  CHECK(d.budget_ms(t0 + 1501ms) == 0);
  CHECK(d.budget_ms(t0 + 1h) == 0);
}

TEST_CASE("deadline: the receiving side of a budget", "[resilience]") {
  CHECK(deadline::from_budget_ms(-1, t0).is_none());
  CHECK(deadline::from_budget_ms(-1000, t0).is_none());
  auto zero = deadline::from_budget_ms(0, t0);
  CHECK_FALSE(zero.is_none());
  CHECK(zero.expired(t0));
  CHECK(deadline::from_budget_ms(250, t0).when() == t0 + 250ms);
  CHECK(deadline::from_budget_ms(std::numeric_limits<int64_t>::max(), t0).is_none());

  // One hop: 300 ms are spent before sending (the budget shrinks by them and
  // by the 10 ms allowance), then 40 ms in transit, which the receiver cannot
  // see: its deadline is 30 ms later than the sender's. The allowance is
  // there to cover the transit.
  auto sender = deadline::after(1s, t0);
  auto sent = sender.budget_ms(t0 + 300ms, 10ms);
  CHECK(sent == 690);
  auto receiver = deadline::from_budget_ms(sent, t0 + 340ms);
  CHECK(receiver.when() == t0 + 1030ms);
  CHECK(receiver.budget_ms(t0 + 340ms) == 690);
  CHECK(deadline::from_budget_ms(deadline::none().budget_ms(t0), t0).is_none());
}

TEST_CASE("deadline: earliest of two", "[resilience]") {
  auto a = deadline::after(1s, t0);
  auto b = deadline::after(2s, t0);
  CHECK(deadline::earliest(a, b) == a);
  CHECK(deadline::earliest(b, a) == a);
  CHECK(deadline::earliest(deadline::none(), b) == b);
  CHECK(deadline::earliest(a, deadline::none()) == a);
  CHECK(deadline::earliest(deadline::none(), deadline::none()).is_none());
}
