// opea-bench-cluster: one megaservice hop to a service on another node against
// the raw CAF remote round trip it is built on, between two processes on
// loopback (BASP over TCP, plain).
//
//   opea-bench-cluster server --port P [--policy spinning|sharing|stealing] [--threads N]
//   opea-bench-cluster client --port P --mode raw|hop --inflight K --seconds S
//                             [--warmup W] [--deadline-ms D] [--policy spinning|sharing|stealing]
//                             [--threads N]
//
// server: publishes (a) a raw echo actor on P, answering (std::string) with the
// same string and (int32_t) with the same int, and (b) a service_endpoint on
// P+1 hosting "echo", a one-service megaservice whose only service is an
// in-process handler returning its input. Prints "ready" once both are
// published; runs until stdin closes or SIGTERM/SIGINT.
//
// client: keeps K requests in flight for W s of warm-up (default 0.5) plus S s
// measured; each completion issues the next request. Every request is timed
// from issue to completion; completions inside the measured window give the
// throughput (completions / S) and the latency percentiles.
//   raw: a requester actor sends a 22-byte std::string (the size of the hop's
//        JSON text) to the remote echo actor with request(...).then(...), no
//        request timeout (the method of dependencies-and-caf.md §3.1).
//   hop: a megaservice whose graph is one service, a cluster service proxy
//        (a service with a cluster placement) whose only replica is the remote endpoint, found
//        through a directory actor that answers the proxy's subscription with
//        (replica_up_atom, "server", endpoint) as the membership directory
//        does; driven through megaservice::async_schedule with
//        {"text": "hello world"} as input. --deadline-ms sets the
//        megaservice's request deadline (default 30000, a node's default).
// Prints one line:
//   RESULT mode=.. policy=.. threads=.. inflight=.. rps=.. p50_us=.. p99_us=..
//          completed=.. errors=.. max_rss_mb=..   (the client's peak RSS)
//
// Scheduler defaults are opea-node's (nodes/config/node_config.hpp): policy
// spinning, max-threads = hardware threads. Both processes should use the same.

#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "monitoring/metrics_registry.hpp"
#include "nodes/cluster/tls_guard.hpp"
#include "runtime/cluster/service_endpoint.hpp"
#include "runtime/dag/service_orchestrator.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/service/service_proxy.hpp"

namespace rt = opea::runtime;
using bench_clock = std::chrono::steady_clock;

namespace {

struct bench_args {
  std::string role;
  uint16_t port = 0;
  std::string policy = "spinning";
  size_t threads = std::max(1u, std::thread::hardware_concurrency());
  std::string mode = "raw";
  size_t inflight = 1;
  double seconds = 3;
  double warmup = 0.5;
  long deadline_ms = 30000;
  /// Directory with ca.pem, server.pem/.key and client.pem/.key
  /// (scripts/make-cluster-certs.sh DIR server client): TLS links. "" = plain.
  std::string tls_dir;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "opea-bench-cluster: %s\n"
               "usage: opea-bench-cluster server --port P [--policy spinning|sharing|stealing] "
               "[--threads N] [--tls DIR]\n"
               "       opea-bench-cluster client --port P --mode raw|hop --inflight K "
               "--seconds S [--warmup W] [--deadline-ms D] [--policy spinning|sharing|stealing] "
               "[--threads N] [--tls DIR]\n",
               why);
  std::exit(2);
}

bench_args parse(int argc, char** argv) {
  bench_args a;
  if (argc < 2) usage("missing role");
  a.role = argv[1];
  if (a.role != "server" && a.role != "client") usage("role must be server or client");
  for (int i = 2; i < argc; ++i) {
    std::string key = argv[i];
    if (i + 1 >= argc) usage(("missing value of " + key).c_str());
    std::string val = argv[++i];
    if (key == "--port")
      a.port = static_cast<uint16_t>(std::stoul(val));
    else if (key == "--policy")
      a.policy = val;
    else if (key == "--threads")
      a.threads = std::max<size_t>(1, std::stoul(val));
    else if (key == "--mode")
      a.mode = val;
    else if (key == "--inflight")
      a.inflight = std::max<size_t>(1, std::stoul(val));
    else if (key == "--seconds")
      a.seconds = std::stod(val);
    else if (key == "--warmup")
      a.warmup = std::stod(val);
    else if (key == "--tls")
      a.tls_dir = val;
    else if (key == "--deadline-ms")
      a.deadline_ms = std::max(1L, std::stol(val));
    else
      usage(("unknown option " + key).c_str());
  }
  if (a.port == 0) usage("--port is required (P and P+1 are used)");
  if (!opea::runtime::parse_scheduler_policy(a.policy))
    usage("--policy: spinning, sharing or stealing");
  if (a.mode != "raw" && a.mode != "hop") usage("--mode: raw or hop");
  return a;
}

