#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "monitoring/tracing/memory_transport.hpp"
#include "monitoring/tracing/tracer.hpp"

using namespace opea::monitoring;
using namespace std::chrono_literals;

namespace {

tracing_settings enabled_settings(sampler s = sampler{}) {
  tracing_settings t;
  t.service_name = "chatqna";
  t.resource_attributes = {{"deployment.environment", "test"}};
  t.endpoint = "http://collector:4318/v1/traces";  // the memory transport ignores it
  t.trace_sampler = s;
  t.batch.schedule_delay = std::chrono::hours{1};
  return t;
}

/// Every exported span, as JSON objects, in export order.
std::vector<nlohmann::json> exported(const memory_transport& mem) {
  std::vector<nlohmann::json> spans;
  for (auto& r : mem.requests()) {
    auto j = nlohmann::json::parse(r.body);
    for (auto& rs : j["resourceSpans"])
      for (auto& s : rs["scopeSpans"][0]["spans"]) spans.push_back(s);
  }
  return spans;
}

}  // namespace

TEST_CASE("tracer: a child shares its parent's trace and names it as parent",
          "[monitoring][tracing]") {
  memory_transport mem;
  tracer t{enabled_settings(), mem.transport()};
  REQUIRE(t.enabled());
  auto root = t.start_span("request", span_kind::server);
  REQUIRE(root.is_recording());
  auto child = t.start_span("llm", span_kind::client, root.context());
  CHECK(child.context().trace == root.context().trace);
  CHECK(child.context().span != root.context().span);
  CHECK(child.context().sampled());
  CHECK(child.traceparent() ==
        "00-" + root.context().trace.hex() + "-" + child.context().span.hex() + "-01");
  const auto root_id = root.context().span.hex();
  const auto child_id = child.context().span.hex();
  child.end();
  root.end();
  REQUIRE(t.force_flush(30s));
  auto spans = exported(mem);
  REQUIRE(spans.size() == 2);
  CHECK(spans[0]["name"] == "llm");
  CHECK(spans[0]["kind"] == 3);
  CHECK(spans[0]["spanId"] == child_id);
  CHECK(spans[0]["parentSpanId"] == root_id);
  CHECK(spans[0]["flags"] == 0x101);
  CHECK(spans[1]["name"] == "request");
  CHECK(spans[1]["kind"] == 2);
  CHECK_FALSE(spans[1].contains("parentSpanId"));
  CHECK(spans[0]["traceId"] == spans[1]["traceId"]);
  CHECK(std::stoull(spans[1]["startTimeUnixNano"].get<std::string>()) <=
        std::stoull(spans[1]["endTimeUnixNano"].get<std::string>()));
  CHECK(t.counters().exported == 2);
}

