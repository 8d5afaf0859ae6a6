// JSON logs: with node.log.format json every line the node prints is one JSON
// object ({"time", "level", "thread", "message"}), announcements included,
// and credentials sent with a request appear in none of them.

#include <regex>

#include "tests/integration/cluster_fixture.hpp"

using namespace opea::itest;

TEST_CASE("JSON logs: one object per line, no credentials", "[integration][logging]") {
  temp_dir dir;
  auto config = dir.write("node.yaml",
                          "node: {name: lj, log_level: debug, log: {format: json}}\n"
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
  auto r = call("POST", url, R"({"text": "hello"})",
                {{"Authorization", "Bearer secret-value-123"}, {"X-Api-Key", "key-456-secret"}});
  REQUIRE(r.status == 200);
  wait_requests_done(node, "mega", 1, 200);
  node.kill(SIGTERM);
  REQUIRE(node.wait_for(10s) == 0);

  auto lines = node.lines();
  REQUIRE(lines.size() >= 3);  // the route, listening, the request, shutting down
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