void configure(caf::actor_system_config& cfg, const bench_args& a) {
  cfg.load<caf::io::middleman>();
  opea::runtime::configure_scheduler(cfg, *opea::runtime::parse_scheduler_policy(a.policy),
                                     a.threads);
  cfg.set("logger.console", caf::atom("none"));
  if (!a.tls_dir.empty()) {
    // The node's setup: caf::openssl with the error-queue guard of
    // nodes/cluster/tls_guard (linked into this binary).
    if (!opea::nodes::tls_guard::installed()) {
      std::fprintf(stderr, "--tls: the SSL_* interposition is not in effect\n");
      std::exit(1);
    }
    cfg.load<caf::openssl::manager>();
    cfg.openssl_cafile = a.tls_dir + "/ca.pem";
    cfg.openssl_certificate = a.tls_dir + "/" + a.role + ".pem";
    cfg.openssl_key = a.tls_dir + "/" + a.role + ".key";
  }
}

// --- server -----------------------------------------------------------------

std::atomic<bool> stop_requested{false};

extern "C" void on_signal(int) {
  stop_requested.store(true);
}

caf::behavior raw_echo(caf::event_based_actor*) {
  return {
      [](const std::string& s) { return s; },
      [](int32_t x) { return x; },
  };
}

int run_server(const bench_args& a) {
  caf::actor_system_config cfg;
  configure(cfg, a);
  caf::actor_system sys{cfg};
  opea::monitoring::metrics_registry metrics{"bench-server"};
  rt::service_orchestrator orch;
  orch.add(rt::micro_service::local(
      "echo", [](const rt::json& in, const rt::request_context&) -> caf::expected<rt::json> {
        return in;
      }));
  rt::megaservice_options opts;
  opts.name = "hosted.echo";
  auto host = std::make_shared<rt::megaservice>(sys, orch, opts, metrics);
  auto echo = sys.spawn(raw_echo);
  auto endpoint = sys.spawn(rt::service_endpoint, std::string{"echo"},
                            std::shared_ptr<const rt::megaservice>{host}, &metrics);
  auto tls = !a.tls_dir.empty();
  auto p1 = tls ? caf::openssl::publish(echo, a.port, "127.0.0.1", true)
                : sys.middleman().publish(echo, a.port, "127.0.0.1", true);
  auto p2 =
      tls ? caf::openssl::publish(endpoint, static_cast<uint16_t>(a.port + 1), "127.0.0.1", true)
          : sys.middleman().publish(endpoint, static_cast<uint16_t>(a.port + 1), "127.0.0.1", true);
  if (!p1 || !p2) {
    std::fprintf(stderr, "publish failed: %s\n", sys.render(p1 ? p2.error() : p1.error()).c_str());
    std::fflush(stderr);
    std::_Exit(1);
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::printf("ready (policy %s, %zu threads, echo on %u, endpoint on %u)\n", a.policy.c_str(),
              sys.scheduler().num_workers(), static_cast<unsigned>(*p1),
              static_cast<unsigned>(*p2));
  std::fflush(stdout);
  while (!stop_requested.load()) {
    pollfd in{STDIN_FILENO, POLLIN, 0};
    int n = poll(&in, 1, 200);
    if (n > 0) {
      char buf[256];
      if (read(STDIN_FILENO, buf, sizeof buf) <= 0) break;  // stdin closed
    }
  }
  // Leave at once: the endpoint shares the host megaservice, and an orderly
  // teardown of middleman, actors and metrics buys nothing for a bench server.
  host->stop();
  std::fflush(stdout);
  std::_Exit(0);
}

// --- client -----------------------------------------------------------------

/// Per-request latencies of the measured window; written from any CAF thread
/// (an atomic slot index into a preallocated array, atomic counters).
class recorder {
 public:
  recorder(bench_clock::time_point from, bench_clock::time_point to, size_t capacity)
      : from_(from), to_(to), capacity_(capacity), lat_us_(new double[capacity]) {}

  void record(bench_clock::time_point issued, bench_clock::time_point done, bool ok) {
    if (!ok) errors_.fetch_add(1, std::memory_order_relaxed);
    if (done < from_ || done >= to_) return;
    auto i = completed_.fetch_add(1, std::memory_order_relaxed);
    if (i < capacity_)
      lat_us_[i] = std::chrono::duration<double, std::micro>(done - issued).count();
  }

  bench_clock::time_point end() const { return to_; }
  uint64_t completed() const { return completed_.load(); }
  uint64_t errors() const { return errors_.load(); }

  /// Sorted latencies of the measured window (call after the run).
  std::vector<double> sorted() const {
    std::vector<double> xs(lat_us_.get(), lat_us_.get() + std::min<size_t>(completed(), capacity_));
    std::sort(xs.begin(), xs.end());
    return xs;
  }

 private:
  bench_clock::time_point from_;
  bench_clock::time_point to_;
  size_t capacity_;
  std::unique_ptr<double[]> lat_us_;  // uninitialized: untouched pages stay out of the RSS
  std::atomic<uint64_t> completed_{0};
  std::atomic<uint64_t> errors_{0};
};

/// Counts the requests still running; wakes the main thread at zero.
class completion_latch {
 public:
  explicit completion_latch(size_t n) : left_(n) {}
  void count_down() {
    std::lock_guard<std::mutex> guard{mtx_};
    if (--left_ == 0) cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait(guard, [this] { return left_ == 0; });
  }

 private:
  std::mutex mtx_;
  std::condition_variable cv_;
  size_t left_;
};

/// The raw requester's state (touched only by the requester actor, except
/// the recorder and the latch, which are thread-safe).
struct raw_run {
  caf::actor echo;
  std::string payload;
  std::shared_ptr<recorder> rec;
  std::shared_ptr<completion_latch> latch;
  size_t chains_left = 0;
};

void raw_chain_done(caf::event_based_actor* self, const std::shared_ptr<raw_run>& run) {
  run->latch->count_down();
  if (--run->chains_left == 0) self->quit();
}

/// One request chain of the raw requester: each reply issues the next request
/// until the measured window is over.
void raw_issue(caf::event_based_actor* self, std::shared_ptr<raw_run> run) {
  auto t0 = bench_clock::now();
  self->request(run->echo, caf::infinite, run->payload)
      .then(
          [self, run, t0](const std::string& reply) {
            auto t1 = bench_clock::now();
            run->rec->record(t0, t1, reply.size() == run->payload.size());
            if (t1 < run->rec->end())
              raw_issue(self, run);
            else
              raw_chain_done(self, run);
          },
          [self, run, t0](caf::error&) {
            auto t1 = bench_clock::now();
            run->rec->record(t0, t1, false);
            if (t1 < run->rec->end())
              raw_issue(self, run);
            else
              raw_chain_done(self, run);
          });
}

caf::behavior raw_requester(caf::event_based_actor* self, std::shared_ptr<raw_run> run,
                            size_t inflight) {
  run->chains_left = inflight;
  for (size_t i = 0; i < inflight; ++i) raw_issue(self, run);
  return {[](const std::string&) {}};  // never sent: the actor lives on its replies
}

/// Answers a proxy's subscription with the one remote replica, as the
/// membership directory does for a joined member.
caf::behavior fixed_directory(caf::event_based_actor* self, caf::actor endpoint) {
  return {
      [self, endpoint](rt::subscribe_atom, const std::string&, const caf::actor& proxy) {
        self->send(proxy, rt::replica_up_atom::value, std::string{"server"}, endpoint);
      },
  };
}

/// One request chain through the megaservice: each completion (on a CAF
/// thread) issues the next request until the measured window is over.
struct hop_run : std::enable_shared_from_this<hop_run> {
  const rt::megaservice* mega = nullptr;
  rt::json input;
  std::shared_ptr<recorder> rec;
  std::shared_ptr<completion_latch> latch;

  void issue() {
    auto self = shared_from_this();
    auto t0 = bench_clock::now();
    mega->async_schedule(input, {}, [self, t0](caf::expected<rt::flow_result> res) {
      auto t1 = bench_clock::now();
      bool ok = res && res->output && res->output->is_object();
      self->rec->record(t0, t1, ok);
      if (t1 < self->rec->end())
        self->issue();
      else
        self->latch->count_down();
    });
  }
};

/// The process's peak resident set so far, in MiB.
double max_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

int run_client(const bench_args& a) {
  // Declared before the actor system: outlives every actor that counts in it.
  opea::monitoring::metrics_registry metrics{"bench-client"};
  caf::actor_system_config cfg;
  configure(cfg, a);
  caf::actor_system sys{cfg};
  const rt::json input = {{"text", "hello world"}};
  const std::string payload(input.dump().size(), 'x');  // 22 bytes, as the hop's JSON text
  uint16_t target = a.mode == "raw" ? a.port : static_cast<uint16_t>(a.port + 1);
  // The raw echo actor is dynamically typed; the hop's endpoint is an
  // endpoint_actor, whose interface is checked when the link is made.
  caf::expected<caf::actor> remote = caf::actor{};
  if (a.mode == "raw") {
    remote = a.tls_dir.empty() ? sys.middleman().remote_actor("127.0.0.1", target)
                               : caf::openssl::remote_actor(sys, "127.0.0.1", target);
  } else {
    auto ep = a.tls_dir.empty()
                  ? sys.middleman().remote_actor<rt::endpoint_actor>("127.0.0.1", target)
                  : caf::openssl::remote_actor<rt::endpoint_actor>(sys, "127.0.0.1", target);
    if (ep)
      remote = caf::actor_cast<caf::actor>(*ep);
    else
      remote = std::move(ep.error());
  }
  if (!remote) {
    std::fprintf(stderr, "remote_actor 127.0.0.1:%u: %s\n", static_cast<unsigned>(target),
                 sys.render(remote.error()).c_str());
    return 1;
  }
  auto start = bench_clock::now() + std::chrono::milliseconds{50};
  auto from = start + std::chrono::duration_cast<bench_clock::duration>(
                          std::chrono::duration<double>(a.warmup));
  auto to = from + std::chrono::duration_cast<bench_clock::duration>(
                       std::chrono::duration<double>(a.seconds));
  // Room for every measured latency at up to 1 M requests/s.
  auto capacity = static_cast<size_t>(a.seconds * 1e6) + 1024;
  auto rec = std::make_shared<recorder>(from, to, capacity);
  auto latch = std::make_shared<completion_latch>(a.inflight);

  std::unique_ptr<rt::megaservice> mega;
  caf::actor directory;
  if (a.mode == "raw") {
    std::this_thread::sleep_until(start);
    auto run = std::make_shared<raw_run>(raw_run{*remote, payload, rec, latch});
    sys.spawn(raw_requester, run, a.inflight);
  } else {
    directory = sys.spawn(fixed_directory, *remote);
    rt::micro_service echo;
    echo.name = "echo";
    echo.cluster = rt::cluster_placement{};
    echo.cluster->directory = directory;
    rt::service_orchestrator orch;
    orch.add(echo);
    rt::megaservice_options mopts;
    mopts.name = "bench.hop";
    mopts.deadline = std::chrono::milliseconds{a.deadline_ms};
    mega = std::make_unique<rt::megaservice>(sys, orch, mopts, metrics);
    // The proxy learns its replica asynchronously: wait for a first answer.
    bool up = false;
    for (int i = 0; i < 200 && !up; ++i) {
      auto res = mega->schedule(input);
      up = res && res->output && *res->output == input;
      if (!up) std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    if (!up) {
      std::fprintf(stderr, "the hop never answered with its input\n");
      return 1;
    }
    std::this_thread::sleep_until(start);
    for (size_t i = 0; i < a.inflight; ++i) {
      auto run = std::make_shared<hop_run>();
      run->mega = mega.get();
      run->input = input;
      run->rec = rec;
      run->latch = latch;
      run->issue();
    }
  }
  latch->wait();
  auto lat = rec->sorted();
  auto pct = [&lat](double p) {
    if (lat.empty()) return 0.0;
    return lat[std::min(lat.size() - 1, static_cast<size_t>(p * static_cast<double>(lat.size())))];
  };
  std::printf(
      "RESULT mode=%s policy=%s threads=%zu inflight=%zu rps=%.0f p50_us=%.1f p99_us=%.1f "
      "completed=%llu errors=%llu max_rss_mb=%.0f\n",
      a.mode.c_str(), a.policy.c_str(), sys.scheduler().num_workers(), a.inflight,
      static_cast<double>(rec->completed()) / a.seconds, pct(0.50), pct(0.99),
      static_cast<unsigned long long>(rec->completed()),
      static_cast<unsigned long long>(rec->errors()), max_rss_mb());
  std::fflush(stdout);
  if (mega) mega->stop();
  if (directory) caf::anon_send_exit(directory, caf::exit_reason::user_shutdown);
  return rec->errors() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse(argc, argv);
  return args.role == "server" ? run_server(args) : run_client(args);
}
