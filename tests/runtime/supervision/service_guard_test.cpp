#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include <caf/sec.hpp>

#include "monitoring/metrics_registry.hpp"
#include "runtime/errors.hpp"
#include "runtime/supervision/service_guard.hpp"

using namespace opea::runtime;
using namespace std::chrono_literals;

namespace {

const service_guard::clock::time_point t0{std::chrono::seconds{1000}};

std::string describe_admission(const service_guard::admission& a) {
  return a.error ? describe(a.error) : (a.probe ? "probe" : "admitted");
}

}  // namespace

TEST_CASE("bulkhead: calls over max_in_flight fail at once until one ends", "[guard]") {
  service_guard g{"svc", {}, bulkhead_policy{2}};
  auto a = g.admit(t0);
  auto b = g.admit(t0);
  REQUIRE(describe_admission(a) == "admitted");
  REQUIRE(describe_admission(b) == "admitted");
  auto c = g.admit(t0);
  REQUIRE(code_of(c.error) == errc::overloaded);
  REQUIRE(describe(c.error) ==
          "overloaded (svc): its bulkhead limit is reached: max_in_flight = 2 call(s) "
          "already in flight");
  REQUIRE(g.in_flight() == 2);
  g.release(a, true, t0);
  REQUIRE(g.in_flight() == 1);
  REQUIRE(describe_admission(g.admit(t0)) == "admitted");
  REQUIRE(g.in_flight() == 2);
}

TEST_CASE("bulkhead queue: waiting calls get freed slots in arrival order", "[guard]") {
  service_guard g{"svc", {}, bulkhead_policy{1, 2}};
  std::vector<std::string> woken;
  auto a = g.admit(t0, [&] { woken.push_back("a"); });
  REQUIRE(describe_admission(a) == "admitted");
  auto b = g.admit(t0, [&] { woken.push_back("b"); });
  auto c = g.admit(t0, [&] { woken.push_back("c"); });
  REQUIRE(b.queued);
  REQUIRE(c.queued);
  REQUIRE(g.queued() == 2);
  auto d = g.admit(t0, [&] { woken.push_back("d"); });
  REQUIRE(describe(d.error) ==
          "overloaded (svc): its bulkhead limit is reached: max_in_flight = 1 call(s) already "
          "in flight and max_queue = 2 waiting");
  // Without an on_slot a call cannot wait.
  REQUIRE(code_of(g.admit(t0).error) == errc::overloaded);
  g.release(a, false, t0);  // the slot passes to b
  REQUIRE(woken == std::vector<std::string>{"b"});
  REQUIRE(g.in_flight() == 1);
  auto b2 = g.resume(t0);
  REQUIRE(describe_admission(b2) == "admitted");
  g.cancel(b2);  // b was not sent after all: the slot passes to c
  REQUIRE(woken == std::vector<std::string>{"b", "c"});
  g.release(g.resume(t0), false, t0);
  REQUIRE(g.in_flight() == 0);
  REQUIRE(g.queued() == 0);
}

