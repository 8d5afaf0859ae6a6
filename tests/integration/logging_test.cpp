// Logs: with node.log.format json every line the node prints is one JSON
// object ({"time", "level", "component", "thread", "message"}, plus
// "request_id"/"trace_id" on a line about a request), announcements
// included; with node.log.access one access line per response; levels per
// component (node.log.levels); every line of a request carries its request
// id; credentials sent with a request appear in no line.

#include <map>
#include <memory>
#include <regex>
#include <set>

#include "monitoring/log.hpp"
#include "nodes/config/node_config.hpp"
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
  // One access line for the POST, with its sizes and caller; its request and
  // trace ids are fields.
  const std::regex access{"^access POST /v1/e 200 [0-9.]+ ms in=" + std::to_string(body.size()) +
                          " out=([0-9]+) caller=127\\.0\\.0\\.1$"};
  int access_lines = 0;
  for (const auto& l : lines) {
    auto j = json::parse(l, nullptr, false);
    if (!j.is_object() || !j.contains("message")) continue;
    auto message = j["message"].get<std::string>();
    if (message.rfind("access ", 0) != 0) continue;
    INFO(l);
    std::smatch m;
    REQUIRE(std::regex_match(message, m, access));
    CHECK(std::stoul(m[1]) > r.body.size());  // head and body
    CHECK(j.value("component", "") == "gateway");
    CHECK(j.value("level", "") == "info");
    CHECK(j.value("request_id", "") == request_id);
    CHECK(j.value("trace_id", "") == trace);
    ++access_lines;
  }
  CHECK(access_lines == 1);
  static const std::regex stamp{R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$)"};
  static const std::set<std::string> components{opea::monitoring::log_component_names.begin(),
                                                opea::monitoring::log_component_names.end()};
  for (const auto& l : lines) {
    INFO(l);
    auto j = json::parse(l, nullptr, false);
    REQUIRE(j.is_object());
    std::set<std::string> keys;
    for (auto& [key, value] : j.items()) keys.insert(key);
    keys.erase("request_id");
    keys.erase("trace_id");
    CHECK(keys == std::set<std::string>{"time", "level", "component", "thread", "message"});
    CHECK(std::regex_match(j.at("time").get<std::string>(), stamp));
    CHECK(j.at("level").is_string());
    CHECK(components.count(j.at("component").get<std::string>()) == 1);
    CHECK(j.at("thread").is_number_unsigned());
    CHECK(j.at("message").is_string());
    CHECK(l.find("secret-value-123") == std::string::npos);
    CHECK(l.find("key-456-secret") == std::string::npos);
  }
}

namespace {

/// An opea-node serving the echo megaservice `mega` at /v1/e, with `log` as
/// its node.log settings; stop() ends it with SIGTERM and returns its lines.
struct echo_node {
  temp_dir dir;
  std::unique_ptr<opea::test::child_process> proc;
  std::string url;

  explicit echo_node(const std::string& log) {
    auto config = dir.write("node.yaml", "node: {name: ln, log: " + log +
                                             "}\n"
                                             "services:\n  e: {builtin: echo}\n"
                                             "megaservices:\n  - {name: mega, route: /v1/e, "
                                             "flows: [e]}\n");
    proc = std::make_unique<opea::test::child_process>(
        OPEA_NODE_BINARY, std::vector<std::string>{"--config", config, "--http-port", "0",
                                                   "--data-dir", (dir.path / "data").string()});
    static const std::regex listening{R"re(listening on [^"]*:([0-9]+))re"};
    auto line = proc->wait_for_line(listening, 20s);
    if (!line) FAIL("no \"listening on\" line; " << proc->describe());
    std::smatch m;
    std::regex_search(*line, m, listening);
    url = "http://127.0.0.1:" + m[1].str() + "/v1/e";
  }

  std::vector<std::string> stop() {
    proc->kill(SIGTERM);
    REQUIRE(proc->wait_for(10s) == 0);
    return proc->lines();
  }
};

