// opea-bench-rate: an open-loop HTTP load at a fixed request rate, for
// latency added per hop as Dapr publishes it (issue "observability"): POSTs a
// JSON body of about --bytes bytes to --url at --rate requests/s for
// --duration seconds (after --warmup seconds not counted), each request sent
// at its scheduled time whatever the earlier ones are doing, and reports the
// latency distribution measured from the scheduled time (no coordinated
// omission).
//
//   opea-bench-rate --url http://127.0.0.1:PORT/path [--rate 1000]
//                   [--duration 10] [--warmup 2] [--bytes 1024]
//
// Uses runtime/http/client (keep-alive pool). The last line is machine-readable:
//   RESULT rate=... sent=... ok=... errors=... p50_ms=... p90_ms=... p99_ms=... max_ms=...

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/http/client.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  std::string url;
  double rate = 1000;
  double duration = 10;
  double warmup = 2;
  size_t bytes = 1024;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "opea-bench-rate: %s\nusage: opea-bench-rate --url URL [--rate R] [--duration S] "
               "[--warmup S] [--bytes N]\n",
               why);
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + a).c_str());
    std::string v = argv[++i];
    if (a == "--url")
      o.url = v;
    else if (a == "--rate")
      o.rate = std::atof(v.c_str());
    else if (a == "--duration")
      o.duration = std::atof(v.c_str());
    else if (a == "--warmup")
      o.warmup = std::atof(v.c_str());
    else if (a == "--bytes")
      o.bytes = static_cast<size_t>(std::atol(v.c_str()));
    else
      usage(("unknown option " + a).c_str());
  }
  if (o.url.empty()) usage("--url is required");
  if (o.rate <= 0 || o.duration <= 0 || o.warmup < 0) usage("rate and duration must be positive");
  return o;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  // {"text": "xxx..."}: about `bytes` bytes in all.
  std::string body = "{\"text\":\"" + std::string(o.bytes > 12 ? o.bytes - 12 : 1, 'x') + "\"}";
  opea::runtime::http::client_config cfg;
  cfg.io_threads = 1;
  opea::runtime::http::client client{cfg};
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<double> latencies_ms;
  size_t ok = 0, errors = 0, answered = 0;
  auto interval = std::chrono::duration<double>(1.0 / o.rate);
  auto total = static_cast<size_t>((o.warmup + o.duration) * o.rate);
  auto counted_from = static_cast<size_t>(o.warmup * o.rate);
  latencies_ms.reserve(total - counted_from);
  auto start = clock_type::now() + std::chrono::milliseconds{50};
  for (size_t i = 0; i < total; ++i) {
    auto due = start + std::chrono::duration_cast<clock_type::duration>(interval * i);
    std::this_thread::sleep_until(due);
    opea::runtime::http::client_request req;
    req.url = o.url;
    req.body = body;
    req.timeout = std::chrono::seconds{10};
    bool counted = i >= counted_from;
    client.async_request(std::move(req), [&, due, counted](auto res) {
      auto ms = std::chrono::duration<double, std::milli>(clock_type::now() - due).count();
      std::lock_guard<std::mutex> lock{mtx};
      ++answered;
      if (counted) {
        if (res && res->status == 200) {
          ++ok;
          latencies_ms.push_back(ms);
        } else {
          ++errors;
        }
      }
      cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock{mtx};
  cv.wait_for(lock, std::chrono::seconds{15}, [&] { return answered == total; });
  std::sort(latencies_ms.begin(), latencies_ms.end());
  std::printf(
      "RESULT rate=%.0f sent=%zu ok=%zu errors=%zu p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
      "max_ms=%.3f\n",
      o.rate, total - counted_from, ok, errors + (total - answered), percentile(latencies_ms, 0.5),
      percentile(latencies_ms, 0.9), percentile(latencies_ms, 0.99),
      latencies_ms.empty() ? 0.0 : latencies_ms.back());
  return errors == 0 && answered == total ? 0 : 1;
}
