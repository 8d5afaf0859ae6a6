#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "monitoring/tracing/tracing_settings.hpp"

using namespace opea::monitoring;
using namespace std::chrono_literals;

namespace {

using env_map = std::map<std::string, std::string>;
using pairs = std::vector<std::pair<std::string, std::string>>;

tracing_settings parse(const env_map& env) {
  return tracing_settings::from_environment([&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

}  // namespace

TEST_CASE("tracing settings: the defaults, and tracing off without an endpoint",
          "[monitoring][tracing]") {
  auto s = parse({});
  CHECK_FALSE(s.enabled());
  CHECK_FALSE(s.sdk_disabled);
  CHECK(s.endpoint.empty());
  CHECK(s.service_name == "unknown_service");
  CHECK(s.resource_attributes.empty());
  CHECK(s.trace_sampler.type() == sampler::kind::parentbased_always_on);
  CHECK(s.headers.empty());
  CHECK(s.exporter_timeout == 10000ms);
  CHECK(s.batch.max_queue_size == 2048);
  CHECK(s.batch.schedule_delay == 5000ms);
  CHECK(s.batch.max_export_batch_size == 512);
  CHECK(s.batch.export_timeout == 30000ms);
  // Empty values count as unset.
  CHECK_FALSE(
      parse({{"OTEL_EXPORTER_OTLP_ENDPOINT", ""}, {"OTEL_BSP_MAX_QUEUE_SIZE", " "}}).enabled());
}

TEST_CASE("tracing settings: every variable read", "[monitoring][tracing]") {
  auto s = parse({
      {"OTEL_SERVICE_NAME", "chatqna"},
      {"OTEL_RESOURCE_ATTRIBUTES",
       "service.name=ignored, deployment.environment=prod,team=a%20b%2Cc,,host.name=n1"},
      {"OTEL_TRACES_SAMPLER", "parentbased_traceidratio"},
      {"OTEL_TRACES_SAMPLER_ARG", "0.125"},
      {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
      {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
      {"OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20abc,x-tenant=one"},
      {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-tenant=two"},
      {"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"},
      {"OTEL_BSP_MAX_QUEUE_SIZE", "100"},
      {"OTEL_BSP_SCHEDULE_DELAY", "250"},
      {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "100"},
      {"OTEL_BSP_EXPORT_TIMEOUT", "1000"},
  });
  CHECK(s.enabled());
  CHECK(s.service_name == "chatqna");  // OTEL_SERVICE_NAME wins
  CHECK(s.resource_attributes ==
        pairs{{"deployment.environment", "prod"}, {"team", "a b,c"}, {"host.name", "n1"}});
  CHECK(s.trace_sampler.type() == sampler::kind::parentbased_traceidratio);
  CHECK(s.trace_sampler.ratio() == 0.125);
  CHECK(s.endpoint == "http://collector:4318/v1/traces");
  CHECK(s.headers == pairs{{"Authorization", "Bearer abc"}, {"x-tenant", "two"}});
  CHECK(s.exporter_timeout == 2500ms);
  CHECK(s.batch.max_queue_size == 100);
  CHECK(s.batch.schedule_delay == 250ms);
  CHECK(s.batch.max_export_batch_size == 100);
  CHECK(s.batch.export_timeout == 1000ms);
}

TEST_CASE("tracing settings: endpoints, service name and exporter", "[monitoring][tracing]") {
  CHECK(parse({{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://otel.example:4318/"}}).endpoint ==
        "https://otel.example:4318/v1/traces");
  CHECK(parse({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318/base"}}).endpoint ==
        "http://a:4318/base/v1/traces");
  // The signal-specific endpoint is used as is, and wins.
  CHECK(parse({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"},
               {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:9999/custom"}})
            .endpoint == "http://b:9999/custom");
  CHECK(parse({{"OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs"}}).service_name ==
        "from-attrs");
  auto none =
      parse({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"}, {"OTEL_TRACES_EXPORTER", "none"}});
  CHECK_FALSE(none.enabled());
  auto disabled = parse({{"OTEL_SDK_DISABLED", "TRUE"},
                         {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"},
                         {"OTEL_TRACES_SAMPLER", "not even checked"}});
  CHECK(disabled.sdk_disabled);
  CHECK_FALSE(disabled.enabled());
  CHECK(parse({{"OTEL_SDK_DISABLED", "false"}, {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:1"}})
            .enabled());
  CHECK(parse({{"OTEL_TRACES_SAMPLER", "traceidratio"}}).trace_sampler.ratio() == 1.0);
}

TEST_CASE("tracing settings: a bad value is one error naming the variable and the value",
          "[monitoring][tracing]") {
  auto error = [](const env_map& env) -> std::string {
    try {
      parse(env);
    } catch (const tracing_config_error& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK(error({{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"}}) ==
        "OTEL_EXPORTER_OTLP_PROTOCOL=\"http/protobuf\": not supported: opea-cpp exports "
        "OTLP/HTTP JSON only (set http/json)");
  CHECK(error({{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
               {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"}}) ==
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=\"grpc\": not supported: opea-cpp exports "
        "OTLP/HTTP JSON only (set http/json)");
  // The signal-specific protocol wins over a bad general one.
  CHECK(error({{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
               {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"}}) == "no error");
  CHECK(error({{"OTEL_EXPORTER_OTLP_PROTOCOL", "udp"}}) ==
        "OTEL_EXPORTER_OTLP_PROTOCOL=\"udp\": unknown protocol (expected http/json; "
        "http/protobuf and grpc are not supported)");
  CHECK(error({{"OTEL_SDK_DISABLED", "yes"}}) ==
        "OTEL_SDK_DISABLED=\"yes\": expected true or false");
  CHECK(error({{"OTEL_TRACES_SAMPLER", "jaeger_remote"}}) ==
        "OTEL_TRACES_SAMPLER=\"jaeger_remote\": unknown or unsupported sampler (expected "
        "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or "
        "parentbased_traceidratio)");
  CHECK(error({{"OTEL_TRACES_SAMPLER", "traceidratio"}, {"OTEL_TRACES_SAMPLER_ARG", "1.5"}}) ==
        "OTEL_TRACES_SAMPLER_ARG=\"1.5\": not a sampling ratio (expected a number in [0, 1])");
  CHECK(error({{"OTEL_TRACES_SAMPLER", "traceidratio"}, {"OTEL_TRACES_SAMPLER_ARG", "half"}}) ==
        "OTEL_TRACES_SAMPLER_ARG=\"half\": not a sampling ratio (expected a number in [0, 1])");
  // The argument of a sampler that takes none is ignored.
  CHECK(error({{"OTEL_TRACES_SAMPLER", "always_on"}, {"OTEL_TRACES_SAMPLER_ARG", "half"}}) ==
        "no error");
  CHECK(error({{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"}}) ==
        "OTEL_EXPORTER_OTLP_ENDPOINT=\"collector:4318\": not an http:// or https:// URL");
  CHECK(error({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "grpc://c:4317"}}) ==
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=\"grpc://c:4317\": not an http:// or https:// URL");
  CHECK(error({{"OTEL_TRACES_EXPORTER", "jaeger"}}) ==
        "OTEL_TRACES_EXPORTER=\"jaeger\": unsupported exporter (expected otlp or none)");
  CHECK(error({{"OTEL_BSP_MAX_QUEUE_SIZE", "0"}}) ==
        "OTEL_BSP_MAX_QUEUE_SIZE=\"0\": not a positive integer (spans)");
  CHECK(error({{"OTEL_BSP_SCHEDULE_DELAY", "5s"}}) ==
        "OTEL_BSP_SCHEDULE_DELAY=\"5s\": not a positive integer (milliseconds)");
  CHECK(error({{"OTEL_BSP_EXPORT_TIMEOUT", "-1"}}) ==
        "OTEL_BSP_EXPORT_TIMEOUT=\"-1\": not a positive integer (milliseconds)");
  CHECK(error({{"OTEL_EXPORTER_OTLP_TIMEOUT", "99999999999999999999"}}) ==
        "OTEL_EXPORTER_OTLP_TIMEOUT=\"99999999999999999999\": not a positive integer "
        "(milliseconds)");
  CHECK(error({{"OTEL_BSP_MAX_QUEUE_SIZE", "10"}}) ==
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=\"512\": larger than OTEL_BSP_MAX_QUEUE_SIZE (10)");
  CHECK(error({{"OTEL_RESOURCE_ATTRIBUTES", "a=1,oops"}}) ==
        "OTEL_RESOURCE_ATTRIBUTES=\"a=1,oops\": entry \"oops\" has no '=' (expected "
        "key=value,...)");
  CHECK(error({{"OTEL_RESOURCE_ATTRIBUTES", "=1"}}) ==
        "OTEL_RESOURCE_ATTRIBUTES=\"=1\": entry \"=1\" has an empty key (expected key=value,...)");
  CHECK(error({{"OTEL_RESOURCE_ATTRIBUTES", "a=%zz"}}) ==
        "OTEL_RESOURCE_ATTRIBUTES=\"a=%zz\": entry \"a=%zz\" has a bad percent-escape (expected "
        "key=value,...)");
  // Headers carry credentials: the error never shows their value.
  CHECK(error({{"OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%2secret"}}) ==
        "OTEL_EXPORTER_OTLP_HEADERS: entry 1 has a bad percent-escape (expected key=value,...; "
        "value not shown)");
  CHECK(error({{"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "a=1,token"}}) ==
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS: entry 2 has no '=' (expected key=value,...; value "
        "not shown)");
}