/// The JSON objects of `lines` (REQUIREs every line to be one).
std::vector<json> parse_lines(const std::vector<std::string>& lines) {
  std::vector<json> out;
  for (const auto& l : lines) {
    INFO(l);
    auto j = json::parse(l, nullptr, false);
    REQUIRE(j.is_object());
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

TEST_CASE("Log levels per component: node.log.levels overrides node.log.level",
          "[integration][logging]") {
  // gateway above the default (its access line at info is dropped),
  // megaservice below it (its debug line shows), the rest at info.
  echo_node node{
      "{level: info, format: json, access: true, levels: {gateway: warn, "
      "megaservice: debug}}"};
  auto r = call("POST", node.url, R"({"text": "hi"})", {{"X-Request-Id", "levels-1"}});
  REQUIRE(r.status == 200);
  wait_requests_done(*node.proc, "mega", 1, 200);
  auto lines = parse_lines(node.stop());
  size_t gateway = 0, megaservice_debug = 0, node_info = 0, debug_elsewhere = 0;
  for (const auto& j : lines) {
    auto component = j.value("component", "");
    auto level = j.value("level", "");
    if (component == "gateway") ++gateway;
    if (component == "megaservice" && level == "debug") ++megaservice_debug;
    if (component == "node" && level == "info" &&
        j.value("message", "").find("received signal 15, shutting down") != std::string::npos)
      ++node_info;
    if (component != "megaservice" && level == "debug") ++debug_elsewhere;
  }
  CHECK(gateway == 0);
  CHECK(megaservice_debug == 1);
  CHECK(node_info == 1);
  CHECK(debug_elsewhere == 0);
}

TEST_CASE("Log levels per component: unknown names are config errors naming the key",
          "[integration][logging]") {
  auto config = [](const std::string& log) {
    return "node: {log: " + log +
           "}\nservices:\n  e: {builtin: echo}\nmegaservices:\n  - {name: m, route: /v1/e, "
           "flows: [e]}\n";
  };
  auto error_of = [](const std::string& yaml) -> std::string {
    try {
      (void)opea::nodes::parse_node_config(yaml, "node.yaml");
    } catch (const opea::nodes::config_error& e) {
      return e.what();
    }
    return "<no error>";
  };
  CHECK(error_of(config("{levels: {gateway: loud}}")) ==
        "node.yaml: node.log.levels.gateway: expected one of trace, debug, info, warn, error, "
        "off, got \"loud\"");
  CHECK(error_of(config("{levels: {gatewy: warn}}")) ==
        "node.yaml: node.log.levels.gatewy: unknown component 'gatewy'; expected one of cluster, "
        "dataprep, gateway, http, megaservice, node, retriever, scheduler, service, supervision");
  CHECK(error_of(config("{level: verbose}")) ==
        "node.yaml: node.log.level: expected one of trace, debug, info, warn, error, off, got "
        "\"verbose\"");
  auto ok = opea::nodes::parse_node_config(config("{level: warn, levels: {cluster: debug}}"),
                                           "node.yaml");
  CHECK(ok.node.log == opea::nodes::log_level::warn);
  CHECK(ok.node.log_levels ==
        std::map<opea::monitoring::log_component, opea::nodes::log_level>{
            {opea::monitoring::log_component::cluster, opea::nodes::log_level::debug}});
}

TEST_CASE("Every log line of a request carries its request id", "[integration][logging]") {
  echo_node node{"{level: debug, format: json, access: true}"};
  const std::string trace = "0af7651916cd43dd8448eb211c80319c";
  auto r =
      call("POST", node.url, R"({"text": "hi"})",
           {{"X-Request-Id", "req-7f3a"}, {"traceparent", "00-" + trace + "-b7ad6b7169203331-01"}});
  REQUIRE(r.status == 200);
  REQUIRE(r.header("X-Request-Id") == "req-7f3a");
  wait_requests_done(*node.proc, "mega", 1, 200);
  auto lines = parse_lines(node.stop());
  // The node's own lines (announcements, the signal) are not about the
  // request; every other line is, and carries its ids.
  std::set<std::string> seen;
  for (const auto& j : lines) {
    if (j.value("component", "") == "node") continue;
    INFO(j.dump());
    CHECK(j.value("request_id", "") == "req-7f3a");
    CHECK(j.value("trace_id", "") == trace);
    CHECK(j.value("message", "").find("req-7f3a") == std::string::npos);  // a field, not text
    seen.insert(j.value("component", ""));
  }
  CHECK(seen == std::set<std::string>{"gateway", "megaservice"});
}

TEST_CASE("No credential of a request reaches a log line (text lines)", "[integration][logging]") {
  echo_node node{"{level: trace, access: true}"};
  auto r = call("POST", node.url + "?api_key=query-secret-789&x=1", R"({"text": "body-secret-42"})",
                {{"Authorization", "Bearer secret-value"},
                 {"X-API-Key", "key-value-123"},
                 {"X-Request-Id", "text-1"}});
  REQUIRE(r.status == 200);
  wait_requests_done(*node.proc, "mega", 1, 200);
  auto lines = node.stop();
  bool access = false;
  for (const auto& l : lines) {
    INFO(l);
    CHECK(l.find("secret-value") == std::string::npos);
    CHECK(l.find("key-value-123") == std::string::npos);
    CHECK(l.find("query-secret-789") == std::string::npos);
    CHECK(l.find("body-secret-42") == std::string::npos);
    // Text lines name their component; the ids end the line.
    static const std::regex access_line{
        R"(\] \[gateway\] \[info\] access POST /v1/e\?api_key=REDACTED&x=1 200 [0-9.]+ ms in=[0-9]+ )"
        R"(out=[0-9]+ caller=127\.0\.0\.1 request_id=text-1 trace_id=-$)"};
    if (std::regex_search(l, access_line)) access = true;
  }
  CHECK(access);
}
