// Tracing across a cluster of real opea-node processes: one ChatQnA request
// with a W3C traceparent, sent to n1 of three members, exports OTLP/HTTP
// JSON spans from every member to a receiver in this test, which checks the
// payload against the OTLP JSON mapping and the spans' tree against the DAG:
// gateway server span -> a span per service call -> the remote hop's server
// span on the member hosting it -> the host's call span -> its HTTP client
// span to an external microservice.

#include <condition_variable>
#include <map>
#include <mutex>
#include <regex>
#include <set>

#include "tests/integration/cluster_fixture.hpp"
#include "tests/support/chatqna_config.hpp"

using namespace opea::itest;

namespace {

/// One span as the receiver saw it, with its resource's service.name.
struct seen_span {
  std::string service;
  json span;
};

/// An OTLP/HTTP receiver: POST /v1/traces, JSON bodies kept; 200 "{}".
struct otlp_receiver {
  opea::runtime::http::server server{opea::runtime::http::server_config{"127.0.0.1", 0}};
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<json> bodies;
  std::vector<std::string> content_types;
  uint16_t port = 0;

  otlp_receiver() {
    server.add_route("/v1/traces", {"POST"}, [this](opea::runtime::http::request&& req, auto out) {
      auto body = json::parse(req.body, nullptr, false);
      {
        std::lock_guard<std::mutex> lock{mtx};
        bodies.push_back(std::move(body));
        content_types.push_back(req.header("content-type"));
      }
      cv.notify_all();
      out->reply(200, "application/json", "{}");
    });
    auto p = server.start();
    REQUIRE(p);
    port = *p;
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }

  /// Every span received so far.
  std::vector<seen_span> spans() {
    std::lock_guard<std::mutex> lock{mtx};
    return spans_locked();
  }

  /// Waits (at most 20 s) until `done(spans)` holds.
  bool wait_until(const std::function<bool(const std::vector<seen_span>&)>& done) {
    std::unique_lock<std::mutex> lock{mtx};
    return cv.wait_for(lock, 20s, [&] { return done(spans_locked()); });
  }

 private:
  std::vector<seen_span> spans_locked() const {
    std::vector<seen_span> out;
    for (const auto& body : bodies) {
      if (!body.is_object() || !body.contains("resourceSpans")) continue;
      for (const auto& rs : body["resourceSpans"]) {
        std::string service;
        for (const auto& a : rs["resource"]["attributes"])
          if (a["key"] == "service.name") service = a["value"]["stringValue"];
        for (const auto& ss : rs["scopeSpans"])
          for (const auto& s : ss["spans"]) out.push_back({service, s});
      }
    }
    return out;
  }
};

/// The value of attribute `key` of `span` (OTLP's AnyValue), or null.
json attribute(const json& span, const std::string& key) {
  if (!span.contains("attributes")) return nullptr;
  for (const auto& a : span["attributes"])
    if (a["key"] == key) return a["value"];
  return nullptr;
}

bool is_hex(const std::string& s, size_t length) {
  return s.size() == length && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool is_decimal(const json& v) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// ChatQnA over three members (the cluster test's layout) with a guardrail
/// in front: an external HTTP microservice (echo) hosted by n3.
std::string traced_yaml(const std::map<std::string, uint16_t>& ports, const std::string& guard_url,
                        const std::string& receiver_url) {
  std::string nodes;
  for (const auto& [name, port] : ports)
    nodes += (nodes.empty() ? "" : ", ") + name +
             ": {host: 127.0.0.1, port: " + std::to_string(port) + "}";
  return opea::test::chatqna_config{}
      .merge("node: {log_level: info, tracing: {endpoint: \"" + receiver_url +
             "\", schedule_delay: 50}}\n"
             "cluster: {name: traced, failure_timeout_ms: 2000, heartbeat_ms: 200,\n"
             "          reconnect_ms: 50, nodes: {" +
             nodes +
             "}}\n"
             "services: {embedding: {run_on: [n2]}, retriever: {run_on: [n1]},\n"
             "           rerank: {run_on: [n2]}, llm: {run_on: [n3]},\n"
             "           guard: {kind: http, url: \"" +
             guard_url + "\", run_on: [n3]}}")
      .set("megaservices.0.serve_on", "[n1]")
      .set("megaservices.0.flows",
           "[\"guard >> embedding >> retriever >> rerank >> llm\", \"retriever >> llm\"]")
      .yaml();
}

}  // namespace

TEST_CASE("one ChatQnA request across three nodes is one trace whose spans form the DAG",
          "[integration][cluster][tracing]") {
  otlp_receiver receiver;
  service_process guard{{"/v1/guard:echo"}};
  std::map<std::string, uint16_t> ports{
      {"n1", free_port()}, {"n2", free_port()}, {"n3", free_port()}};
  cluster_members c{traced_yaml(ports, guard.url("/v1/guard"), receiver.url())};
  c.start("n1");
  c.start("n2");
  // n3 takes its endpoint from the standard variable, which wins over the
  // file's key (here the same receiver under its traces path).
  c.start("n3", {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.url() + "/v1/traces"},
                 {"OTEL_SERVICE_NAME", "member-n3"}});
  c.wait_members_up("n1", 2);

