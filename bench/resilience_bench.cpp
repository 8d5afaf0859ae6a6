// opea-bench-resilience: the cost of the resilience decisions on a call's hot
// path, as a service proxy applies them (runtime/resilience/README.md).
//
//   opea-bench-resilience [Google Benchmark flags, e.g. --benchmark_repetitions=5]
//
// BM_decision_stack: one call that succeeds, everything admitted: deadline
// check + bulkhead try_enter + breaker try_acquire + breaker on_success +
// permit release. Time is injected (advanced by 1 us per call), as the owner
// reads the clock once per call and passes `now`. Target: < 200 ns per call.
// BM_decision_stack/1 uses a count window, /0 a time window.
//
// BM_decision_stack_clock: the same with the clock read (steady_clock::now())
// the owner does per call, for scale.
//
// BM_retry_after_failure: retry_schedule::after_failure for a transient
// failure that is retried (jitter drawn, budget taken and given back).

#include <chrono>
#include <cstdint>
#include <cstdlib>

#include <benchmark/benchmark.h>

#include "runtime/errors.hpp"
#include "runtime/resilience/bulkhead.hpp"
#include "runtime/resilience/circuit_breaker.hpp"
#include "runtime/resilience/deadline.hpp"
#include "runtime/resilience/retry_schedule.hpp"

namespace rt = opea::runtime;
using namespace std::chrono_literals;

namespace {

template <class T>
T need(caf::expected<T> x) {
  if (!x) std::abort();
  return std::move(*x);
}

rt::circuit_breaker make_breaker(bool count_based) {
  rt::circuit_breaker_settings s;
  s.window = count_based ? rt::circuit_breaker_settings::window_kind::count_based
                         : rt::circuit_breaker_settings::window_kind::time_based;
  s.window_size = count_based ? 100 : 60;
  return need(rt::circuit_breaker::make(s));
}

rt::bulkhead make_bulkhead() {
  rt::bulkhead_settings s;
  s.max_concurrent_calls = 64;
  s.max_queue = 64;
  return need(rt::bulkhead::make(s));
}

/// One call through the stack; returns false if anything refused it.
inline bool one_call(rt::bulkhead& bh, rt::circuit_breaker& cb, uint64_t id,
                     std::chrono::steady_clock::time_point now) {
  auto d = rt::deadline::after(5s, now);
  if (d.expired(now)) return false;
  auto e = bh.try_enter(id, now, d.when());
  if (e.result != rt::bulkhead::outcome::admitted) return false;
  auto p = cb.try_acquire(now);
  if (!p.permitted) return false;
  cb.on_success(3ms, now);
  e.slot.release();
  return true;
}

void BM_decision_stack(benchmark::State& state) {
  auto bh = make_bulkhead();
  auto cb = make_breaker(state.range(0) != 0);
  auto now = std::chrono::steady_clock::time_point{} + 1000s;
  uint64_t id = 0;
  for (auto _ : state) {
    now += 1us;
    bool ok = one_call(bh, cb, ++id, now);
    benchmark::DoNotOptimize(ok);
  }
  if (bh.in_flight() != 0 || cb.current() != rt::circuit_breaker::state::closed)
    state.SkipWithError("the stack did not end where it started");
}
BENCHMARK(BM_decision_stack)->Arg(1)->Arg(0);

void BM_decision_stack_clock(benchmark::State& state) {
  auto bh = make_bulkhead();
  auto cb = make_breaker(true);
  uint64_t id = 0;
  for (auto _ : state) {
    bool ok = one_call(bh, cb, ++id, std::chrono::steady_clock::now());
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_decision_stack_clock);

void BM_retry_after_failure(benchmark::State& state) {
  rt::retry_settings s;
  s.attempts = 3;
  s.seed = 1;
  auto rs = need(rt::retry_schedule::make(s, true));
  auto budget = rt::retry_budget::of(s);
  auto err = rt::make_error(rt::errc::http_connect, "s", "refused");
  auto now = std::chrono::steady_clock::time_point{} + 1000s;
  auto until = now + 10s;
  for (auto _ : state) {
    auto d = rs.after_failure(1, err, false, now, until, budget, 10);
    benchmark::DoNotOptimize(d);
    budget.release();
  }
}
BENCHMARK(BM_retry_after_failure);

}  // namespace

BENCHMARK_MAIN();
