// opea-bench-orchestrator: the orchestrator's own cost per DAG hop, in process.
//
//   opea-bench-orchestrator [--caf-threads N] [--caf-policy spinning|sharing|stealing]
//                           [Google Benchmark flags, e.g. --benchmark_repetitions=5]
//
// BM_megaservice_chain/N/K: a megaservice whose graph is a linear chain of N
// trivial in-process services (each handler returns its input), driven
// through `async_schedule` with K requests kept in flight (every completion
// issues the next request from the completion callback, on a CAF thread).
// Each benchmark iteration is a batch of kBatch requests; wall time is used
// (the work runs on CAF threads, not on the benchmark thread). Counters:
//   us_per_req  wall time per completed request (at K in flight, 1/throughput)
//   req_per_s   completed requests per second
//   us_per_hop  us_per_req / N: the naive cost per hop, fixed per-request
//               costs (flow actor spawn, ids, metrics, result) included
// After all benchmarks ran, main prints the per-hop cost as the SLOPE between
// chain lengths, (t(10) - t(1)) / 9 and (t(3) - t(1)) / 2: the marginal cost
// of one more hop, with the per-request fixed cost cancelled out. That slope
// is what the target "orchestrator cost per DAG hop < 10 us" is checked on.
//
// BM_flow_state_chain/N: the pure scheduling logic (flow_state: start,
// input_of, complete, final_output) over a chain of N, without actors.
//
// The CAF scheduler defaults to what opea-node uses by default: policy
// `spinning` (runtime/scheduler.hpp), max-threads = hardware threads.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <caf/all.hpp>

#include "monitoring/metrics_registry.hpp"
#include "runtime/dag/flow_state.hpp"
#include "runtime/dag/service_orchestrator.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "runtime/scheduler.hpp"

namespace rt = opea::runtime;

namespace {

constexpr int64_t kBatch = 2000;

struct bench_options {
  size_t caf_threads = std::max(1u, std::thread::hardware_concurrency());
  rt::scheduler_policy caf_policy = rt::scheduler_policy::spinning;
};

bench_options& options() {
  static bench_options opts;
  return opts;
}

/// One actor system and metrics registry for the whole run (as in a node).
/// Members are destroyed in reverse order: the actor system (which waits for
/// every actor) goes before the metrics its actors update.
struct environment {
  opea::monitoring::metrics_registry metrics{"bench"};
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;

