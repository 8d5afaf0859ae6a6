#include "monitoring/log.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

using namespace opea::monitoring;

namespace {

/// Keeps the logger name and text of every line.
class capture_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> lines;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines.push_back(std::string{msg.logger_name.data(), msg.logger_name.size()} + ": " +
                    std::string{msg.payload.data(), msg.payload.size()});
  }
  void flush_() override {}
};

}  // namespace

TEST_CASE("log: one logger per component, named after it, levels set per component",
          "[monitoring][log]") {
  auto sink = std::make_shared<capture_sink>();
  auto previous = spdlog::default_logger()->sinks();
  auto level = spdlog::get_level();
  use_log_sinks({sink});
  spdlog::set_level(spdlog::level::info);
  set_log_level(log_component::gateway, spdlog::level::warn);
  set_log_level(log_component::megaservice, spdlog::level::debug);

  log(log_component::gateway).info("dropped");
  log(log_component::gateway).warn("kept");
  log(log_component::megaservice).debug("kept too");
  log(log_component::http).debug("dropped too");
  log(log_component::http).info("at info");
  CHECK(&log(log_component::http) == &log(log_component::http));
  CHECK(spdlog::get("supervision").get() == &log(log_component::supervision));

  use_log_sinks(previous);
  spdlog::set_level(level);
  CHECK(sink->lines ==
        std::vector<std::string>{"gateway: kept", "megaservice: kept too", "http: at info"});
}

TEST_CASE("log: component names round-trip", "[monitoring][log]") {
  for (auto name : log_component_names) {
    auto c = parse_log_component(name);
    REQUIRE(c);
    CHECK(to_string(*c) == name);
  }
  CHECK_FALSE(parse_log_component("gatewy"));
  CHECK_FALSE(parse_log_component(""));
}

TEST_CASE("log: trace_id_of takes the trace id of a traceparent", "[monitoring][log]") {
  CHECK(trace_id_of("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") ==
        "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(trace_id_of("") == "-");
  CHECK(trace_id_of("garbage") == "-");
}

TEST_CASE("log: redact_target masks secret query values and URL credentials", "[monitoring][log]") {
  CHECK(redact_target("/v1/chat") == "/v1/chat");
  CHECK(redact_target("/v1/chat?x=1&y=2") == "/v1/chat?x=1&y=2");
  CHECK(redact_target("/v1/e?api_key=abc&x=1") == "/v1/e?api_key=REDACTED&x=1");
  CHECK(redact_target("/v1/e?x=1&Token=t&access_token=a&X-API-Key=k&password=p#frag") ==
        "/v1/e?x=1&Token=REDACTED&access_token=REDACTED&X-API-Key=REDACTED&password=REDACTED#frag");
  CHECK(redact_target("/v1/e?sig=s&signature=s2&monkey=banana&keys=1") ==
        "/v1/e?sig=REDACTED&signature=REDACTED&monkey=banana&keys=1");
  CHECK(redact_target("http://user:pw@example.com:8080/v1/x?apikey=k") ==
        "http://REDACTED@example.com:8080/v1/x?apikey=REDACTED");
  CHECK(redact_target("http://example.com/a@b") == "http://example.com/a@b");
  CHECK(redact_target("http://127.0.0.1:9000/v1/embeddings") ==
        "http://127.0.0.1:9000/v1/embeddings");
}
