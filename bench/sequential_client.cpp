// opea-bench-sequential: the ceiling for an HTTP-service DAG. A client that
// calls the microservices directly, in sequence, with no orchestrator in
// between: each "chain" POSTs the body to u1, posts u1's response body to u2,
// u2's to u3, and so on. It keeps C chains in flight for D seconds (after a
// warm-up) and reports completed chains per second and chain latency.
//
//   opea-bench-sequential --urls http://h:p/a,http://h:p/b,http://h:p/c
//                         [--connections 32] [--duration 10] [--warmup 1]
//                         [--threads 1] [--body '{"text":"hello"}']
//
// Uses runtime/http/client (keep-alive pool, the same client the megaservice
// uses for `kind: http` services). The last line is machine-readable:
//   RESULT chains_per_s=... p50_ms=... p99_ms=... completed=... errors=...

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <caf/expected.hpp>

#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"

namespace http = opea::runtime::http;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  std::vector<std::string> urls;
  int connections = 32;
  double duration = 10;
  double warmup = 1;
  size_t threads = 1;
  std::string body = R"({"text":"hello"})";
};

class driver : public std::enable_shared_from_this<driver> {
 public:
  driver(const options& opts, http::client& client) : opts_(opts), client_(client) {}

  void run() {
    start_ = clock_type::now();
    measure_from_ = start_ + to_duration(opts_.warmup);
    stop_at_ = measure_from_ + to_duration(opts_.duration);
    active_ = opts_.connections;
    for (int i = 0; i < opts_.connections; ++i) start_chain();
    std::unique_lock<std::mutex> guard{mx_};
    cv_.wait(guard, [this] { return active_ == 0; });
  }

  void report() {
    std::vector<double> lat;
    {
      std::lock_guard<std::mutex> guard{mx_};
      lat = latencies_ms_;
    }
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) {
      if (lat.empty()) return 0.0;
      auto idx = static_cast<size_t>(p * static_cast<double>(lat.size() - 1) + 0.5);
      return lat[std::min(idx, lat.size() - 1)];
    };
    auto rate = static_cast<double>(lat.size()) / opts_.duration;
    std::printf(
        "sequential client: %zu services, %d chains in flight, %.1f s (after %.1f s "
        "warm-up)\n",
        opts_.urls.size(), opts_.connections, opts_.duration, opts_.warmup);
    std::printf("  completed chains: %zu (%.1f chains/s, %.1f service calls/s)\n", lat.size(), rate,
                rate * static_cast<double>(opts_.urls.size()));
    std::printf("  chain latency: p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms\n", pct(0.5),
                pct(0.9), pct(0.99), lat.empty() ? 0.0 : lat.back());
    std::printf("  errors: %lld\n", static_cast<long long>(errors_.load()));
    if (!first_error_.empty()) std::printf("  first error: %s\n", first_error_.c_str());
    std::printf("RESULT chains_per_s=%.1f p50_ms=%.3f p99_ms=%.3f completed=%zu errors=%lld\n",
                rate, pct(0.5), pct(0.99), lat.size(), static_cast<long long>(errors_.load()));
  }

  int64_t errors() const { return errors_.load(); }

 private:
  static clock_type::duration to_duration(double seconds) {
    return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
  }

  void start_chain() {
    auto now = clock_type::now();
    if (now >= stop_at_) {
      std::lock_guard<std::mutex> guard{mx_};
      if (--active_ == 0) cv_.notify_one();
      return;
    }
    step(0, opts_.body, now);
  }

  void step(size_t hop, std::string body, clock_type::time_point started) {
    http::client_request req;
    req.method = "POST";
    req.url = opts_.urls[hop];
    req.body = std::move(body);
    req.headers = {{"Content-Type", "application/json"}};
    req.timeout = std::chrono::milliseconds{10000};
    auto self = shared_from_this();
    client_.async_request(std::move(req),
                          [self, hop, started](caf::expected<http::client_response> res) {
                            if (!res || res->status < 200 || res->status > 299) {
                              self->on_error(!res ? opea::runtime::describe(res.error())
                                                  : "HTTP " + std::to_string(res->status) +
                                                        " from " + self->opts_.urls[hop]);
                              self->start_chain();
                              return;
                            }
                            if (hop + 1 < self->opts_.urls.size()) {
                              self->step(hop + 1, std::move(res->body), started);
                              return;
                            }
                            auto now = clock_type::now();
                            if (started >= self->measure_from_ && now <= self->stop_at_) {
                              std::lock_guard<std::mutex> guard{self->mx_};
                              self->latencies_ms_.push_back(
                                  std::chrono::duration<double, std::milli>(now - started).count());
                            }
                            self->start_chain();
                          });
  }

  void on_error(std::string why) {
    if (errors_.fetch_add(1) == 0) {
      std::lock_guard<std::mutex> guard{mx_};
      first_error_ = std::move(why);
    }
  }

  const options& opts_;
  http::client& client_;
  clock_type::time_point start_, measure_from_, stop_at_;
  std::mutex mx_;
  std::condition_variable cv_;
  int active_ = 0;
  std::vector<double> latencies_ms_;
  std::atomic<int64_t> errors_{0};
  std::string first_error_;
};

void usage() {
  std::fprintf(stderr,
               "usage: opea-bench-sequential --urls U1,U2,... [--connections 32] [--duration 10]\n"
               "                             [--warmup 1] [--threads 1] [--body JSON]\n");
}

}  // namespace

int main(int argc, char** argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) {
      usage();
      return 2;
    }
    std::string val = argv[++i];
    if (arg == "--urls") {
      std::stringstream ss{val};
      std::string u;
      while (std::getline(ss, u, ','))
        if (!u.empty()) opts.urls.push_back(u);
    } else if (arg == "--connections") {
      opts.connections = std::atoi(val.c_str());
    } else if (arg == "--duration") {
      opts.duration = std::atof(val.c_str());
    } else if (arg == "--warmup") {
      opts.warmup = std::atof(val.c_str());
    } else if (arg == "--threads") {
      opts.threads = static_cast<size_t>(std::atoi(val.c_str()));
    } else if (arg == "--body") {
      opts.body = val;
    } else {
      usage();
      return 2;
    }
  }
  if (opts.urls.empty() || opts.connections < 1 || opts.duration <= 0 || opts.warmup < 0 ||
      opts.threads < 1) {
    usage();
    return 2;
  }
  for (const auto& u : opts.urls) {
    if (!http::url::parse(u)) {
      std::fprintf(stderr, "opea-bench-sequential: bad URL %s\n", u.c_str());
      return 2;
    }
  }
  http::client_config cfg;
  cfg.io_threads = opts.threads;
  cfg.max_idle_per_host = static_cast<size_t>(opts.connections) + 8;
  http::client client{cfg};
  auto d = std::make_shared<driver>(opts, client);
  d->run();
  d->report();
  return 0;
}
