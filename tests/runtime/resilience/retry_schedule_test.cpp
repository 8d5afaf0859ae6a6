#include <catch2/catch.hpp>

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <caf/sec.hpp>

#include "runtime/errors.hpp"
#include "runtime/resilience/retry_schedule.hpp"

using namespace opea::runtime;
using namespace std::chrono_literals;

namespace {

using time_point = retry_schedule::time_point;
using verdict = retry_schedule::verdict;

const time_point t0 = time_point{} + 1000s;
const time_point no_deadline = time_point::max();

retry_settings three_attempts(uint64_t seed = 7) {
  retry_settings s;
  s.attempts = 3;
  s.backoff = 100ms;
  s.max_backoff = 1000ms;
  s.seed = seed;
  return s;
}

retry_schedule make_schedule(const retry_settings& s, bool idempotent = true) {
  auto r = retry_schedule::make(s, idempotent);
  REQUIRE(r);
  return std::move(*r);
}

caf::error transient() {
  return make_error(errc::http_connect, "s", "connection refused");
}

}  // namespace

TEST_CASE("retry_schedule::make refuses each invalid setting by its config key", "[resilience]") {
  struct bad {
    const char* key;
    std::function<void(retry_settings&)> set;
  };
  std::vector<bad> cases{
      {"attempts", [](auto& s) { s.attempts = 0; }},
      {"attempts", [](auto& s) { s.attempts = 101; }},
      {"backoff_ms", [](auto& s) { s.backoff = 0ms; }},
      {"backoff_ms", [](auto& s) { s.backoff = 3600001ms; }},
      {"max_backoff_ms", [](auto& s) { s.max_backoff = 49ms; }},
      {"max_backoff_ms", [](auto& s) { s.max_backoff = 3600001ms; }},
      {"budget_percent", [](auto& s) { s.budget_percent = 0; }},
      {"budget_percent", [](auto& s) { s.budget_percent = 100.5; }},
      {"budget_percent",
       [](auto& s) { s.budget_percent = std::numeric_limits<double>::quiet_NaN(); }},
  };
  for (const auto& c : cases) {
    retry_settings s;
    c.set(s);
    auto r = retry_schedule::make(s, true);
    INFO(c.key);
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == errc::bad_request);
    CHECK(subject_of(r.error()) == c.key);
    CHECK_FALSE(detail_of(r.error()).empty());
  }
  retry_settings s;
  s.budget_percent = 0;
  CHECK(detail_of(retry_schedule::make(s, true).error()) ==
        "is 0; must be a percentage in (0, 100]");

  // Retrying a service that is not idempotent is refused by name.
  s = retry_settings{};
  s.attempts = 2;
  auto r = retry_schedule::make(s, false);
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == errc::bad_request);
  CHECK(subject_of(r.error()) == "attempts");
  CHECK(detail_of(r.error()) ==
        "is 2 but the service is not idempotent: only an idempotent service may be retried "
        "(attempts must be 1)");
  s.attempts = 1;  // no retry is fine for any service
  CHECK(retry_schedule::make(s, false));
  s.attempts = 100;
  s.backoff = 3600000ms;
  s.max_backoff = 3600000ms;
  s.budget_percent = 100;
  s.min_retry_concurrency = 0;
  CHECK(retry_schedule::make(s, true));
}

