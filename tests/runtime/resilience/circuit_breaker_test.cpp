#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "runtime/errors.hpp"
#include "runtime/resilience/circuit_breaker.hpp"

using namespace opea::runtime;
using namespace std::chrono_literals;

namespace {

using time_point = circuit_breaker::time_point;
using state = circuit_breaker::state;
using kind = circuit_breaker_settings::window_kind;

const time_point t0 = time_point{} + 1000s;

circuit_breaker make_breaker(const circuit_breaker_settings& s) {
  auto cb = circuit_breaker::make(s);
  REQUIRE(cb);
  return std::move(*cb);
}

circuit_breaker_settings count_window(uint32_t size, uint32_t minimum, double threshold) {
  circuit_breaker_settings s;
  s.window = kind::count_based;
  s.window_size = size;
  s.minimum_calls = minimum;
  s.failure_rate_threshold = threshold;
  s.wait_in_open = 1000ms;
  return s;
}

/// One call made at `now` that succeeds (or fails) after 10 ms.
void succeed(circuit_breaker& cb, time_point now) {
  REQUIRE(cb.try_acquire(now).permitted);
  cb.on_success(10ms, now);
}

void fail(circuit_breaker& cb, time_point now) {
  REQUIRE(cb.try_acquire(now).permitted);
  cb.on_failure(10ms, now);
}

}  // namespace