TEST_CASE("circuit breaker: closed -> open -> half-open -> closed or open again", "[guard]") {
  opea::monitoring::metrics_registry metrics{"test"};
  auto& gauge = metrics.service_circuit_state.Add({{"megaservice", "m"}, {"service", "svc"}});
  service_guard g{"svc", breaker_policy{3, 100ms}, {}, &gauge};
  // Failures must be consecutive: a success in between starts the count anew.
  for (int i = 0; i < 2; ++i) g.release(g.admit(t0), true, t0);
  g.release(g.admit(t0), false, t0);
  for (int i = 0; i < 2; ++i) g.release(g.admit(t0), true, t0);
  REQUIRE(g.state() == circuit_state::closed);
  // A call admitted now and ending after the circuit opened does not count.
  auto straggler = g.admit(t0);
  g.release(g.admit(t0), true, t0);  // third in a row: open
  REQUIRE(g.state() == circuit_state::open);
  REQUIRE(gauge.Value() == 1);
  g.release(straggler, false, t0 + 1ms);
  REQUIRE(g.state() == circuit_state::open);

  auto rejected = g.admit(t0 + 40ms);
  REQUIRE(code_of(rejected.error) == errc::service_unavailable);
  REQUIRE(http_status_of(rejected.error) == 503);
  REQUIRE(describe(rejected.error) ==
          "service 'svc' is unavailable: its circuit breaker is open after 3 consecutive "
          "failures (next probe in 60 ms)");

  // After open_for, one probe passes; others wait for its answer.
  auto probe = g.admit(t0 + 100ms);
  REQUIRE(describe_admission(probe) == "probe");
  REQUIRE(g.state() == circuit_state::half_open);
  REQUIRE(gauge.Value() == 2);
  REQUIRE(describe(g.admit(t0 + 101ms).error) ==
          "service 'svc' is unavailable: its circuit breaker is half-open and its probe call "
          "has not answered yet");

  SECTION("a failed probe opens the circuit again, from the probe's end") {
    g.release(probe, true, t0 + 150ms);
    REQUIRE(g.state() == circuit_state::open);
    REQUIRE(describe(g.admit(t0 + 200ms).error) ==
            "service 'svc' is unavailable: its circuit breaker is open after 3 consecutive "
            "failures (next probe in 50 ms)");
    REQUIRE(describe_admission(g.admit(t0 + 250ms)) == "probe");
  }
  SECTION("a successful probe closes it") {
    g.release(probe, false, t0 + 150ms);
    REQUIRE(g.state() == circuit_state::closed);
    REQUIRE(gauge.Value() == 0);
    REQUIRE(describe_admission(g.admit(t0 + 151ms)) == "admitted");
  }
}

TEST_CASE("circuit breaker with a bulkhead: a rejected call frees its bulkhead slot",
          "[guard]") {
  service_guard g{"svc", breaker_policy{1, 1s}, bulkhead_policy{1}};
  g.release(g.admit(t0), true, t0);  // open
  REQUIRE(g.admit(t0).error);
  REQUIRE(g.in_flight() == 0);
}

TEST_CASE("a queued call finds the circuit open when its slot comes", "[guard]") {
  service_guard g{"svc", breaker_policy{1, 1s}, bulkhead_policy{1, 1}};
  bool woken = false;
  auto a = g.admit(t0);
  REQUIRE(g.admit(t0, [&] { woken = true; }).queued);
  g.release(a, true, t0);  // opens the circuit; the slot passes to the waiting call
  REQUIRE(woken);
  auto late = g.resume(t0);
  REQUIRE(describe(late.error) ==
          "service 'svc' is unavailable: its circuit breaker is open after 1 consecutive "
          "failures (next probe in 1000 ms)");
  REQUIRE(g.in_flight() == 0);  // the refused call gave its slot back
}

TEST_CASE("which errors count against a service", "[guard]") {
  CHECK_FALSE(service_guard::counts_as_failure(caf::error{}));
  CHECK_FALSE(service_guard::counts_as_failure(make_error(errc::bad_request, "s", "x")));
  CHECK_FALSE(service_guard::counts_as_failure(make_error(errc::cancelled, "s", "x")));
  CHECK(service_guard::counts_as_failure(make_error(errc::service_failed, "s", "x")));
  CHECK(service_guard::counts_as_failure(make_error(errc::service_crashed, "s", "x")));
  CHECK(service_guard::counts_as_failure(make_error(errc::deadline_exceeded, "s", "x")));
  CHECK(service_guard::counts_as_failure(make_error(errc::http_connect, "s", "x")));
  CHECK(service_guard::counts_as_failure(make_error(errc::node_down, "s", "x")));
  CHECK(service_guard::counts_as_failure(caf::make_error(caf::sec::request_receiver_down)));
}

TEST_CASE("bulkhead: concurrent admits never exceed the limit", "[guard]") {
  service_guard g{"svc", {}, bulkhead_policy{3}};
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        auto a = g.admit(t0);
        if (a.error) continue;
        auto now = ++inside;
        for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
        }
        --inside;
        g.release(a, false, t0);
      }
    });
  for (auto& t : threads) t.join();
  REQUIRE(most.load() <= 3);
  REQUIRE(g.in_flight() == 0);
}
