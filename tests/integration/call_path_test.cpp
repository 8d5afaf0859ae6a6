// The one call path with real processes on loopback: retries counted at the
// service across nodes, the host's bulkhead holding for remote callers, a
// breaker failing fast and closing again, a slow service isolated by its
// bulkhead, and clients that leave cancelling upstream work.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <map>
#include <mutex>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "runtime/http/server.hpp"
#include "tests/integration/cluster_fixture.hpp"
#include "tests/integration/holding_upstream.hpp"
#include "tests/support/chatqna_config.hpp"

using namespace opea::itest;

namespace {

std::string cluster_head(const std::vector<std::string>& names) {
  std::string yaml =
      "node: {log_level: info}\n"
      "cluster:\n"
      "  name: itest\n"
      "  failure_timeout_ms: 1000\n"
      "  heartbeat_ms: 200\n"
      "  reconnect_ms: 50\n"
      "  nodes:\n";
  for (const auto& n : names)
    yaml += "    " + n + ": {host: 127.0.0.1, port: " + std::to_string(free_port()) + "}\n";
  return yaml;
}

json stats_of(const service_process& svc) {
  return body_of(call("GET", svc.url("/stats")));
}

double series(const std::string& metrics, const std::string& line) {
  return metric_value(metrics, line);
}

namespace net = boost::asio;
using opea::runtime::http::response_writer;

}  // namespace

TEST_CASE("retry across nodes: a call is sent exactly retry.attempts times in all",
          "[integration][cluster][call_path]") {
  service_process svc{{"/v1/drop:drop"}};
  auto yaml = cluster_head({"a", "b"}) +
              "services:\n"
              "  flaky: {kind: http, url: \"" +
              svc.url("/v1/drop") +
              "\", idempotent: true, run_on: [b],\n"
              "          retry: {attempts: 3, backoff_ms: 1}}\n"
              "megaservices:\n"
              "  - {name: m, route: /v1/m, serve_on: [a], flows: [flaky]}\n";
  cluster_members c{yaml};
  c.start("a");
  c.start("b");
  c.wait_members_up("a", 1);  // the other member
  auto r = post(c.url("a", "/v1/m"), {{"text", "x"}});
  INFO(r.body);
  REQUIRE(r.status == 502);
  REQUIRE_THAT(body_of(r)["error"]["message"].get<std::string>(),
               Catch::StartsWith("service 'flaky': POST " + svc.url("/v1/drop") + ": "));
  // The host (b) does not retry on its own; the caller's proxy made 3 sends.
  REQUIRE(stats_of(svc)["requests"] == 3);
  auto metrics = call("GET", c.url("a", "/metrics")).body;
  REQUIRE(series(metrics,
                 R"(opea_service_retries_total{node="a",megaservice="m",service="flaky"})") == 2);
}

TEST_CASE("the host's bulkhead holds for remote callers", "[integration][cluster][call_path]") {
  service_process svc{{"/v1/slow:delay:150"}};
  auto yaml = cluster_head({"a", "b", "c"}) +
              "services:\n"
              "  slow: {kind: http, url: \"" +
              svc.url("/v1/slow") +
              "\", run_on: [b],\n"
              "         bulkhead: {max_in_flight: 2, max_queue: 16}}\n"
              "megaservices:\n"
              "  - {name: m, route: /v1/m, serve_on: [a, c], flows: [slow]}\n";
  cluster_members cl{yaml};
  cl.start("a");
  cl.start("b");
  cl.start("c");
  cl.wait_members_up("a", 2);  // the other members
  cl.wait_members_up("c", 2);
  std::atomic<int> ok{0};
  std::vector<std::string> other;
  std::mutex mtx;
  std::vector<std::thread> callers;
  for (const char* from : {"a", "c"}) {
    auto url = cl.url(from, "/v1/m");
    callers.emplace_back([&, url] {
      drive_load(
          8, 8,
          [&](size_t i) {
            opea::runtime::http::client_request req;
            req.url = url;
            req.body = json{{"i", i}}.dump();
            req.headers = {{"Content-Type", "application/json"}};
            req.timeout = 30s;
            return req;
          },
          [&](const caf::expected<opea::runtime::http::client_response>& r) {
            if (r && r->status == 200) {
              ++ok;
              return;
            }
            std::lock_guard<std::mutex> lock{mtx};
            other.push_back(r ? r->body : opea::runtime::describe(r.error()));
          });
    });
  }
  for (auto& t : callers) t.join();
  INFO((other.empty() ? std::string{} : other.front()));
  REQUIRE(ok == 16);
  auto stats = stats_of(svc);
  REQUIRE(stats["requests"] == 16);
  REQUIRE(stats["max_in_flight"] == 2);
}

