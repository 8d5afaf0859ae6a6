#include <catch2/catch.hpp>

#include "runtime/supervision/restart_window.hpp"

using namespace opea::runtime;
using namespace std::chrono_literals;

TEST_CASE("restart intensity: N restarts within T, then the failure escalates", "[supervision]") {
  restart_policy pol;
  pol.max_restarts = 3;
  pol.period = 10s;
  pol.backoff_base = 10ms;
  pol.backoff_max = 15ms;
  restart_window w{pol};
  auto t0 = std::chrono::steady_clock::time_point{} + 100s;
  REQUIRE(w.on_crash(t0) == 0ms);        // first restart is immediate
  REQUIRE(w.on_crash(t0 + 1s) == 10ms);  // then exponential backoff
  REQUIRE(w.on_crash(t0 + 2s) == 15ms);  // 20 ms, capped at backoff_max
  REQUIRE(w.restarts_in_window(t0 + 2s) == 3);
  REQUIRE_FALSE(w.on_crash(t0 + 3s));  // 4th crash within 10 s: give up
  // Once the oldest restarts leave the window, restarts are allowed again.
  // At t0 + 10.5 s the restart of t0 has left the window (10 s old or more).
  REQUIRE(w.restarts_in_window(t0 + 10500ms) == 2);
  REQUIRE(w.on_crash(t0 + 10500ms) == 15ms);  // 3rd in the window, capped
  REQUIRE_FALSE(w.on_crash(t0 + 10600ms));
  REQUIRE(w.restarts_in_window(t0 + 12500ms) == 1);
  REQUIRE(w.on_crash(t0 + 12500ms) == 10ms);
}

TEST_CASE("a window that empties resets the backoff", "[supervision]") {
  restart_window w{restart_policy{}};
  auto t0 = std::chrono::steady_clock::time_point{} + 100s;
  REQUIRE(w.on_crash(t0) == 0ms);
  REQUIRE(w.on_crash(t0 + 1s) == 10ms);
  REQUIRE(w.on_crash(t0 + 60s) == 0ms);
}

TEST_CASE("max_restarts 0 never restarts", "[supervision]") {
  restart_policy pol;
  pol.max_restarts = 0;
  restart_window w{pol};
  REQUIRE_FALSE(w.on_crash(std::chrono::steady_clock::now()));
}