  const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string caller_span = "00f067aa0ba902b7";
  auto r = call("POST", c.url("n1", "/v1/chatqna"),
                R"({"messages": "What does the reranker do?", "stream": false})",
                {{"Content-Type", "application/json"},
                 {"traceparent", "00-" + trace_id + "-" + caller_span + "-01"},
                 {"tracestate", "vendor=abc"}});
  INFO(r.body);
  REQUIRE(r.status == 200);

  // Every member exports within its schedule delay (50 ms) of a span's end.
  bool complete = receiver.wait_until([&](const std::vector<seen_span>& spans) {
    return std::count_if(spans.begin(), spans.end(),
                         [&](const seen_span& s) { return s.span["traceId"] == trace_id; }) >= 17;
  });
  auto spans = receiver.spans();
  {
    std::string all;
    for (const auto& s : spans) all += "\n" + s.service + ": " + s.span.dump();
    INFO("spans:" << all);
    REQUIRE(complete);
  }
  {
    std::lock_guard<std::mutex> lock{receiver.mtx};
    for (const auto& ct : receiver.content_types) REQUIRE(ct == "application/json");
  }

  // The OTLP JSON mapping: hex ids of the right length, nanoseconds as
  // decimal strings, kinds as integers. Other traces are the test's own
  // GET /v1/cluster calls (roots of traces of their own).
  for (const auto& s : spans) {
    INFO(s.service << ": " << s.span.dump());
    REQUIRE(is_hex(s.span["traceId"].get<std::string>(), 32));
    REQUIRE(is_hex(s.span["spanId"].get<std::string>(), 16));
    if (s.span["traceId"] != trace_id) {
      REQUIRE(s.span["name"] == "GET /v1/cluster");
      REQUIRE_FALSE(s.span.contains("parentSpanId"));
    }
  }
  spans.erase(std::remove_if(spans.begin(), spans.end(),
                             [&](const seen_span& s) { return s.span["traceId"] != trace_id; }),
              spans.end());
  std::map<std::string, const seen_span*> by_id;
  for (const auto& s : spans) {
    INFO(s.service << ": " << s.span.dump());
    REQUIRE(s.span.contains("parentSpanId"));
    REQUIRE(is_hex(s.span["parentSpanId"].get<std::string>(), 16));
    REQUIRE(is_decimal(s.span["startTimeUnixNano"]));
    REQUIRE(is_decimal(s.span["endTimeUnixNano"]));
    REQUIRE(std::stoull(s.span["endTimeUnixNano"].get<std::string>()) >=
            std::stoull(s.span["startTimeUnixNano"].get<std::string>()));
    REQUIRE(s.span["kind"].is_number_integer());
    REQUIRE(s.span["traceState"] == "vendor=abc");
    REQUIRE(by_id.emplace(s.span["spanId"].get<std::string>(), &s).second);
  }
  auto parent_of = [&](const seen_span& s) -> const seen_span* {
    auto it = by_id.find(s.span["parentSpanId"].get<std::string>());
    return it == by_id.end() ? nullptr : it->second;
  };
  auto find = [&](const std::string& service, int kind, const std::string& name) {
    std::vector<const seen_span*> out;
    for (const auto& s : spans)
      if (s.service == service && s.span["kind"] == kind && s.span["name"] == name)
        out.push_back(&s);
    return out;
  };