TEST_CASE("an open breaker answers 503 at once, never 200, and closes after its probe",
          "[integration][call_path]") {
  auto port = free_port();
  auto url = "http://127.0.0.1:" + std::to_string(port) + "/v1/ok";
  node_process node{
      "node:\n  name: itest\n  log_level: 'off'\n"
      "services:\n"
      "  dep: {kind: http, url: \"" +
      url +
      "\",\n"
      "        circuit_breaker: {failures: 2, open_ms: 400}}\n"
      "megaservices:\n"
      "  - {name: m, route: /v1/m, flows: [dep]}\n"};
  for (int i = 0; i < 2; ++i) REQUIRE(post(node.url("/v1/m"), {{"text", "x"}}).status == 502);
  auto opened = std::chrono::steady_clock::now();
  // The service comes up; the open circuit still refuses every call at once.
  std::vector<std::string> args{"--host", "127.0.0.1", "--port", std::to_string(port), "--route",
                                "/v1/ok:append:!"};
  opea::test::child_process svc{OPEA_TEST_SERVICE_BINARY, args};
  REQUIRE(wait_for_port(svc) == port);
  const int refused_calls = 20;
  for (int i = 0; i < refused_calls; ++i) {
    auto r = post(node.url("/v1/m"), {{"text", "x"}});
    REQUIRE(r.status == 503);
    REQUIRE_THAT(body_of(r)["error"]["message"].get<std::string>(),
                 Catch::StartsWith("service 'dep' is unavailable: its circuit breaker is open"));
  }
  REQUIRE(std::chrono::steady_clock::now() - opened < 400ms);  // all within the open window
  auto metrics = call("GET", node.url("/metrics")).body;
  // Answered in under 1 ms by the node (its own latency histogram).
  REQUIRE(
      series(metrics,
             R"(megaservice_request_latency_bucket{node="itest",megaservice="m",le="0.001"})") >=
      refused_calls);
  REQUIRE(series(metrics,
                 R"(opea_service_errors_total{node="itest",megaservice="m",reason="breaker_open",service="dep"})") ==
          refused_calls);
  // After open_ms the next call is the half-open probe; it succeeds and closes.
  std::this_thread::sleep_until(opened + 400ms);
  auto r = post(node.url("/v1/m"), {{"text", "x"}});
  INFO(r.body);
  REQUIRE(r.status == 200);
  REQUIRE(body_of(r) == json{{"text", "x!"}});
  metrics = call("GET", node.url("/metrics")).body;
  REQUIRE(series(metrics,
                 R"(opea_service_circuit_state{node="itest",megaservice="m",service="dep"})") == 0);
  REQUIRE(post(node.url("/v1/m"), {{"text", "y"}}).status == 200);
}

TEST_CASE("200 clients leaving mid-stream close every upstream stream", "[integration][call_path]") {
  // A model server in this process: sends one token per stream and holds the
  // rest; counts the upstream connections that the node closes.
  holding_upstream model{"/v1/chat/completions", [](response_writer& out) {
                           json c{{"id", "m1"},
                                  {"object", "chat.completion.chunk"},
                                  {"created", 1},
                                  {"model", "slow"},
                                  {"choices", {{{"index", 0}, {"delta", {{"content", "First"}}}}}}};
                           out.begin_stream(200, "text/event-stream");
                           out.write_chunk("data: " + c.dump() + "\n\n");
                         }};
  REQUIRE(model.port != 0);
  node_process node{opea::test::chatqna_config{}
                        .merge("node: {name: cq, log_level: debug}\ndataprep: {corpus: null}")
                        .set("megaservices.0.name", "chat")
                        .set("services.llm",
                             "{builtin: llm, params: {backend: openai, model: slow, url: "
                             "\"http://127.0.0.1:" +
                                 std::to_string(model.port) + "\"}}")
                        .yaml()};
  const int clients = 200;
  net::io_context ioc;
  auto socks = raw_posts(
      ioc, node.port, "/v1/chat/completions",
      R"({"model": "m", "stream": true, "messages": [{"role": "user", "content": "Hi?"}]})",
      clients);
  // Every client has its first token: all 200 upstream streams are open.
  for (auto& s : socks) {
    std::string got;
    char buf[512];
    while (got.find(R"("content":"First")") == std::string::npos) {
      auto n = s.read_some(net::buffer(buf));
      got.append(buf, n);
    }
  }
  REQUIRE(model.opened(clients, 10s));
  for (auto& s : socks) s.close();
  REQUIRE(model.closed(clients, 1s));
  // The flows ended as cancelled: pending is back to 0.
  wait_requests_done(*node.proc, "chat", clients, 499);
  const std::string pending = R"(megaservice_request_pending{node="cq",megaservice="chat"})";
  REQUIRE(metric_value(call("GET", node.url("/metrics")).body, pending) == 0);
  REQUIRE(call("GET", node.url("/health")).status == 200);
}