  environment() {
    rt::configure_scheduler(cfg, options().caf_policy, options().caf_threads);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

std::unique_ptr<environment>& env_holder() {
  static std::unique_ptr<environment> e;
  return e;
}

environment& env() {
  auto& e = env_holder();
  if (!e) e = std::make_unique<environment>();
  return *e;
}

rt::service_handler identity() {
  return
      [](const rt::json& in, const rt::request_context&) -> caf::expected<rt::json> { return in; };
}

rt::service_orchestrator chain(int n) {
  rt::service_orchestrator orch;
  for (int i = 0; i < n; ++i)
    orch.add(rt::micro_service::local("s" + std::to_string(i), identity()));
  for (int i = 1; i < n; ++i) orch.flow_to("s" + std::to_string(i - 1), "s" + std::to_string(i));
  return orch;
}

const rt::json& sample_input() {
  static const rt::json input = {{"text", "hello opea"}, {"max_tokens", 16}};
  return input;
}

/// Keeps `in_flight` requests running until `total` completed.
class batch_driver : public std::enable_shared_from_this<batch_driver> {
 public:
  batch_driver(const rt::megaservice& mega, int64_t total, int64_t in_flight)
      : mega_(mega), total_(total), in_flight_(in_flight) {}

  /// Returns the number of failed requests.
  int64_t run() {
    auto first = std::min(total_, in_flight_);
    issued_ = first;
    for (int64_t i = 0; i < first; ++i) issue();
    std::unique_lock<std::mutex> guard{mx_};
    cv_.wait(guard, [this] { return finished_; });
    return failed_.load();
  }

 private:
  void issue() {
    auto self = shared_from_this();
    mega_.async_schedule(sample_input(), {}, [self](caf::expected<rt::flow_result> res) {
      if (!res) self->failed_.fetch_add(1, std::memory_order_relaxed);
      self->on_done();
    });
  }

  void on_done() {
    if (issued_.fetch_add(1, std::memory_order_relaxed) < total_) {
      issue();
    }
    if (completed_.fetch_add(1, std::memory_order_acq_rel) + 1 == total_) {
      std::lock_guard<std::mutex> guard{mx_};
      finished_ = true;
      cv_.notify_one();
    }
  }

  const rt::megaservice& mega_;
  const int64_t total_;
  const int64_t in_flight_;
  std::atomic<int64_t> issued_{0};
  std::atomic<int64_t> completed_{0};
  std::atomic<int64_t> failed_{0};
  std::mutex mx_;
  std::condition_variable cv_;
  bool finished_ = false;
};

/// us_per_req of every (chain length, in flight) run, for the slope summary.
std::map<std::pair<int, int>, std::vector<double>>& results() {
  static std::map<std::pair<int, int>, std::vector<double>> r;
  return r;
}

void BM_megaservice_chain(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const int k = static_cast<int>(state.range(1));
  auto& e = env();
  rt::megaservice_options opts;
  opts.name = "chain" + std::to_string(n);
  rt::megaservice mega{*e.sys, chain(n), opts, e.metrics};
  // Warm-up: service actors spawned, allocator and caches warm.
  std::make_shared<batch_driver>(mega, 200, k)->run();
  int64_t failed = 0;
  double seconds = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    failed += std::make_shared<batch_driver>(mega, kBatch, k)->run();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  if (failed > 0) {
    state.SkipWithError("some requests failed");
    return;
  }
  auto requests = static_cast<double>(state.iterations() * kBatch);
  auto us_per_req = seconds * 1e6 / requests;
  state.SetItemsProcessed(static_cast<int64_t>(requests));
  state.counters["us_per_req"] = us_per_req;
  state.counters["req_per_s"] = requests / seconds;
  state.counters["us_per_hop"] = us_per_req / n;
  results()[{n, k}].push_back(us_per_req);
}

void BM_flow_state_chain(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto graph = chain(n).compile();
  auto input = std::make_shared<const rt::json>(sample_input());
  for (auto _ : state) {
    rt::flow_state fs{graph};
    auto ready = fs.start();
    while (!ready.empty()) {
      std::vector<size_t> next;
      for (auto i : ready) {
        auto in = fs.input_of(i, input);
        if (!in) {
          state.SkipWithError("input_of failed");
          return;
        }
        // The trivial service: its output is its input (shared, no copy).
        auto more = fs.complete(i, std::move(*in));
        if (!more) {
          state.SkipWithError("complete failed");
          return;
        }
        next.insert(next.end(), more->begin(), more->end());
      }
      ready = std::move(next);
    }
    auto out = fs.final_output();
    benchmark::DoNotOptimize(out);
  }
  state.counters["ns_per_hop"] =
      benchmark::Counter(static_cast<double>(state.iterations() * n),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK(BM_megaservice_chain)
    ->ArgNames({"chain", "in_flight"})
    ->ArgsProduct({{1, 3, 10}, {1, 32}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_flow_state_chain)->ArgName("chain")->Arg(1)->Arg(3)->Arg(10);

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

void print_slopes() {
  auto& r = results();
  bool any = false;
  for (int k : {1, 32}) {
    auto t1 = r.find({1, k});
    auto t3 = r.find({3, k});
    auto t10 = r.find({10, k});
    if (t1 == r.end() || t10 == r.end()) continue;
    if (!any) {
      std::printf(
          "\nPer-hop cost as the slope between chain lengths (median of runs, wall time "
          "per request):\n");
      any = true;
    }
    auto a = median(t1->second);
    auto c = median(t10->second);
    std::printf("  in_flight=%-2d  t(1)=%.2f us  ", k, a);
    if (t3 != r.end()) std::printf("t(3)=%.2f us  ", median(t3->second));
    std::printf("t(10)=%.2f us  slope (t10-t1)/9 = %.2f us/hop", c, (c - a) / 9);
    if (t3 != r.end()) std::printf("  (t3-t1)/2 = %.2f us/hop", (median(t3->second) - a) / 2);
    std::printf("  fixed per request ~ %.2f us\n", a - (c - a) / 9);
  }
  if (any)
    std::printf("  (CAF scheduler: policy %s, %zu threads; target: slope < 10 us/hop)\n",
                std::string{rt::to_string(options().caf_policy)}.c_str(), options().caf_threads);
}

}  // namespace

int main(int argc, char** argv) {
  // Strip our own flags before Google Benchmark sees the rest.
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--caf-threads") == 0 && i + 1 < argc) {
      options().caf_threads = std::max(1ul, std::strtoul(argv[++i], nullptr, 10));
    } else if (std::strcmp(argv[i], "--caf-policy") == 0 && i + 1 < argc) {
      auto policy = rt::parse_scheduler_policy(argv[++i]);
      if (!policy) {
        std::fprintf(stderr, "--caf-policy must be spinning, sharing or stealing\n");
        return 2;
      }
      options().caf_policy = *policy;
    } else {
      rest.push_back(argv[i]);
    }
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  // Stop every actor before static destruction begins.
  env_holder().reset();
  print_slopes();
  return 0;
}
