// Bad input and downstream failures at the gateway of a real opea-node: each
// gets a JSON error in OpenAI's shape with the right status and a message
// naming the problem, and the node keeps serving.

#include <cstdlib>

#include "tests/integration/cluster_fixture.hpp"

using namespace opea::itest;

namespace {

struct failing_node {
  service_process ok{{"/v1/ok:append:!"}};
  service_process bad{{"/v1/500:status:500", "/v1/badjson:badjson", "/v1/hang:hang"}};
  node_process node;

  failing_node()
      : node{
            "node:\n  name: itest\n  log_level: 'off'\n  http: {max_body_bytes: 1024}\n"
            "services:\n"
            "  good: {kind: http, url: \"" +
            ok.url("/v1/ok") +
            "\"}\n"
            "  broken: {kind: http, url: \"" +
            bad.url("/v1/500") +
            "\"}\n"
            "  garbled: {kind: http, url: \"" +
            bad.url("/v1/badjson") +
            "\"}\n"
            "  silent: {kind: http, url: \"" +
            bad.url("/v1/hang") +
            "\"}\n"
            "  gone: {kind: http, url: \"http://127.0.0.1:1/v1/none\"}\n"
            "megaservices:\n"
            "  - {name: good, route: /v1/good, flows: [good]}\n"
            "  - {name: broken, route: /v1/broken, flows: [good >> broken]}\n"
            "  - {name: garbled, route: /v1/garbled, flows: [garbled]}\n"
            "  - {name: silent, route: /v1/silent, flows: [silent], deadline_ms: 300}\n"
            "  - {name: gone, route: /v1/gone, flows: [gone]}\n"} {}
};

json error_of(const opea::runtime::http::client_response& r) {
  auto b = body_of(r);
  REQUIRE(b.contains("error"));
  REQUIRE(b["error"]["code"] == r.status);
  return b["error"];
}

}  // namespace

TEST_CASE("gateway: bad input gets a JSON error naming the problem", "[integration]") {
  failing_node f;
  auto url = f.node.url("/v1/good");

  SECTION("malformed JSON is 400") {
    auto r = call("POST", url, "{\"text\": ");
    REQUIRE(r.status == 400);
    auto e = error_of(r);
    REQUIRE(e["type"] == "invalid_request_error");
    REQUIRE_THAT(
        e["message"].get<std::string>(),
        Catch::StartsWith("request body is not valid JSON: [json.exception.parse_error.101] "
                          "parse error at line 1, column 10"));
  }
  SECTION("a body that is not an object is 400") {
    auto r = call("POST", url, "[1,2]");
    REQUIRE(r.status == 400);
    REQUIRE(error_of(r)["message"] == "request body must be a JSON object, got array");
  }
  SECTION("an empty body is 400") {
    auto r = call("POST", url, "");
    REQUIRE(r.status == 400);
    REQUIRE(error_of(r)["message"] == "request body is empty; expected a JSON object");
  }
  SECTION("an unknown route is 404") {
    auto r = call("POST", f.node.url("/v1/nope"), "{}");
    REQUIRE(r.status == 404);
    REQUIRE(error_of(r)["message"] == "no route for POST /v1/nope");
  }
  SECTION("a wrong method is 405 with Allow") {
    auto r = call("GET", url);
    REQUIRE(r.status == 405);
    REQUIRE(r.header("Allow") == "POST");
    REQUIRE_THAT(error_of(r)["message"].get<std::string>(), Catch::Contains("GET"));
  }
  SECTION("a body over the configured limit is 413") {
    auto r = call("POST", url, "{\"text\": \"" + std::string(2000, 'x') + "\"}");
    REQUIRE(r.status == 413);
    REQUIRE_THAT(error_of(r)["message"].get<std::string>(), Catch::Contains("1024"));
  }
  // Whatever came before, the node still serves.
  auto ok = post(url, {{"text", "still up"}});
  REQUIRE(ok.status == 200);
  REQUIRE(body_of(ok) == json{{"text", "still up!"}});
}