TEST_CASE("clients leaving JSON requests close every upstream request",
          "[integration][call_path]") {
  // An HTTP service in this process that holds every request without
  // answering; counts the upstream connections that the node closes.
  holding_upstream upstream{"/v1/hold"};
  REQUIRE(upstream.port != 0);
  node_process node{
      "node: {name: jn, log_level: debug}\n"
      "services:\n"
      "  hold: {kind: http, url: \"http://127.0.0.1:" +
      std::to_string(upstream.port) +
      "/v1/hold\", timeout_ms: 60000}\n"
      "megaservices:\n"
      "  - {name: held, route: /v1/held, flows: [hold]}\n"};
  const int clients = 50;
  net::io_context ioc;
  auto socks = raw_posts(ioc, node.port, "/v1/held", R"({"text": "wait for me"})", clients);
  REQUIRE(upstream.opened(clients, 10s));
  for (auto& s : socks) s.close();
  REQUIRE(upstream.closed(clients, 1s));
  // The flows ended: pending is back to 0, every call was answered as
  // cancelled, and the aborted upstream exchanges that confirmed it are not
  // counted as late replies.
  wait_requests_done(*node.proc, "held", clients, 499);
  const std::string pending = R"(megaservice_request_pending{node="jn",megaservice="held"})";
  auto metrics = call("GET", node.url("/metrics")).body;
  REQUIRE(metric_value(metrics, pending) == 0);
  REQUIRE(
      metric_value(
          metrics,
          R"(opea_service_errors_total{node="jn",megaservice="held",reason="cancelled",service="hold"})") ==
      clients);
  REQUIRE(metric_value(
              metrics,
              R"(opea_service_late_replies_total{node="jn",megaservice="held",service="hold"})") ==
          0);
  REQUIRE(call("GET", node.url("/health")).status == 200);
}

TEST_CASE("a slow service saturating its bulkhead leaves another route's latency alone",
          "[integration][call_path]") {
  service_process slow{{"/v1/slow:delay:2000"}};
  service_process fast{{"/v1/fast:append:!"}};
  node_process node{
      "node:\n  name: itest\n  log_level: 'off'\n"
      "services:\n"
      "  slow: {kind: http, url: \"" +
      slow.url("/v1/slow") +
      "\", bulkhead: {max_in_flight: 4}}\n"
      "  fast: {kind: http, url: \"" +
      fast.url("/v1/fast") +
      "\"}\n"
      "megaservices:\n"
      "  - {name: slow, route: /v1/slow, flows: [slow]}\n"
      "  - {name: fast, route: /v1/fast, flows: [fast]}\n"};
  auto p50 = [&](int n) {
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      REQUIRE(post(node.url("/v1/fast"), {{"text", "x"}}).status == 200);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                       .count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  };
  auto baseline = p50(200);
  // Saturate the slow route: 4 calls held by its bulkhead, the rest refused.
  opea::runtime::http::client flood;
  std::atomic<int> refused{0}, held{0};
  std::mutex mtx;
  std::condition_variable cv;
  int done = 0;
  const int burst = 64;
  for (int i = 0; i < burst; ++i) {
    opea::runtime::http::client_request req;
    req.url = node.url("/v1/slow");
    req.body = R"({"text": "x"})";
    req.headers = {{"Content-Type", "application/json"}};
    req.timeout = 30s;
    flood.async_request(req, [&](caf::expected<opea::runtime::http::client_response> r) {
      if (r && r->status == 503) ++refused;
      if (r && r->status == 200) ++held;
      std::lock_guard<std::mutex> lock{mtx};
      ++done;
      cv.notify_all();
    });
  }
  auto loaded = p50(200);
  INFO("baseline p50 " << baseline << " ms, with the slow route saturated " << loaded << " ms");
  REQUIRE(loaded <= 2 * baseline);
  std::unique_lock<std::mutex> lock{mtx};
  REQUIRE(cv.wait_for(lock, 30s, [&] { return done == burst; }));
  REQUIRE(held == 4);
  REQUIRE(refused == burst - 4);
}