TEST_CASE("circuit_breaker::make refuses each invalid setting by its config key", "[resilience]") {
  struct bad {
    const char* key;
    std::function<void(circuit_breaker_settings&)> set;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<bad> cases{
      {"sliding_window_type", [](auto& s) { s.window = static_cast<kind>(7); }},
      {"sliding_window_size", [](auto& s) { s.window_size = 0; }},
      {"sliding_window_size", [](auto& s) { s.window_size = 100001; }},
      {"minimum_calls", [](auto& s) { s.minimum_calls = 0; }},
      {"failure_rate_threshold", [](auto& s) { s.failure_rate_threshold = 0; }},
      {"failure_rate_threshold", [](auto& s) { s.failure_rate_threshold = 100.5; }},
      {"failure_rate_threshold", [&](auto& s) { s.failure_rate_threshold = nan; }},
      {"slow_call_rate_threshold", [](auto& s) { s.slow_call_rate_threshold = -1; }},
      {"slow_call_rate_threshold", [](auto& s) { s.slow_call_rate_threshold = 101; }},
      {"slow_call_duration_ms", [](auto& s) { s.slow_call_duration = 0ms; }},
      {"wait_in_open_ms", [](auto& s) { s.wait_in_open = 0ms; }},
      {"wait_in_open_ms", [](auto& s) { s.wait_in_open = -5ms; }},
      {"wait_in_open_multiplier", [](auto& s) { s.wait_in_open_multiplier = 0.5; }},
      {"wait_in_open_multiplier", [&](auto& s) { s.wait_in_open_multiplier = inf; }},
      {"wait_in_open_multiplier", [&](auto& s) { s.wait_in_open_multiplier = nan; }},
      {"max_wait_in_open_ms", [](auto& s) { s.max_wait_in_open = 59999ms; }},
      {"permitted_calls_in_half_open", [](auto& s) { s.permitted_calls_in_half_open = 0; }},
  };
  for (const auto& c : cases) {
    circuit_breaker_settings s;
    c.set(s);
    auto cb = circuit_breaker::make(s);
    INFO(c.key);
    REQUIRE_FALSE(cb);
    CHECK(code_of(cb.error()) == errc::bad_request);
    CHECK(subject_of(cb.error()) == c.key);
    CHECK_FALSE(detail_of(cb.error()).empty());
  }
  circuit_breaker_settings s;
  s.failure_rate_threshold = 0;
  CHECK(detail_of(circuit_breaker::make(s).error()) == "is 0; must be a percentage in (0, 100]");
  s = circuit_breaker_settings{};
  s.max_wait_in_open = 1000ms;
  CHECK(detail_of(circuit_breaker::make(s).error()) ==
        "is 1000; must be 0 (= wait_in_open_ms * 1024) or at least wait_in_open_ms (60000)");

  // The defaults, the bounds and an explicit cap equal to the wait are fine.
  CHECK(circuit_breaker::make(circuit_breaker_settings{}));
  s = circuit_breaker_settings{};
  s.window_size = 100000;
  s.failure_rate_threshold = 100;
  s.slow_call_rate_threshold = 0.01;
  s.max_wait_in_open = s.wait_in_open;
  CHECK(circuit_breaker::make(s));
  s.window = kind::time_based;
  CHECK(circuit_breaker::make(s));
}

TEST_CASE("circuit_breaker: a new breaker is closed with no rates", "[resilience]") {
  auto cb = make_breaker(circuit_breaker_settings{});
  CHECK(cb.current() == state::closed);
  CHECK(cb.failure_rate() == -1);
  CHECK(cb.slow_call_rate() == -1);
  CHECK(cb.buffered_calls() == 0);
  CHECK(cb.times_opened() == 0);
  CHECK(cb.why_refused(t0).empty());
  auto p = cb.try_acquire(t0);
  CHECK(p.permitted);
  CHECK(p.retry_after == 0ms);
  CHECK(std::string{to_string(state::closed)} == "closed");
  CHECK(std::string{to_string(state::open)} == "open");
  CHECK(std::string{to_string(state::half_open)} == "half_open");
  CHECK(std::string{to_string(state::forced_open)} == "forced_open");
  CHECK(std::string{to_string(state::disabled)} == "disabled");
  CHECK(std::string{to_string(kind::count_based)} == "count_based");
  CHECK(std::string{to_string(kind::time_based)} == "time_based");
}

TEST_CASE("circuit_breaker: count window, minimum calls and the failure rate", "[resilience]") {
  auto cb = make_breaker(count_window(4, 3, 50));
  succeed(cb, t0);
  CHECK(cb.failure_rate() == -1);  // 1 call < minimum 3
  CHECK(cb.buffered_calls() == 1);
  fail(cb, t0);
  CHECK(cb.failure_rate() == -1);  // 2 calls, 1 failed: 50 % but below the minimum
  CHECK(cb.current() == state::closed);
  succeed(cb, t0);
  CHECK(cb.failure_rate() == Approx(100.0 / 3));  // S F S
  CHECK(cb.slow_call_rate() == 0);
  succeed(cb, t0);
  CHECK(cb.failure_rate() == 25);  // S F S S
  CHECK(cb.buffered_calls() == 4);
  succeed(cb, t0);
  CHECK(cb.failure_rate() == 25);  // F S S S: the first S left the window
  CHECK(cb.buffered_calls() == 4);
  succeed(cb, t0);
  CHECK(cb.failure_rate() == 0);  // S S S S: the F left
  fail(cb, t0);
  CHECK(cb.failure_rate() == 25);
  CHECK(cb.current() == state::closed);
  fail(cb, t0 + 1ms);  // S S F F: 50 % >= 50 %
  CHECK(cb.current() == state::open);
  CHECK(cb.times_opened() == 1);
  CHECK(cb.failure_rate() == 50);  // the rate that opened it
  CHECK(cb.buffered_calls() == 4);
  CHECK(cb.why_refused(t0 + 1ms) ==
        "its circuit breaker is open: failure rate 50 % >= 50 % over the last 4 calls "
        "(next probe in 1000 ms)");
}

TEST_CASE("circuit_breaker: a count window smaller than minimum_calls uses its size",
          "[resilience]") {
  auto cb = make_breaker(count_window(2, 100, 100));
  fail(cb, t0);
  CHECK(cb.current() == state::closed);
  CHECK(cb.failure_rate() == -1);
  fail(cb, t0);
  CHECK(cb.current() == state::open);
  CHECK(cb.why_refused(t0 + 250ms) ==
        "its circuit breaker is open after 2 consecutive failures (next probe in 750 ms)");
}

TEST_CASE("circuit_breaker: rates with a fractional threshold", "[resilience]") {
  auto cb = make_breaker(count_window(8, 8, 62.5));
  for (int i = 0; i < 3; ++i) succeed(cb, t0);
  for (int i = 0; i < 4; ++i) fail(cb, t0);
  CHECK(cb.current() == state::closed);  // 7 calls < 8
  fail(cb, t0);                          // 5 of 8 = 62.5 %
  CHECK(cb.current() == state::open);
  CHECK(cb.why_refused(t0) ==
        "its circuit breaker is open: failure rate 62.5 % >= 62.5 % over the last 8 calls "
        "(next probe in 1000 ms)");
}

TEST_CASE("circuit_breaker: slow calls, and a slow failure counts in both rates", "[resilience]") {
  SECTION("the slow call rate opens it") {
    auto s = count_window(4, 4, 50);
    s.slow_call_rate_threshold = 50;
    s.slow_call_duration = 100ms;
    auto cb = make_breaker(s);
    cb.try_acquire(t0);
    cb.on_success(99999us, t0);  // 99.999 ms: not slow
    cb.try_acquire(t0);
    cb.on_success(100ms, t0);  // exactly the duration: slow
    cb.try_acquire(t0);
    cb.on_success(99ms, t0);
    CHECK(cb.slow_call_rate() == -1);
    CHECK(cb.current() == state::closed);
    cb.try_acquire(t0);
    cb.on_success(150ms, t0);  // 2 slow of 4
    CHECK(cb.current() == state::open);
    CHECK(cb.slow_call_rate() == 50);
    CHECK(cb.failure_rate() == 0);
    CHECK(cb.why_refused(t0) ==
          "its circuit breaker is open: slow call rate 50 % >= 50 % (calls of 100 ms or more) "
          "over the last 4 calls (next probe in 1000 ms)");
  }
  SECTION("a failure that is slow") {
    auto s = count_window(2, 2, 100);
    s.slow_call_rate_threshold = 100;
    s.slow_call_duration = 100ms;
    auto cb = make_breaker(s);
    cb.try_acquire(t0);
    cb.on_failure(200ms, t0);
    cb.try_acquire(t0);
    cb.on_success(10ms, t0);
    CHECK(cb.failure_rate() == 50);
    CHECK(cb.slow_call_rate() == 50);
    cb.try_acquire(t0);
    cb.on_failure(300ms, t0);  // S F(slow) after F(slow) S: window S F
    CHECK(cb.current() == state::closed);
    cb.try_acquire(t0);
    cb.on_failure(300ms, t0);  // F F, both slow: the failure rate is checked first
    CHECK(cb.current() == state::open);
    CHECK(cb.failure_rate() == 100);
    CHECK(cb.slow_call_rate() == 100);
  }
}

TEST_CASE("circuit_breaker: time window drops whole seconds as time advances", "[resilience]") {
  circuit_breaker_settings s;
  s.window = kind::time_based;
  s.window_size = 3;  // seconds
  s.minimum_calls = 2;
  s.failure_rate_threshold = 60;
  s.wait_in_open = 1000ms;
  auto cb = make_breaker(s);
  succeed(cb, t0);  // second 0 (the epoch is this first `now`)
  CHECK(cb.buffered_calls() == 1);
  CHECK(cb.failure_rate() == -1);
  succeed(cb, t0 + 999ms);  // still second 0
  CHECK(cb.failure_rate() == 0);
  fail(cb, t0 + 1s);  // second 1
  CHECK(cb.failure_rate() == Approx(100.0 / 3));
  CHECK(cb.buffered_calls() == 3);
  REQUIRE(cb.try_acquire(t0 + 2999ms).permitted);  // second 2: window = seconds 0..2
  CHECK(cb.buffered_calls() == 3);
  REQUIRE(cb.try_acquire(t0 + 3s).permitted);  // second 3: second 0 leaves
  CHECK(cb.buffered_calls() == 1);
  CHECK(cb.failure_rate() == -1);  // 1 call < minimum 2
  cb.on_success(10ms, t0 + 3500ms);
  CHECK(cb.failure_rate() == 50);  // F at second 1, S at second 3
  CHECK(cb.current() == state::closed);
  cb.on_failure(10ms, t0 + 3600ms);  // 2 of 3 = 66.7 % >= 60 %
  CHECK(cb.current() == state::open);
  CHECK(cb.why_refused(t0 + 3600ms) ==
        "its circuit breaker is open: failure rate 66.67 % >= 60 % over 3 calls in the last 3 s "
        "(next probe in 1000 ms)");

  SECTION("a jump longer than the window empties it") {
    auto cb2 = make_breaker(s);
    fail(cb2, t0);
    succeed(cb2, t0);
    CHECK(cb2.buffered_calls() == 2);
    REQUIRE(cb2.try_acquire(t0 + 100s).permitted);
    CHECK(cb2.buffered_calls() == 0);
    fail(cb2, t0 + 100s);
    succeed(cb2, t0 + 101s);
    CHECK(cb2.failure_rate() == 50);
    CHECK(cb2.current() == state::closed);
  }
}

TEST_CASE("circuit_breaker: open -> half-open after the wait, probes close it", "[resilience]") {
  auto s = count_window(2, 2, 50);
  s.permitted_calls_in_half_open = 3;
  auto cb = make_breaker(s);
  fail(cb, t0);
  fail(cb, t0);
  REQUIRE(cb.current() == state::open);
  auto p = cb.try_acquire(t0 + 400ms);
  CHECK_FALSE(p.permitted);
  CHECK(p.retry_after == 600ms);
  CHECK(cb.why_refused(t0 + 400ms) ==
        "its circuit breaker is open: failure rate 100 % >= 50 % over the last 2 calls (next "
        "probe in 600 ms)");
  p = cb.try_acquire(t0 + 999ms + 1ns);
  CHECK_FALSE(p.permitted);
  CHECK(p.retry_after == 1ms);  // rounded up
  CHECK(cb.current() == state::open);
  // Outcomes of calls let through before it opened are dropped while open.
  cb.on_success(10ms, t0 + 500ms);
  CHECK(cb.buffered_calls() == 2);

  // The wait has passed: a try_acquire turns it half-open.
  CHECK(cb.why_refused(t0 + 1000ms).empty());
  CHECK(cb.try_acquire(t0 + 1000ms).permitted);
  CHECK(cb.current() == state::half_open);
  CHECK(cb.try_acquire(t0 + 1001ms).permitted);
  CHECK(cb.try_acquire(t0 + 1002ms).permitted);
  p = cb.try_acquire(t0 + 1003ms);  // the 4th: refused until probes end
  CHECK_FALSE(p.permitted);
  CHECK(p.retry_after == 0ms);
  CHECK(cb.why_refused(t0 + 1003ms) ==
        "its circuit breaker is half-open: 3 probe call(s) in flight, waiting for their outcome");
  cb.on_ignored(t0 + 1004ms);  // a probe that did not count gives its permit back
  CHECK(cb.why_refused(t0 + 1004ms).empty());
  CHECK(cb.try_acquire(t0 + 1005ms).permitted);
  CHECK_FALSE(cb.try_acquire(t0 + 1005ms).permitted);

  cb.on_success(10ms, t0 + 1010ms);
  cb.on_success(10ms, t0 + 1010ms);
  CHECK(cb.current() == state::half_open);
  CHECK(cb.failure_rate() == -1);  // not all probes ended
  CHECK(cb.buffered_calls() == 2);
  cb.on_failure(10ms, t0 + 1010ms);  // 1 of 3 failed: 33 % < 50 %
  CHECK(cb.current() == state::closed);
  CHECK(cb.buffered_calls() == 0);  // closing starts a new window
  CHECK(cb.failure_rate() == -1);
  CHECK(cb.times_opened() == 1);
  fail(cb, t0 + 2s);  // one failure in the new window is not enough
  CHECK(cb.current() == state::closed);
}

TEST_CASE("circuit_breaker: half-open with no probe in flight drops late outcomes",
          "[resilience]") {
  auto s = count_window(1, 1, 50);
  s.permitted_calls_in_half_open = 1;
  auto cb = make_breaker(s);
  fail(cb, t0);
  REQUIRE(cb.try_acquire(t0 + 1s).permitted);
  cb.on_ignored(t0 + 1s);
  CHECK(cb.current() == state::half_open);
  cb.on_failure(10ms, t0 + 1s);  // no probe in flight: from before it opened
  CHECK(cb.current() == state::half_open);
  cb.on_ignored(t0 + 1s);  // nothing to give back
  REQUIRE(cb.try_acquire(t0 + 1s).permitted);
  CHECK_FALSE(cb.try_acquire(t0 + 1s).permitted);
  cb.on_success(10ms, t0 + 1s);
  CHECK(cb.current() == state::closed);
}

TEST_CASE("circuit_breaker: failed probes re-open it with a growing, capped wait", "[resilience]") {
  auto s = count_window(1, 1, 50);
  s.permitted_calls_in_half_open = 1;
  s.wait_in_open_multiplier = 2;
  s.max_wait_in_open = 3000ms;
  auto cb = make_breaker(s);
  auto t = t0;
  fail(cb, t);
  CHECK(cb.current_wait_in_open() == 1000ms);
  t += 1000ms;
  fail(cb, t);  // the probe fails
  CHECK(cb.current() == state::open);
  CHECK(cb.times_opened() == 2);
  CHECK(cb.current_wait_in_open() == 2000ms);
  CHECK(cb.why_refused(t) ==
        "its circuit breaker is open: the probe call failed (next probe in "
        "2000 ms)");
  CHECK(cb.try_acquire(t + 1999ms).retry_after == 1ms);
  t += 2000ms;
  fail(cb, t);
  CHECK(cb.current_wait_in_open() == 3000ms);  // 4000 ms, capped
  t += 3000ms;
  fail(cb, t);
  CHECK(cb.current_wait_in_open() == 3000ms);
  CHECK(cb.times_opened() == 4);
  t += 3000ms;
  succeed(cb, t);  // the probe succeeds
  CHECK(cb.current() == state::closed);
  fail(cb, t);  // opening from closed starts over at wait_in_open
  CHECK(cb.current() == state::open);
  CHECK(cb.current_wait_in_open() == 1000ms);
  CHECK(cb.try_acquire(t).retry_after == 1000ms);
}

TEST_CASE("circuit_breaker: the default cap is wait_in_open * 1024", "[resilience]") {
  auto s = count_window(1, 1, 50);
  s.wait_in_open = 1ms;
  s.permitted_calls_in_half_open = 1;
  s.wait_in_open_multiplier = 2;
  auto cb = make_breaker(s);
  auto t = t0;
  fail(cb, t);
  for (int k = 1; k <= 12; ++k) {
    t += cb.current_wait_in_open();
    fail(cb, t);
    INFO(k);
    CHECK(cb.current_wait_in_open() == std::chrono::milliseconds{std::min(1 << k, 1024)});
  }
}

TEST_CASE("circuit_breaker: a fractional multiplier grows the wait", "[resilience]") {
  auto s = count_window(1, 1, 50);
  s.permitted_calls_in_half_open = 2;
  s.wait_in_open_multiplier = 1.5;
  auto cb = make_breaker(s);
  fail(cb, t0);
  auto t = t0 + 1000ms;
  fail(cb, t);
  succeed(cb, t);  // 1 of 2 probes failed: 50 % >= 50 %
  CHECK(cb.current() == state::open);
  CHECK(cb.current_wait_in_open() == 1500ms);
  CHECK(cb.failure_rate() == 50);
  CHECK(cb.buffered_calls() == 2);
  CHECK(cb.why_refused(t) ==
        "its circuit breaker is open: failure rate 50 % >= 50 % over 2 probe calls (next probe "
        "in 1500 ms)");
  t += 1500ms;
  fail(cb, t);
  fail(cb, t);
  CHECK(cb.current_wait_in_open() == 2250ms);
}

TEST_CASE("circuit_breaker: forced_open, disabled and reset", "[resilience]") {
  auto cb = make_breaker(count_window(4, 2, 50));
  succeed(cb, t0);
  succeed(cb, t0);
  cb.force_open(t0);
  CHECK(cb.current() == state::forced_open);
  auto p = cb.try_acquire(t0 + 1h);
  CHECK_FALSE(p.permitted);
  CHECK(p.retry_after == 0ms);
  CHECK(cb.why_refused(t0 + 1h) == "its circuit breaker is forced open");
  cb.on_failure(10ms, t0);  // recorded nowhere
  CHECK(cb.buffered_calls() == 2);
  CHECK(cb.failure_rate() == 0);
  CHECK(cb.times_opened() == 0);

  cb.disable();
  CHECK(cb.current() == state::disabled);
  for (int i = 0; i < 10; ++i) fail(cb, t0);
  CHECK(cb.current() == state::disabled);
  CHECK(cb.buffered_calls() == 2);
  CHECK(cb.why_refused(t0).empty());

  cb.reset();
  CHECK(cb.current() == state::closed);
  CHECK(cb.buffered_calls() == 0);
  CHECK(cb.failure_rate() == -1);
  fail(cb, t0);
  fail(cb, t0);
  CHECK(cb.current() == state::open);
  cb.reset();  // from open too
  CHECK(cb.current() == state::closed);
  CHECK(cb.try_acquire(t0).permitted);
  cb.on_ignored(t0);  // nothing to free when closed
  CHECK(cb.buffered_calls() == 0);
}

TEST_CASE("circuit_breaker: the consecutive shorthand is N failures in a row", "[resilience]") {
  auto s = circuit_breaker_settings::consecutive(3, 500ms);
  CHECK(s.window == kind::count_based);
  CHECK(s.window_size == 3);
  CHECK(s.minimum_calls == 3);
  CHECK(s.failure_rate_threshold == 100);
  CHECK(s.slow_call_rate_threshold == 100);
  CHECK(s.wait_in_open == 500ms);
  CHECK(s.permitted_calls_in_half_open == 1);
  auto cb = make_breaker(s);

  fail(cb, t0);
  fail(cb, t0);
  succeed(cb, t0);  // a success in between starts the count over
  fail(cb, t0);
  fail(cb, t0);
  CHECK(cb.current() == state::closed);
  fail(cb, t0);  // the 3rd in a row
  CHECK(cb.current() == state::open);
  CHECK(cb.times_opened() == 1);
  CHECK(cb.why_refused(t0 + 100ms) ==
        "its circuit breaker is open after 3 consecutive failures (next probe in 400 ms)");
  CHECK(cb.try_acquire(t0 + 499ms).retry_after == 1ms);

  // One probe at a time; its failure re-opens for the same wait.
  REQUIRE(cb.try_acquire(t0 + 500ms).permitted);
  CHECK_FALSE(cb.try_acquire(t0 + 500ms).permitted);
  cb.on_failure(10ms, t0 + 600ms);
  CHECK(cb.current() == state::open);
  CHECK(cb.current_wait_in_open() == 500ms);
  CHECK(cb.why_refused(t0 + 600ms) ==
        "its circuit breaker is open: the probe call failed (next probe in 500 ms)");
  REQUIRE(cb.try_acquire(t0 + 1100ms).permitted);
  cb.on_success(10ms, t0 + 1100ms);  // its success closes
  CHECK(cb.current() == state::closed);
  fail(cb, t0 + 2s);
  fail(cb, t0 + 2s);
  CHECK(cb.current() == state::closed);
  fail(cb, t0 + 2s);
  CHECK(cb.current() == state::open);
  CHECK(cb.times_opened() == 3);

  SECTION("slow calls never count") {
    auto quiet = make_breaker(s);
    for (int i = 0; i < 10; ++i) {
      REQUIRE(quiet.try_acquire(t0).permitted);
      quiet.on_success(std::chrono::hours{24 * 365}, t0);
    }
    CHECK(quiet.current() == state::closed);
    CHECK(quiet.slow_call_rate() == 0);
  }
  SECTION("failures: 0 is refused") {
    auto none = circuit_breaker::make(circuit_breaker_settings::consecutive(0, 500ms));
    REQUIRE_FALSE(none);
    CHECK(subject_of(none.error()) == "sliding_window_size");
  }
}

TEST_CASE("circuit_breaker: it stays valid when moved", "[resilience]") {
  auto cb = make_breaker(count_window(2, 2, 50));
  fail(cb, t0);
  auto moved = std::move(cb);
  fail(moved, t0);
  CHECK(moved.current() == state::open);
}
