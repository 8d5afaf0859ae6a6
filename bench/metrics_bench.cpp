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

void histogram_observe(benchmark::State& state) {
  auto* h = instruments().duration;
  double v = 0.0001;
  for (auto _ : state) {
    h->Observe(v);
    v = v < 1 ? v * 1.7 : 0.0001;
  }
}

void statistics_record(benchmark::State& state) {
  auto* s = instruments().stats;
  double v = 0.0001;
  for (auto _ : state) {
    s->record(v);
    v = v < 1 ? v * 1.7 : 0.0001;
  }
}

/// What a service call observes when it finishes: the three above.
void service_call_observations(benchmark::State& state) {
  const auto& ins = instruments();
  double v = 0.0001;
  for (auto _ : state) {
    ins.requests->Increment();
    ins.duration->Observe(v);
    ins.stats->record(v);
    v = v < 1 ? v * 1.7 : 0.0001;
  }
}

}  // namespace

BENCHMARK(counter_increment)->Threads(1)->Threads(2);
BENCHMARK(histogram_observe)->Threads(1)->Threads(2);
BENCHMARK(statistics_record)->Threads(1)->Threads(2);
BENCHMARK(service_call_observations)->Threads(1)->Threads(2);
BENCHMARK_MAIN();
