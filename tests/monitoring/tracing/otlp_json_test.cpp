#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "monitoring/tracing/otlp_json.hpp"

using namespace opea::monitoring;

namespace {

std::shared_ptr<const span_resource> resource(const std::string& service) {
  auto r = std::make_shared<span_resource>();
  r->attributes.push_back({"service.name", std::string{service}});
  r->scope_name = "opea-cpp";
  r->scope_version = "1.2.3";
  return r;
}

span_data root_span(std::shared_ptr<const span_resource> r, std::string name) {
  span_data s;
  s.name = std::move(name);
  s.context = *span_context::parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  s.context.remote = false;
  s.start_unix_nano = 1;
  s.end_unix_nano = 2;
  s.resource = std::move(r);
  return s;
}

}  // namespace

TEST_CASE("OTLP JSON: one span with every field and attribute type, exactly",
          "[monitoring][tracing]") {
  span_data s;
  s.name = "POST /v1/chatqna";
  s.kind = span_kind::server;
  s.context = *span_context::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                                   "congo=t61rcWkgMzE");
  s.parent = span_context::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-53995c3f42cd8ad8-01")->span;
  s.parent_remote = true;
  s.start_unix_nano = 1700000000000000000ULL;
  s.end_unix_nano = 1700000000250000000ULL;
  s.attributes.push_back({"http.method", std::string{"POST"}});
  s.attributes.push_back({"http.status_code", std::int64_t{200}});
  s.attributes.push_back({"opea.negative", std::int64_t{-42}});
  s.attributes.push_back({"opea.score", 0.5});
  s.attributes.push_back({"opea.cache_hit", true});
  s.status = status_code::error;
  s.status_message = "backend \"llm\" failed";
  s.resource = resource("chatqna");

  const std::string expected =
      R"json({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"chatqna"}}]},)json"
      R"json("scopeSpans":[{"scope":{"name":"opea-cpp","version":"1.2.3"},"spans":[{)json"
      R"json("traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7",)json"
      R"json("traceState":"congo=t61rcWkgMzE","parentSpanId":"53995c3f42cd8ad8","flags":769,)json"
      R"json("name":"POST /v1/chatqna","kind":2,)json"
      R"json("startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000250000000",)json"
      R"json("attributes":[{"key":"http.method","value":{"stringValue":"POST"}},)json"
      R"json({"key":"http.status_code","value":{"intValue":"200"}},)json"
      R"json({"key":"opea.negative","value":{"intValue":"-42"}},)json"
      R"json({"key":"opea.score","value":{"doubleValue":0.5}},)json"
      R"json({"key":"opea.cache_hit","value":{"boolValue":true}}],)json"
      R"json("status":{"code":2,"message":"backend \"llm\" failed"}}]}]}]})json";
  CHECK(encode_otlp_json({s}) == expected);
  CHECK_NOTHROW(nlohmann::json::parse(expected));
}

TEST_CASE("OTLP JSON: a root span omits what is at its default", "[monitoring][tracing]") {
  auto s = root_span(resource("svc"), "work");
  const std::string expected =
      R"json({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},)json"
      R"json("scopeSpans":[{"scope":{"name":"opea-cpp","version":"1.2.3"},"spans":[{)json"
      R"json("traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","flags":257,)json"
      R"json("name":"work","kind":1,"startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]})json";
  CHECK(encode_otlp_json({s}) == expected);

  s.status = status_code::ok;
  s.dropped_attributes = 3;
  auto out = encode_otlp_json({s});
  CHECK(out.find(R"("droppedAttributesCount":3,"status":{"code":1}})") != std::string::npos);
}

TEST_CASE("OTLP JSON: strings are escaped and made valid UTF-8; doubles and int64 extremes",
          "[monitoring][tracing]") {
  auto s =
      root_span(nullptr, std::string{"a\"b\\c\n\t\x01 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"} +
                             "|\xff|\xe2\x82|\xc0\xaf|\xed\xa0\x80|");
  s.attributes.push_back({"nan", std::numeric_limits<double>::quiet_NaN()});
  s.attributes.push_back({"inf", std::numeric_limits<double>::infinity()});
  s.attributes.push_back({"-inf", -std::numeric_limits<double>::infinity()});
  s.attributes.push_back({"tiny", 1e-300});
  s.attributes.push_back({"min", std::numeric_limits<std::int64_t>::min()});
  auto out = encode_otlp_json({s});
  // é, € and 😀 pass through; each invalid byte becomes U+FFFD.
  const std::string name =
      "\"name\":\"a\\\"b\\\\c\\n\\t\\u0001 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"
      "|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
      "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\"";
  CHECK(out.find(name) != std::string::npos);
  CHECK(out.find(R"({"key":"nan","value":{"doubleValue":"NaN"}})") != std::string::npos);
  CHECK(out.find(R"({"key":"inf","value":{"doubleValue":"Infinity"}})") != std::string::npos);
  CHECK(out.find(R"({"key":"-inf","value":{"doubleValue":"-Infinity"}})") != std::string::npos);
  CHECK(out.find(R"({"key":"tiny","value":{"doubleValue":1e-300}})") != std::string::npos);
  CHECK(out.find(R"({"key":"min","value":{"intValue":"-9223372036854775808"}})") !=
        std::string::npos);
  // No resource: empty resource and scope.
  CHECK(out.rfind(R"({"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{},"spans":[)", 0) ==
        0);
  auto parsed = nlohmann::json::parse(out);  // valid JSON, valid UTF-8
  CHECK(parsed["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"].size() == 5);
}

TEST_CASE("OTLP JSON: spans are grouped by resource in order of first appearance",
          "[monitoring][tracing]") {
  auto a = resource("a");
  auto b = resource("b");
  std::vector<span_data> spans{root_span(a, "a1"), root_span(b, "b1"), root_span(a, "a2")};
  auto j = nlohmann::json::parse(encode_otlp_json(spans));
  REQUIRE(j["resourceSpans"].size() == 2);
  auto names = [&](int i) {
    std::vector<std::string> n;
    for (auto& s : j["resourceSpans"][i]["scopeSpans"][0]["spans"]) n.push_back(s["name"]);
    return n;
  };
  CHECK(j["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"] == "a");
  CHECK(names(0) == std::vector<std::string>{"a1", "a2"});
  CHECK(j["resourceSpans"][1]["resource"]["attributes"][0]["value"]["stringValue"] == "b");
  CHECK(names(1) == std::vector<std::string>{"b1"});
  CHECK(encode_otlp_json({}) == R"({"resourceSpans":[]})");
}