TEST_CASE("retry_schedule: one verdict per reason, in order", "[resilience]") {
  auto rs = make_schedule(three_attempts());
  retry_budget budget{20, 3};

  SECTION("retry") {
    auto d = rs.after_failure(1, transient(), false, t0, no_deadline, budget, 1);
    CHECK(d.v == verdict::retry);
    CHECK(d.wait >= 0ms);
    CHECK(d.wait <= 100ms);
    CHECK(budget.active_retries() == 1);  // held until the owner releases it
    d = rs.after_failure(2, transient(), false, t0, no_deadline, budget, 1);
    CHECK(d.v == verdict::retry);
    CHECK(d.wait <= 200ms);
    CHECK(budget.active_retries() == 2);
  }
  SECTION("not_idempotent") {
    retry_settings once;
    once.seed = 1;
    auto plain = make_schedule(once, false);
    CHECK_FALSE(plain.idempotent());
    auto d = plain.after_failure(1, transient(), false, t0, no_deadline, budget, 1);
    CHECK(d.v == verdict::not_idempotent);
    CHECK(d.wait == 0ms);
  }
  SECTION("not_transient") {
    auto d = rs.after_failure(1, make_error(errc::http_status, "s", "HTTP 500"), false, t0,
                              no_deadline, budget, 1);
    CHECK(d.v == verdict::not_transient);
  }
  SECTION("exhausted") {
    CHECK(rs.after_failure(3, transient(), false, t0, no_deadline, budget, 1).v ==
          verdict::exhausted);
    CHECK(rs.after_failure(4, transient(), false, t0, no_deadline, budget, 1).v ==
          verdict::exhausted);
  }
  SECTION("breaker_open") {
    CHECK(rs.after_failure(1, transient(), true, t0, no_deadline, budget, 1).v ==
          verdict::breaker_open);
  }
  SECTION("deadline") {
    // now + wait < deadline fails for any wait when the deadline is now.
    CHECK(rs.after_failure(1, transient(), false, t0, t0, budget, 1).v == verdict::deadline);
    // A wait of at most 100 ms always fits before a deadline 101 ms away.
    CHECK(rs.after_failure(1, transient(), false, t0, t0 + 101ms, budget, 1).v == verdict::retry);
  }
  SECTION("budget") {
    retry_budget none{20, 0};  // 20 % of 4 calls = 0.8: no retry at once
    auto d = rs.after_failure(1, transient(), false, t0, no_deadline, none, 4);
    CHECK(d.v == verdict::budget);
    CHECK(d.wait == 0ms);
    CHECK(none.active_retries() == 0);
    CHECK(rs.after_failure(1, transient(), false, t0, no_deadline, none, 5).v == verdict::retry);
  }
}

TEST_CASE("retry_schedule: the checks before the budget do not consume it", "[resilience]") {
  auto rs = make_schedule(three_attempts());
  retry_budget budget{20, 1};
  CHECK(rs.after_failure(1, transient(), true, t0, no_deadline, budget, 1).v ==
        verdict::breaker_open);
  CHECK(rs.after_failure(1, transient(), false, t0, t0, budget, 1).v == verdict::deadline);
  CHECK(rs.after_failure(3, transient(), false, t0, no_deadline, budget, 1).v ==
        verdict::exhausted);
  CHECK(budget.active_retries() == 0);
  CHECK(rs.after_failure(1, transient(), false, t0, no_deadline, budget, 1).v == verdict::retry);
  CHECK(budget.active_retries() == 1);
  CHECK(rs.after_failure(1, transient(), false, t0, no_deadline, budget, 1).v == verdict::budget);
  budget.release();
  CHECK(rs.after_failure(1, transient(), false, t0, no_deadline, budget, 1).v == verdict::retry);
}

TEST_CASE("retry_schedule: which errors are transient", "[resilience]") {
  CHECK(retry_schedule::is_transient(make_error(errc::http_connect, "s", "")));
  CHECK(retry_schedule::is_transient(make_error(errc::http_timeout, "s", "")));
  CHECK(retry_schedule::is_transient(make_error(errc::service_crashed, "s", "")));
  CHECK(retry_schedule::is_transient(make_error(errc::node_down, "s", "")));
  CHECK(retry_schedule::is_transient(caf::make_error(caf::sec::request_receiver_down)));
  for (auto code : {errc::service_failed, errc::http_status, errc::bad_response, errc::bad_request,
                    errc::cancelled, errc::deadline_exceeded, errc::overloaded,
                    errc::service_unavailable, errc::invalid_graph}) {
    INFO(to_string(code));
    CHECK_FALSE(retry_schedule::is_transient(make_error(code, "s", "")));
  }
  CHECK_FALSE(retry_schedule::is_transient(caf::make_error(caf::sec::request_timeout)));
  CHECK_FALSE(retry_schedule::is_transient(caf::error{}));
}

