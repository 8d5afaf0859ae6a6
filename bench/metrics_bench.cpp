// The cost of one metric observation on the hot path (issue "observability":
// < 100 ns): a counter increment, a histogram observation (prometheus-cpp),
// a latency-statistics record (OPEA's /v1/statistics window), from one
// thread and from two at once on the same series (Google Benchmark).
//
// Usage: opea-bench-metrics [--benchmark_repetitions=5 ...]

#include <benchmark/benchmark.h>

#include "monitoring/metrics_registry.hpp"

namespace {

using opea::monitoring::megaservice_instruments;
using opea::monitoring::metrics_registry;
using opea::monitoring::service_instruments;

metrics_registry& registry() {
  static metrics_registry reg{"bench"};
  return reg;
}

const service_instruments& instruments() {
  static service_instruments ins{registry(), "mega", "svc"};
  return ins;
}

void counter_increment(benchmark::State& state) {
  auto* c = instruments().requests;
  for (auto _ : state) c->Increment();
}

/// Runs `observe` with latencies from 100 us to about 1 s, in turn.
template <class Observe>
void with_latencies(benchmark::State& state, Observe observe) {
  double v = 0.0001;
  for (auto _ : state) {
    observe(v);
    v = v < 1 ? v * 1.7 : 0.0001;
  }
}

void histogram_observe(benchmark::State& state) {
  auto* h = instruments().duration;
  with_latencies(state, [h](double v) { h->Observe(v); });
}

void statistics_record(benchmark::State& state) {
  auto* s = instruments().stats.get();
  with_latencies(state, [s](double v) { s->record(v); });
}

/// What a service call observes when it finishes: the three above.
void service_call_observations(benchmark::State& state) {
  const auto& ins = instruments();
  with_latencies(state, [&ins](double v) {
    ins.requests->Increment();
    ins.duration->Observe(v);
    ins.stats->record(v);
  });
}

}  // namespace

BENCHMARK(counter_increment)->Threads(1)->Threads(2);
BENCHMARK(histogram_observe)->Threads(1)->Threads(2);
BENCHMARK(statistics_record)->Threads(1)->Threads(2);
BENCHMARK(service_call_observations)->Threads(1)->Threads(2);
BENCHMARK_MAIN();