TEST_CASE("gateway: downstream failures are 502 naming the service; deadlines are 504",
          "[integration]") {
  failing_node f;
  SECTION("a non-2xx answer") {
    auto r = post(f.node.url("/v1/broken"), {{"text", "x"}});
    REQUIRE(r.status == 502);
    auto e = error_of(r);
    REQUIRE(e["type"] == "upstream_error");
    REQUIRE_THAT(e["message"].get<std::string>(),
                 Catch::StartsWith("service 'broken': HTTP 500 from " + f.bad.url("/v1/500")));
  }
  SECTION("a body that is not JSON") {
    auto r = post(f.node.url("/v1/garbled"), {{"text", "x"}});
    REQUIRE(r.status == 502);
    REQUIRE(error_of(r)["message"] == "service 'garbled': response of " + f.bad.url("/v1/badjson") +
                                          " is not valid JSON: not json{");
  }
  SECTION("a refused connection") {
    auto r = post(f.node.url("/v1/gone"), {{"text", "x"}});
    REQUIRE(r.status == 502);
    REQUIRE_THAT(error_of(r)["message"].get<std::string>(),
                 Catch::StartsWith("service 'gone': POST http://127.0.0.1:1/v1/none: "));
  }
  SECTION("a service that never answers hits the request deadline") {
    auto r = post(f.node.url("/v1/silent"), {{"text", "x"}});
    REQUIRE(r.status == 504);
    auto e = error_of(r);
    REQUIRE(e["type"] == "timeout_error");
    REQUIRE_THAT(e["message"].get<std::string>(), Catch::Contains("silent"));
  }
  auto metrics = call("GET", f.node.url("/metrics")).body;
  REQUIRE(metric_value(metrics,
                       R"(megaservice_request_pending{node="itest",megaservice="silent"})") == 0);
}

namespace {

/// The value of `metric` for `service` of megaservice "gone" on node "itest".
double gone_metric(const std::string& metrics, const std::string& metric,
                   const std::string& service) {
  return metric_value(metrics, metric + "{node=\"itest\",megaservice=\"gone\",service=\"" +
                                   service + "\"}");
}

}  // namespace

TEST_CASE("a service's circuit breaker opens after consecutive failures and fails fast",
          "[integration]") {
  service_process ok{{"/v1/ok:append:!"}};
  node_process node{
      "node:\n  name: itest\n  log_level: 'off'\n"
      "services:\n"
      "  good: {kind: http, url: \"" +
      ok.url("/v1/ok") +
      "\"}\n"
      "  gone: {kind: http, url: \"http://127.0.0.1:1/v1/none\",\n"
      "         circuit_breaker: {failures: 2, open_ms: 600000}}\n"
      "megaservices:\n"
      "  - {name: gone, route: /v1/gone, flows: [good >> gone]}\n"};
  auto url = node.url("/v1/gone");
  for (int i = 0; i < 2; ++i) {
    auto r = post(url, {{"text", "x"}});
    REQUIRE(r.status == 502);
    REQUIRE_THAT(error_of(r)["message"].get<std::string>(),
                 Catch::StartsWith("service 'gone': POST http://127.0.0.1:1/v1/none: "));
  }
  auto r = post(url, {{"text", "x"}});
  REQUIRE(r.status == 503);
  REQUIRE_THAT(error_of(r)["message"].get<std::string>(),
               Catch::StartsWith("service 'gone' is unavailable: its circuit breaker is open "
                                 "after 2 consecutive failures (next probe in "));
  auto metrics = call("GET", node.url("/metrics")).body;
  REQUIRE(gone_metric(metrics, "opea_service_circuit_state", "gone") ==
          1);
  // The open circuit kept the third call from the service; "good" ran each time.
  REQUIRE(gone_metric(metrics, "opea_service_requests_total", "gone") ==
          2);
  REQUIRE(gone_metric(metrics, "opea_service_requests_total", "good") ==
          3);
  // The node still serves /health: a breaker is not a failed service.
  REQUIRE(call("GET", node.url("/health")).status == 200);
}

TEST_CASE("an idempotent service's transient failures are retried with backoff",
          "[integration]") {
  node_process node{
      "node:\n  name: itest\n  log_level: 'off'\n"
      "services:\n"
      "  gone: {kind: http, url: \"http://127.0.0.1:1/v1/none\", idempotent: true,\n"
      "         retry: {attempts: 3, backoff_ms: 5}}\n"
      "megaservices:\n"
      "  - {name: gone, route: /v1/gone, flows: [gone]}\n"};
  auto r = post(node.url("/v1/gone"), {{"text", "x"}});
  REQUIRE(r.status == 502);
  REQUIRE_THAT(error_of(r)["message"].get<std::string>(),
               Catch::StartsWith("service 'gone': POST http://127.0.0.1:1/v1/none: "));
  auto metrics = call("GET", node.url("/metrics")).body;
  REQUIRE(gone_metric(metrics, "opea_service_requests_total", "gone") ==
          3);
  REQUIRE(gone_metric(metrics, "opea_service_retries_total", "gone") ==
          2);
}