TEST_CASE("retry_schedule: full jitter stays within the exponential bound", "[resilience]") {
  auto s = three_attempts(42);
  s.attempts = 100;
  auto rs = make_schedule(s);
  CHECK(rs.max_wait(1) == 100ms);
  CHECK(rs.max_wait(2) == 200ms);
  CHECK(rs.max_wait(3) == 400ms);
  CHECK(rs.max_wait(4) == 800ms);
  CHECK(rs.max_wait(5) == 1000ms);
  CHECK(rs.max_wait(99) == 1000ms);
  retry_budget budget{100, 1000000};
  for (uint32_t attempt = 1; attempt <= 6; ++attempt) {
    auto bound = rs.max_wait(attempt);
    std::chrono::milliseconds lowest{bound}, highest{0};
    for (int i = 0; i < 500; ++i) {
      auto d = rs.after_failure(attempt, transient(), false, t0, no_deadline, budget, 1);
      REQUIRE(d.v == verdict::retry);
      REQUIRE(d.wait >= 0ms);
      REQUIRE(d.wait <= bound);
      lowest = std::min(lowest, d.wait);
      highest = std::max(highest, d.wait);
    }
    INFO(attempt);
    // 500 uniform draws spread over the whole range, not a fixed backoff.
    CHECK(lowest < bound / 10);
    CHECK(highest > bound * 9 / 10);
  }
}

TEST_CASE("retry_schedule: the same seed gives the same waits", "[resilience]") {
  auto s = three_attempts(123);
  s.attempts = 10;
  auto a = make_schedule(s);
  auto b = make_schedule(s);
  s.seed = 124;
  auto c = make_schedule(s);
  CHECK(a.settings().seed == 123);
  retry_budget budget{100, 1000};
  std::vector<int64_t> wa, wb, wc;
  for (uint32_t i = 0; i < 50; ++i) {
    uint32_t attempt = 1 + i % 9;
    wa.push_back(
        a.after_failure(attempt, transient(), false, t0, no_deadline, budget, 1).wait.count());
    wb.push_back(
        b.after_failure(attempt, transient(), false, t0, no_deadline, budget, 1).wait.count());
    wc.push_back(
        c.after_failure(attempt, transient(), false, t0, no_deadline, budget, 1).wait.count());
  }
  CHECK(wa == wb);
  CHECK(wa != wc);

  // Seed 0 draws a random seed at make() and reports it, so a run can be replayed.
  s.seed = 0;
  auto r = make_schedule(s);
  CHECK(r.settings().seed != 0);
  s.seed = r.settings().seed;
  auto replay = make_schedule(s);
  for (int i = 0; i < 20; ++i)
    CHECK(r.after_failure(5, transient(), false, t0, no_deadline, budget, 1).wait ==
          replay.after_failure(5, transient(), false, t0, no_deadline, budget, 1).wait);
}

TEST_CASE("retry_budget: max(min concurrency, percent of active calls)", "[resilience]") {
  retry_budget b{20, 3};
  CHECK(b.limit(0) == 3);
  CHECK(b.limit(10) == 3);
  CHECK(b.limit(19) == 3);  // 3.8 rounds down
  CHECK(b.limit(20) == 4);
  CHECK(b.limit(100) == 20);
  CHECK(b.try_acquire(10));
  CHECK(b.try_acquire(10));
  CHECK(b.try_acquire(10));
  CHECK_FALSE(b.try_acquire(10));  // 3 retries at once is the floor
  CHECK(b.active_retries() == 3);
  CHECK(b.try_acquire(20));  // 20 % of 20 calls = 4
  CHECK_FALSE(b.try_acquire(20));
  b.release();
  CHECK(b.active_retries() == 3);
  CHECK_FALSE(b.try_acquire(10));
  CHECK(b.try_acquire(20));
  for (int i = 0; i < 10; ++i) b.release();
  CHECK(b.active_retries() == 0);  // never below zero

  retry_budget zero{50, 0};
  CHECK_FALSE(zero.try_acquire(1));  // 0.5 rounds down to 0
  CHECK(zero.try_acquire(2));

  retry_settings s;
  s.budget_percent = 50;
  s.min_retry_concurrency = 1;
  auto of = retry_budget::of(s);
  CHECK(of.limit(1) == 1);
  CHECK(of.limit(10) == 5);
  retry_budget defaults;
  CHECK(defaults.limit(0) == 3);
  CHECK(defaults.limit(100) == 20);
}

TEST_CASE("retry_schedule: verdict names", "[resilience]") {
  CHECK(std::string{to_string(verdict::retry)} == "retry");
  CHECK(std::string{to_string(verdict::not_idempotent)} == "not_idempotent");
  CHECK(std::string{to_string(verdict::not_transient)} == "not_transient");
  CHECK(std::string{to_string(verdict::exhausted)} == "exhausted");
  CHECK(std::string{to_string(verdict::breaker_open)} == "breaker_open");
  CHECK(std::string{to_string(verdict::deadline)} == "deadline");
  CHECK(std::string{to_string(verdict::budget)} == "budget");
}