  // The gateway's server span: the caller's span is its parent.
  auto roots = find("n1", 2, "POST /v1/chatqna");
  REQUIRE(roots.size() == 1);
  const auto& root = *roots[0];
  REQUIRE(root.span["parentSpanId"] == caller_span);
  REQUIRE(attribute(root.span, "http.request.method") == json{{"stringValue", "POST"}});
  REQUIRE(attribute(root.span, "url.path") == json{{"stringValue", "/v1/chatqna"}});
  REQUIRE(attribute(root.span, "http.response.status_code") == json{{"intValue", "200"}});

  // A span per DAG node call, children of the server span: client spans,
  // every service being placed on members (the retriever on n1 itself).
  for (const auto* service : {"guard", "embedding", "retriever", "rerank", "llm"}) {
    auto calls = find("n1", 3, service);
    INFO(service);
    REQUIRE(calls.size() == 1);
    REQUIRE(parent_of(*calls[0]) == &root);
    REQUIRE(attribute(calls[0]->span, "opea.megaservice") == json{{"stringValue", "chatqna"}});
  }

  // The remote hops: the hosting member's server span is a child of n1's
  // call span, and the host's own call span a child of that.
  for (const auto& [service, member] :
       std::vector<std::pair<std::string, std::string>>{{"guard", "member-n3"},
                                                        {"embedding", "n2"},
                                                        {"retriever", "n1"},
                                                        {"rerank", "n2"},
                                                        {"llm", "member-n3"}}) {
    INFO(service << " on " << member);
    auto hops = find(member, 2, service);
    REQUIRE(hops.size() == 1);
    auto* caller = parent_of(*hops[0]);
    REQUIRE(caller != nullptr);
    REQUIRE(caller->service == "n1");
    REQUIRE(caller->span["name"] == service);
    auto hosted = find(member, 1, service);
    REQUIRE(hosted.size() == 1);
    REQUIRE(parent_of(*hosted[0]) == hops[0]);
    REQUIRE(attribute(hosted[0]->span, "opea.megaservice") ==
            json{{"stringValue", "hosted." + service}});
  }

  // The HTTP client span to the external guard: a child of n3's call span,
  // with OpenTelemetry's HTTP client attributes.
  auto posts = find("member-n3", 3, "POST");
  REQUIRE(posts.size() == 1);
  const auto& post_span = posts[0]->span;
  REQUIRE(parent_of(*posts[0]) == find("member-n3", 1, "guard")[0]);
  REQUIRE(attribute(post_span, "http.request.method") == json{{"stringValue", "POST"}});
  REQUIRE(attribute(post_span, "server.address") == json{{"stringValue", "127.0.0.1"}});
  REQUIRE(attribute(post_span, "server.port") == json{{"intValue", std::to_string(guard.port)}});
  REQUIRE(attribute(post_span, "url.full") == json{{"stringValue", guard.url("/v1/guard")}});
  REQUIRE(attribute(post_span, "http.response.status_code") == json{{"intValue", "200"}});

  // Nothing else: 1 server span, 5 calls, 5 hops with 5 host calls, 1 HTTP call.
  REQUIRE(spans.size() == 17);

  // The exporters count what they sent.
  auto m = call("GET", c.url("n1", "/metrics")).body;
  REQUIRE(metric_value(m, R"(opea_tracing_spans_exported_total{node="n1"})") >= 6);
  REQUIRE(metric_value(m, R"(opea_tracing_spans_dropped_total{node="n1"})") == 0);
}