TEST_CASE("metrics: exact counters and a valid Prometheus exposition (promtool)", "[integration]") {
  service_process s1{{"/v1/add:append:opea "}};
  node_process node{"node: {name: itest, log_level: warn}\nservices:\n  s1: {kind: http, url: \"" +
                    s1.url("/v1/add") +
                    "\"}\n  up: {builtin: uppercase}\n"
                    "megaservices:\n  - {name: mega, route: /v1/m, flows: [s1 >> up]}\n"};
  for (int i = 0; i < 3; ++i) REQUIRE(post(node.url("/v1/m"), {{"text", "a"}}).status == 200);
  REQUIRE(call("POST", node.url("/v1/m"), "nope").status == 400);
  auto r = call("GET", node.url("/metrics"));
  REQUIRE(r.status == 200);
  REQUIRE_THAT(r.header("Content-Type"), Catch::StartsWith("text/plain; version=0.0.4"));
  const auto& m = r.body;
  REQUIRE(metric_value(
              m, R"(opea_service_requests_total{node="itest",megaservice="mega",service="s1"})") ==
          3);
  REQUIRE(metric_value(
              m, R"(opea_service_requests_total{node="itest",megaservice="mega",service="up"})") ==
          3);
  REQUIRE(
      metric_value(
          m, R"(opea_megaservice_requests_total{node="itest",code="200",megaservice="mega"})") ==
      3);
  REQUIRE(metric_value(m, R"(opea_http_requests_total{node="itest",code="400",route="/v1/m"})") ==
          1);
  REQUIRE(metric_value(m, R"(opea_http_requests_total{node="itest",code="200",route="/v1/m"})") ==
          3);
  REQUIRE(
      metric_value(
          m,
          R"(opea_service_request_duration_seconds_count{node="itest",megaservice="mega",service="s1"})") ==
      3);
  REQUIRE(metric_value(m, R"(megaservice_request_pending{node="itest",megaservice="mega"})") == 0);

  // promtool (Debian package prometheus) checks the exposition format.
  temp_dir dir;
  auto file = dir.write("metrics.txt", m);
  auto out = (dir.path / "promtool.out").string();
  int rc = std::system(("promtool check metrics < " + file + " > " + out + " 2>&1").c_str());
  std::ifstream in{out};
  std::string report((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  INFO("promtool: " << report);
  REQUIRE(WIFEXITED(rc));
  REQUIRE(WEXITSTATUS(rc) == 0);
}

TEST_CASE("health, health_check and list_service", "[integration]") {
  node_process node{
      "node: {name: itest, log_level: warn}\nservices:\n  e: {builtin: echo, service_type: llm}\n"
      "megaservices:\n  - {name: mega, route: /v1/e, flows: [e]}\n"};
  REQUIRE(body_of(call("GET", node.url("/health"))) == json{{"status", "ok"}});
  auto hc = body_of(call("GET", node.url("/v1/health_check")));
  REQUIRE(hc["Service Title"] == "opea-node itest");
  REQUIRE(hc["Service Description"] == "OPEA Microservice Infrastructure");
  REQUIRE(hc["status"] == "healthy");
  auto ls = body_of(call("GET", node.url("/v1/list_service")));
  REQUIRE(ls["mega"]["routes"] == json::array({"/v1/e"}));
  REQUIRE(ls["mega"]["services"]["e"]["service_type"] == "llm");
  REQUIRE(ls["mega"]["services"]["e"]["status"] == "running");
}

TEST_CASE("a configuration error stops start-up with one line and exit code 2", "[integration]") {
  temp_dir dir;
  auto cfg = dir.write("bad.yaml", "services:\n  s1: {kind: http, url: \"htp://x\"}\n");
  opea::test::child_process p{"/bin/sh",
                              {"-c", std::string{OPEA_NODE_BINARY} + " --config " + cfg + " 2>&1"}};
  auto line = p.wait_for_line("opea-node: ", 10s);
  REQUIRE(line);
  REQUIRE_THAT(*line, Catch::StartsWith("opea-node: " + cfg + ": services.s1.url: "));
  REQUIRE(p.wait() == 2);
  REQUIRE(p.lines().size() == 1);
}