TEST_CASE("tracer: a remote parent from a traceparent header continues its trace",
          "[monitoring][tracing]") {
  memory_transport mem;
  tracer t{enabled_settings(), mem.transport()};
  auto remote = span_context::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                                    "congo=t61rcWkgMzE");
  REQUIRE(remote);
  {
    auto s = t.start_span("POST /v1/chatqna", span_kind::server, *remote);
    CHECK(s.context().trace == remote->trace);
    CHECK(s.context().state == "congo=t61rcWkgMzE");
    CHECK_FALSE(s.context().remote);
  }  // the destructor ends it
  REQUIRE(t.force_flush(30s));
  auto spans = exported(mem);
  REQUIRE(spans.size() == 1);
  CHECK(spans[0]["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(spans[0]["parentSpanId"] == "00f067aa0ba902b7");
  CHECK(spans[0]["traceState"] == "congo=t61rcWkgMzE");
  CHECK(spans[0]["flags"] == 0x301);  // sampled, has is_remote, is_remote
}

TEST_CASE("tracer: an unsampled span exports nothing but still propagates a context",
          "[monitoring][tracing]") {
  memory_transport mem;
  tracer t{enabled_settings(sampler{sampler::kind::parentbased_always_on}), mem.transport()};
  auto unsampled_parent =
      span_context::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  auto s = t.start_span("work", span_kind::server, *unsampled_parent);
  CHECK_FALSE(s.is_recording());
  CHECK(s.context().valid());
  CHECK(s.context().trace == unsampled_parent->trace);
  CHECK(s.context().span != unsampled_parent->span);  // a new span id
  CHECK(s.traceparent() == "00-4bf92f3577b34da6a3ce929d0e0e4736-" + s.context().span.hex() + "-00");
  s.set_attribute("ignored", 1);
  s.set_status(status_code::error, "ignored");
  s.end();

  tracer off{enabled_settings(sampler{sampler::kind::always_off}), mem.transport()};
  auto root = off.start_span("root");
  CHECK_FALSE(root.is_recording());
  CHECK(root.context().valid());
  CHECK_FALSE(root.context().sampled());
  root.end();

  REQUIRE(t.force_flush(30s));
  REQUIRE(off.force_flush(30s));
  CHECK(mem.requests().empty());
  CHECK(t.counters().exported == 0);
  CHECK(t.counters().dropped == 0);
}

TEST_CASE("tracer: disabled, spans are no-ops that pass the parent context through",
          "[monitoring][tracing]") {
  memory_transport mem;
  tracing_settings s;  // no endpoint: off
  tracer t{s, mem.transport()};
  CHECK_FALSE(t.enabled());
  auto parent = span_context::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  auto sp = t.start_span("work", span_kind::server, *parent);
  CHECK_FALSE(sp.is_recording());
  CHECK(sp.traceparent() == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  CHECK(sp.context().span == parent->span);
  CHECK(t.start_span("root").traceparent().empty());
  sp.end();
  CHECK(t.force_flush(1s));
  CHECK(mem.requests().empty());
  CHECK(t.counters().exported == 0);

  auto env = enabled_settings();
  env.sdk_disabled = true;  // OTEL_SDK_DISABLED=true wins over an endpoint
  CHECK_FALSE(tracer(env, mem.transport()).enabled());
}

TEST_CASE("tracer: attributes, status and resource as exported", "[monitoring][tracing]") {
  memory_transport mem;
  tracer t{enabled_settings(), mem.transport()};
  auto s = t.start_span("attrs");
  s.set_attribute("str", "text");
  s.set_attribute("str_view", std::string{"owned"});
  s.set_attribute("int", 7);
  s.set_attribute("u64", std::uint64_t{42});
  s.set_attribute("double", 2.5);
  s.set_attribute("bool", false);
  s.set_attribute("int", -7);  // replaces
  for (int i = 0; i < 130; ++i) s.set_attribute("k" + std::to_string(i), i);
  s.set_status(status_code::error, "boom");
  s.set_status(status_code::unset);  // ignored
  s.end();
  auto ok = t.start_span("ok");
  ok.set_status(status_code::ok, "not kept");
  ok.set_status(status_code::error, "too late: ok is final");
  ok.end();
  REQUIRE(t.force_flush(30s));

  auto j = nlohmann::json::parse(mem.requests().at(0).body);
  auto& resource = j["resourceSpans"][0]["resource"]["attributes"];
  std::vector<std::string> keys;
  for (auto& a : resource) keys.push_back(a["key"]);
  CHECK(keys == std::vector<std::string>{"service.name", "deployment.environment",
                                         "telemetry.sdk.name", "telemetry.sdk.language",
                                         "telemetry.sdk.version"});
  CHECK(resource[0]["value"]["stringValue"] == "chatqna");
  CHECK(j["resourceSpans"][0]["scopeSpans"][0]["scope"]["name"] == "opea-cpp");

  auto spans = exported(mem);
  REQUIRE(spans.size() == 2);
  auto& a = spans[0]["attributes"];
  REQUIRE(a.size() == 128);
  CHECK(a[0] == nlohmann::json::parse(R"({"key":"str","value":{"stringValue":"text"}})"));
  CHECK(a[1] == nlohmann::json::parse(R"({"key":"str_view","value":{"stringValue":"owned"}})"));
  CHECK(a[2] == nlohmann::json::parse(R"({"key":"int","value":{"intValue":"-7"}})"));
  CHECK(a[3] == nlohmann::json::parse(R"({"key":"u64","value":{"intValue":"42"}})"));
  CHECK(a[4] == nlohmann::json::parse(R"({"key":"double","value":{"doubleValue":2.5}})"));
  CHECK(a[5] == nlohmann::json::parse(R"({"key":"bool","value":{"boolValue":false}})"));
  CHECK(spans[0]["droppedAttributesCount"] == 8);  // 6 + 130 - 128
  CHECK(spans[0]["status"] == nlohmann::json::parse(R"({"code":2,"message":"boom"})"));
  CHECK(spans[1]["status"] == nlohmann::json::parse(R"({"code":1})"));
}

TEST_CASE("span handle: moving keeps one span; move-assignment ends the target's",
          "[monitoring][tracing]") {
  memory_transport mem;
  tracer t{enabled_settings(), mem.transport()};
  auto a = t.start_span("a");
  auto b = t.start_span("b");
  span moved{std::move(a)};
  CHECK(moved.is_recording());
  CHECK_FALSE(a.is_recording());  // NOLINT(bugprone-use-after-move): moved-from is empty
  moved = std::move(b);           // ends "a"
  REQUIRE(t.force_flush(30s));
  auto spans = exported(mem);
  REQUIRE(spans.size() == 1);
  CHECK(spans[0]["name"] == "a");
  moved.end();
  moved.end();  // twice: once
  REQUIRE(t.force_flush(30s));
  CHECK(exported(mem).size() == 2);
  CHECK(t.counters().exported == 2);
}

TEST_CASE("tracer: a span ended after the tracer's shutdown is dropped, not lost in a crash",
          "[monitoring][tracing]") {
  memory_transport mem;
  span late;
  {
    tracer t{enabled_settings(), mem.transport()};
    late = t.start_span("late");
    t.start_span("early").end();
  }  // the tracer shuts down: "early" is exported
  late.end();
  auto spans = exported(mem);
  REQUIRE(spans.size() == 1);
  CHECK(spans[0]["name"] == "early");
}
