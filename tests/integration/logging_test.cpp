// JSON logs: with node.log.format json every line the node prints is one JSON
// object ({"time", "level", "thread", "message"}), announcements included,
// and credentials sent with a request appear in none of them; with
// node.log.access one access line per response.

#include <regex>

#include "tests/integration/cluster_fixture.hpp"

using namespace opea::itest;

TEST_CASE("JSON logs: one object per line, an access line per response, no credentials",
          "[integration][logging]") {
  temp_dir dir;
  auto config = dir.write("node.yaml",
                          "node: {name: lj, log_level: debug, log: {format: json, access: true}}\n"
                          "services:\n  e: {builtin: echo}\n"
                          "megaservices:\n  - {name: mega, route: /v1/e, flows: [e]}\n");
  opea::test::child_process node{
      OPEA_NODE_BINARY,
      {"--config", config, "--http-port", "0", "--data-dir", (dir.path / "data").string()}};
  static const std::regex listening{R"re("message":"listening on [^"]*:([0-9]+)")re"};
  auto line = node.wait_for_line(listening, 20s);
  if (!line) FAIL("no JSON \"listening on\" line; " << node.describe());
  std::smatch m;
  std::regex_search(*line, m, listening);
  auto url = "http://127.0.0.1:" + m[1].str() + "/v1/e";
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string body = R"({"text": "hello"})";
  auto r = call("POST", url, body,
                {{"Authorization", "Bearer secret-value-123"},
                 {"X-Api-Key", "key-456-secret"},
                 {"traceparent", "00-" + trace + "-00f067aa0ba902b7-01"}});
  REQUIRE(r.status == 200);
  auto request_id = r.header("X-Request-Id");
  REQUIRE_FALSE(request_id.empty());
  wait_requests_done(node, "mega", 1, 200);
  node.kill(SIGTERM);
  REQUIRE(node.wait_for(10s) == 0);

  auto lines = node.lines();
  REQUIRE(lines.size() >= 3);  // the route, listening, the request, shutting down
  // One access line for the POST, with its sizes, caller, request and trace ids.
  const std::regex access{"^access POST /v1/e 200 [0-9.]+ ms in=" + std::to_string(body.size()) +
                          " out=([0-9]+) caller=127\\.0\\.0\\.1 request_id=" + request_id +
                          " trace_id=" + trace + "$"};
  int access_lines = 0;
  for (const auto& l : lines) {
    auto j = json::parse(l, nullptr, false);
    if (!j.is_object() || !j.contains("message")) continue;
    auto message = j["message"].get<std::string>();
    if (message.rfind("access ", 0) != 0) continue;
    INFO(message);
    std::smatch m;
    REQUIRE(std::regex_match(message, m, access));
    CHECK(std::stoul(m[1]) > r.body.size());  // head and body
    ++access_lines;
  }
  CHECK(access_lines == 1);
  static const std::regex stamp{R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$)"};
  for (const auto& l : lines) {
    INFO(l);
    auto j = json::parse(l, nullptr, false);
    REQUIRE(j.is_object());
    REQUIRE(j.size() == 4);
    CHECK(std::regex_match(j.at("time").get<std::string>(), stamp));
    CHECK(j.at("level").is_string());
    CHECK(j.at("thread").is_number_unsigned());
    CHECK(j.at("message").is_string());
    CHECK(l.find("secret-value-123") == std::string::npos);
    CHECK(l.find("key-456-secret") == std::string::npos);
  }
}
