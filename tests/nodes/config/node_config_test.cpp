#include "nodes/config/node_config.hpp"

#include <catch2/catch.hpp>

#include "tests/nodes/config/config_test_support.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

using namespace opea::nodes;
using opea::nodes::test::check_errors;
using opea::nodes::test::check_rows;
using opea::nodes::test::data_file;
using opea::nodes::test::error_of;
using opea::nodes::test::error_row;

namespace {

// A valid prefix declaring services s1 (builtin) and s2 (http) for megaservice tests.
const std::string two_services =
    "services:\n"
    "  s1: {builtin: append}\n"
    "  s2: {url: 'http://127.0.0.1:8082/v1/add'}\n";

std::string with_mega(const std::string& megaservice_body) {
  return two_services + "megaservices:\n  - " + megaservice_body + "\n";
}

flow_graph flow(const std::string& rule) {
  flow_graph g;
  auto err = parse_mega_flow(rule, g);
  INFO(rule << " -> " << (err ? err->message : std::string("ok")));
  REQUIRE_FALSE(err);
  return g;
}

std::string flow_error(const std::string& rule) {
  flow_graph g;
  auto err = parse_mega_flow(rule, g);
  if (!err) return "<no error>";
  CHECK(g.nodes.empty());  // a bad rule leaves the graph unchanged
  CHECK(g.edges.empty());
  return err->message;
}

/// Each row's rule fails to parse with exactly the row's message.
void check_flow_errors(const std::vector<error_row>& rows) {
  check_rows(rows, flow_error);
}

using edges = std::vector<flow_edge>;
using names = std::vector<std::string>;

}  // namespace

// --- mega_flow grammar ------------------------------------------------------

TEST_CASE("mega_flow: single edge and chains", "[config]") {
  auto g = flow("a >> b");
  CHECK(g.nodes == names{"a", "b"});
  CHECK(g.edges == edges{{"a", "b"}});

  g = flow("a >> b >> c");
  CHECK(g.nodes == names{"a", "b", "c"});
  CHECK(g.edges == edges{{"a", "b"}, {"b", "c"}});
}

TEST_CASE("mega_flow: fan-in, fan-out and groups on both sides", "[config]") {
  auto g = flow("(s1, s5) >> s2");
  CHECK(g.nodes == names{"s1", "s5", "s2"});
  CHECK(g.edges == edges{{"s1", "s2"}, {"s5", "s2"}});

  g = flow("s2 >> (s3, s4)");
  CHECK(g.nodes == names{"s2", "s3", "s4"});
  CHECK(g.edges == edges{{"s2", "s3"}, {"s2", "s4"}});

  g = flow("(a, b) >> c >> (d, e)");
  CHECK(g.nodes == names{"a", "b", "c", "d", "e"});
  CHECK(g.edges == edges{{"a", "c"}, {"b", "c"}, {"c", "d"}, {"c", "e"}});

  g = flow("(a,b)>>(c,d)");
  CHECK(g.edges == edges{{"a", "c"}, {"a", "d"}, {"b", "c"}, {"b", "d"}});
}

TEST_CASE("mega_flow: whitespace, names and a single node", "[config]") {
  auto g = flow("  \t( a ,b_1 )>>  svc-2.v1  ");
  CHECK(g.nodes == names{"a", "b_1", "svc-2.v1"});
  CHECK(g.edges == edges{{"a", "svc-2.v1"}, {"b_1", "svc-2.v1"}});

  g = flow("only");
  CHECK(g.nodes == names{"only"});
  CHECK(g.edges.empty());

  g = flow("(x)");
  CHECK(g.nodes == names{"x"});
}

TEST_CASE("mega_flow: rules accumulate; node order is first appearance, edges deduplicated",
          "[config]") {
  flow_graph g;
  REQUIRE_FALSE(parse_mega_flow("(s1, s5) >> s2", g));
  REQUIRE_FALSE(parse_mega_flow("s2 >> (s3, s4)", g));
  REQUIRE_FALSE(parse_mega_flow("s3 >> s4", g));
  REQUIRE_FALSE(parse_mega_flow("s1 >> s2", g));
  CHECK(g.nodes == names{"s1", "s5", "s2", "s3", "s4"});
  CHECK(g.edges == edges{{"s1", "s2"}, {"s5", "s2"}, {"s2", "s3"}, {"s2", "s4"}, {"s3", "s4"}});
}

TEST_CASE("mega_flow: syntax errors name the column", "[config]") {
  check_flow_errors({
      {"", "empty flow at column 1 (end of flow)"},
      {"   ", "empty flow at column 4 (end of flow)"},
      {"(s1, >> s2", "expected a service name at column 6"},
      {"a >>", "expected a service name at column 5 (end of flow)"},
      {">> b", "expected a service name at column 1"},
      {"a b", "expected '>>' at column 3"},
      {"a > b", "expected '>>' at column 3"},
      {"a >> b >", "expected '>>' at column 8"},
      {"a >>> b", "expected a service name at column 5"},
      {"(a, b >> c", "expected ',' or ')' at column 7"},
      {"(a, b", "expected ',' or ')' at column 6 (end of flow)"},
      {"()", "expected a service name at column 2"},
      {"(a,) >> b", "expected a service name at column 4"},
      {"a >> $b", "expected a service name at column 6"},
      {"a >> b)", "expected '>>' at column 7"},
      {"((a)) >> b", "expected a service name at column 2"},
  });
}

TEST_CASE("mega_flow: self-loops and repeated names in a group are rejected", "[config]") {
  check_flow_errors({
      {"a >> a", "self-loop \"a\" >> \"a\" at column 6"},
      {"x >> (a, b) >> (c, a)", "self-loop \"a\" >> \"a\" at column 20"},
      {"(a, a) >> b", "service \"a\" appears twice in one group at column 5"},
  });
  // Not a self-loop: a appears twice but never feeds itself directly (a cycle, left to the DAG).
  CHECK(flow("a >> b >> a").edges == edges{{"a", "b"}, {"b", "a"}});
}

TEST_CASE("service names", "[config]") {
  CHECK(is_valid_service_name("s1"));
  CHECK(is_valid_service_name("my-svc_2.v1"));
  CHECK_FALSE(is_valid_service_name(""));
  CHECK_FALSE(is_valid_service_name("a b"));
  CHECK_FALSE(is_valid_service_name("a>b"));
}

// --- opea-cpp format ----------------------------------------------------------------

TEST_CASE("opea-cpp format: every default", "[config]") {
  auto c = load_node_config(data_file("minimal.yaml"));
  CHECK(c.source_name == data_file("minimal.yaml"));
  CHECK(c.source_format == "opea-cpp");
  CHECK(c.node.name == "opea-node");
  CHECK(c.node.data_dir == "./opea-data");
  CHECK(c.node.http.host == "0.0.0.0");
  CHECK(c.node.http.port == 8888);
  CHECK(c.node.http.io_threads == 0);
  CHECK(c.node.http.io_workers == 1);
  CHECK(c.node.http.max_body_bytes == 1048576);
  CHECK(c.node.scheduler.max_threads ==
        std::max<std::size_t>(1, std::thread::hardware_concurrency()));
  CHECK(c.node.scheduler.policy == scheduler_policy::spinning);
  CHECK(c.node.log == log_level::info);
  CHECK(c.node.format == log_format::text);
  CHECK_FALSE(c.node.access_log);

  REQUIRE(c.services.size() == 1);
  const auto& s = c.services[0];
  CHECK(s.name == "s1");
  CHECK(s.kind == service_kind::builtin);
  CHECK(s.builtin == "append");
  CHECK(s.params == nlohmann::json::object());
  CHECK(s.url.empty());
  CHECK(s.timeout_ms == 30000);
  CHECK(s.service_type == 10);
  CHECK(s.restart.max_restarts == 5);
  CHECK(s.restart.period == std::chrono::seconds{10});
  CHECK(s.restart_mode == opea::runtime::restart_type::permanent);
  CHECK_FALSE(s.breaker);  // no circuit breaker
  CHECK_FALSE(s.bulkhead);  // no bulkhead
  CHECK(s.retry.attempts == 1);  // no retry
  CHECK(s.retry.backoff == std::chrono::milliseconds{50});

  REQUIRE(c.megaservices.size() == 1);
  const auto& m = c.megaservices[0];
  CHECK(m.name == "example");
  CHECK(m.route == "/v1/example");
  CHECK(m.methods == names{"POST"});
  CHECK(m.deadline_ms == 30000);
  CHECK(m.nodes == names{"s1"});
  CHECK(m.edges.empty());
}

TEST_CASE("opea-cpp format: every key set", "[config]") {
  auto c = load_node_config(data_file("full.yaml"));
  CHECK(c.node.name == "n1");
  CHECK(c.node.data_dir == "/var/lib/opea");
  CHECK(c.node.http.host == "127.0.0.1");
  CHECK(c.node.http.port == 9000);
  CHECK(c.node.http.io_threads == 2);
  CHECK(c.node.http.io_workers == 2);
  CHECK(c.node.http.max_body_bytes == 65536);
  CHECK(c.node.scheduler.max_threads == 3);
  CHECK(c.node.scheduler.policy == scheduler_policy::stealing);
  CHECK(c.node.log == log_level::debug);
  CHECK(c.node.format == log_format::json);
  CHECK(c.node.access_log);
  CHECK(c.node.supervision.strategy == opea::runtime::supervision_strategy::one_for_all);
  CHECK(c.node.supervision.intensity == 2);
  CHECK(c.node.supervision.period == std::chrono::milliseconds{20000});

  REQUIRE(c.services.size() == 3);
  CHECK(c.services[0].name == "s1");  // declaration order is kept
  CHECK(c.services[1].name == "s2");
  CHECK(c.services[2].name == "s3");

  const auto& s1 = c.services[0];
  CHECK(s1.kind == service_kind::builtin);
  CHECK(s1.builtin == "append");
  CHECK(s1.params == nlohmann::json::parse(R"({"suffix": " opea", "times": 2, "ratio": 0.5,
      "loud": true, "tags": ["a", "b"], "none": null, "quoted": "42"})"));
  CHECK(s1.service_type == 4);
  CHECK(s1.restart_mode == opea::runtime::restart_type::transient);
  CHECK(s1.restart.max_restarts == 3);
  CHECK(s1.restart.period == std::chrono::seconds{60});

  const auto& s2 = c.services[1];
  CHECK(s2.kind == service_kind::http);
  CHECK(s2.url == "http://127.0.0.1:8082/v1/add");
  CHECK(s2.endpoint.host == "127.0.0.1");
  CHECK(s2.endpoint.port == 8082);
  CHECK(s2.endpoint.target == "/v1/add");
  CHECK(s2.timeout_ms == 1500);
  CHECK(s2.service_type == 2);
  // circuit_breaker: {failures: 4, open_ms: 2500}, the consecutive shorthand.
  REQUIRE(s2.breaker);
  CHECK(s2.breaker->window_size == 4);
  CHECK(s2.breaker->minimum_calls == 4);
  CHECK(s2.breaker->failure_rate_threshold == 100);
  CHECK(s2.breaker->wait_in_open == std::chrono::milliseconds{2500});
  CHECK(s2.breaker->permitted_calls_in_half_open == 1);
  REQUIRE(s2.bulkhead);
  CHECK(s2.bulkhead->max_concurrent_calls == 16);
  CHECK(s2.bulkhead->max_queue == 32);
  CHECK(s2.retry.attempts == 3);
  CHECK(s2.retry.backoff == std::chrono::milliseconds{20});
  opea::runtime::micro_service applied;
  s2.set_policies(applied);
  REQUIRE(applied.breaker);
  CHECK(applied.breaker->window_size == 4);
  CHECK(applied.breaker->wait_in_open == std::chrono::milliseconds{2500});
  REQUIRE(applied.bulkhead);
  CHECK(applied.bulkhead->max_concurrent_calls == 16);
  CHECK(applied.bulkhead->max_queue == 32);
  CHECK(applied.retry.attempts == 3);
  CHECK(applied.retry.backoff == std::chrono::milliseconds{20});
  CHECK(applied.idempotent);
  CHECK(applied.restart.max_restarts == 5);

  CHECK(c.services[2].kind == service_kind::builtin);  // no url -> builtin
  CHECK(c.find_service("s2") == &c.services[1]);
  CHECK(c.find_service("nope") == nullptr);

  REQUIRE(c.megaservices.size() == 2);
  const auto& m = c.megaservices[0];
  CHECK(m.methods == names{"POST", "GET"});
  CHECK(m.deadline_ms == 5000);
  CHECK(m.nodes == names{"s1", "s2", "s3"});
  CHECK(m.edges == edges{{"s1", "s2"}, {"s2", "s3"}});
  CHECK(m.supervision.strategy == opea::runtime::supervision_strategy::rest_for_one);
  CHECK(m.supervision.intensity == 4);
  CHECK(m.supervision.period == std::chrono::milliseconds{2000});
  CHECK(m.supervision.backoff_min == std::chrono::milliseconds{10});
  CHECK(m.supervision.backoff_max == std::chrono::milliseconds{400});
  CHECK(m.supervision.backoff_random_factor == 0.25);
  CHECK(c.megaservices[1].nodes == names{"s3"});
  CHECK(c.megaservices[1].edges.empty());
}

TEST_CASE("opea-cpp format: kind defaults to http when a url is given", "[config]") {
  auto c = parse_node_config("services:\n  r: {url: 'http://h:1/p'}\n", "t.yaml");
  REQUIRE(c.services.size() == 1);
  CHECK(c.services[0].kind == service_kind::http);
  CHECK(c.services[0].timeout_ms == 30000);
  CHECK(c.megaservices.empty());
}

TEST_CASE("opea-cpp format: explicit nodes set the order and may add isolated services",
          "[config]") {
  auto c = parse_node_config(
      with_mega("{name: m, route: /m, flows: ['s1 >> s2'], nodes: [s2, s1]}"), "t.yaml");
  CHECK(c.megaservices[0].nodes == names{"s2", "s1"});
  CHECK(c.megaservices[0].edges == edges{{"s1", "s2"}});
}

TEST_CASE("opea-cpp format: small values", "[config]") {
  auto c = parse_node_config(
      "node:\n  http: {port: 0}\n  log_level: OFF\n"
      "services:\n  s: {builtin: b, service_type: TEXT2QUERY, restart: {max_restarts: 0}}\n",
      "t.yaml");
  CHECK(c.node.http.port == 0);
  CHECK(c.node.log == log_level::off);
  CHECK(c.services[0].service_type == 27);
  CHECK(c.services[0].restart.max_restarts == 0);
  CHECK(c.services[0].restart.period == std::chrono::seconds{10});
}

TEST_CASE("enum names round-trip", "[config]") {
  CHECK(to_string(log_level::warn) == "warn");
  CHECK(to_string(scheduler_policy::stealing) == "stealing");
  CHECK(to_string(scheduler_policy::sharing) == "sharing");
  CHECK(to_string(scheduler_policy::spinning) == "spinning");
  CHECK(to_string(service_kind::http) == "http");
}

// --- OPEA's ServiceOrchestratorWithYaml format ------------------------------------

TEST_CASE("OPEA format: GenAIComps tests/cores/mega/megaservice.yaml unchanged", "[config]") {
  // data/opea_megaservice.yaml is a verbatim copy of that GenAIComps test file.
  auto c = load_node_config(data_file("opea_megaservice.yaml"));
  CHECK(c.source_format == "opea");
  CHECK(c.node.name == "opea-node");
  CHECK(c.node.http.host == "0.0.0.0");
  CHECK(c.node.http.port == 8888);
  REQUIRE(c.services.size() == 2);
  CHECK(c.services[0].name == "s1");
  CHECK(c.services[0].kind == service_kind::http);
  CHECK(c.services[0].url == "http://localhost:8081/v1/add");
  CHECK(c.services[0].endpoint.host == "localhost");
  CHECK(c.services[0].endpoint.port == 8081);
  CHECK(c.services[0].endpoint.target == "/v1/add");
  CHECK(c.services[0].timeout_ms == 30000);
  CHECK(c.services[0].service_type == 10);
  CHECK(c.services[1].url == "http://localhost:8082/v1/add");
  REQUIRE(c.megaservices.size() == 1);
  const auto& m = c.megaservices[0];
  CHECK(m.name == "megaservice");
  CHECK(m.route == "/v1/megaservice");
  CHECK(m.methods == names{"POST"});
  CHECK(m.deadline_ms == 30000);
  CHECK(m.nodes == names{"s1", "s2"});
  CHECK(m.edges == edges{{"s1", "s2"}});
}

TEST_CASE("OPEA format: GenAIComps comps/cores/mega/mega_service.yaml unchanged", "[config]") {
  auto c = load_node_config(data_file("opea_mega_service.yaml"));
  CHECK(c.source_format == "opea");
  CHECK(c.node.http.port == 8000);
  CHECK(c.services.size() == 5);
  const auto& m = c.megaservices[0];
  CHECK(m.nodes == names{"s1", "s5", "s2", "s3", "s4"});
  CHECK(m.edges == edges{{"s1", "s2"}, {"s5", "s2"}, {"s2", "s3"}, {"s2", "s4"}, {"s3", "s4"}});
}

TEST_CASE("OPEA format: host, port and endpoint of the megaservice", "[config]") {
  auto c = parse_node_config(
      "opea_micro_services:\n  a: {endpoint: 'http://h:1/x'}\n"
      "opea_mega_service:\n  host: 127.0.0.1\n  port: 0\n  endpoint: /v1/chatqna\n"
      "  mega_flow: [a]\n",
      "t.yaml");
  CHECK(c.node.http.host == "127.0.0.1");
  CHECK(c.node.http.port == 0);
  CHECK(c.megaservices[0].route == "/v1/chatqna");
  CHECK(c.megaservices[0].nodes == names{"a"});
}

TEST_CASE("OPEA format: without mega_flow every microservice is a node, no edges", "[config]") {
  // As OPEA's _construct_dag_from_nodes.
  auto c = parse_node_config(
      "opea_micro_services:\n  b: {endpoint: 'http://h:1/x'}\n  a: {endpoint: 'http://h:2/y'}\n"
      "opea_mega_service: {}\n",
      "t.yaml");
  CHECK(c.megaservices[0].nodes == names{"b", "a"});
  CHECK(c.megaservices[0].edges.empty());
}

TEST_CASE("OPEA format: mega_flow may leave microservices out of the graph", "[config]") {
  auto c = parse_node_config(
      "opea_micro_services:\n  a: {endpoint: 'http://h:1/x'}\n  b: {endpoint: 'http://h:2/y'}\n"
      "  c: {endpoint: 'http://h:3/z'}\n"
      "opea_mega_service:\n  mega_flow: ['c >> a']\n",
      "t.yaml");
  CHECK(c.services.size() == 3);
  CHECK(c.megaservices[0].nodes == names{"c", "a"});
}

TEST_CASE("OPEA format: host and port given apart from an endpoint path", "[config]") {
  auto c = parse_node_config(
      "opea_micro_services:\n  a: {host: 10.0.0.2, port: 8081, endpoint: /v1/add}\n"
      "  b: {port: 8082, endpoint: /v1/add}\n"
      "opea_mega_service: {mega_flow: ['a >> b']}\n",
      "t.yaml");
  CHECK(c.services[0].url == "http://10.0.0.2:8081/v1/add");
  CHECK(c.services[0].endpoint.port == 8081);
  CHECK(c.services[1].url == "http://localhost:8082/v1/add");
}

// --- overrides and files ---------------------------------------------------------

TEST_CASE("apply_overrides: command-line flags win over the file", "[config]") {
  auto c = load_node_config(data_file("full.yaml"));
  apply_overrides(c, std::nullopt, std::nullopt);
  CHECK(c.node.http.port == 9000);
  CHECK(c.node.data_dir == "/var/lib/opea");
  apply_overrides(c, std::uint16_t{0}, std::string("/tmp/d"));
  CHECK(c.node.http.port == 0);
  CHECK(c.node.data_dir == "/tmp/d");
  REQUIRE_THROWS_WITH(apply_overrides(c, std::nullopt, std::string()),
                      "--data-dir: must not be empty");
}

TEST_CASE("load_node_config: missing file and directory", "[config]") {
  REQUIRE_THROWS_WITH(load_node_config("/nonexistent/cluster.yaml"),
                      "/nonexistent/cluster.yaml: cannot read config file: No such file or "
                      "directory");
  std::string dir = data_file("");
  REQUIRE_THROWS_WITH(load_node_config(dir), dir + ": cannot read config file: is a directory");
}

TEST_CASE("load_node_config: errors name the file as given", "[config]") {
  std::string path =
      (std::filesystem::temp_directory_path() / "opea_node_config_test_bad.yaml").string();
  {
    std::ofstream out(path);
    out << "node:\n  http:\n    port: abc\n";
  }
  std::string message;
  try {
    (void)load_node_config(path);
  } catch (const config_error& e) {
    message = e.what();
  }
  std::remove(path.c_str());
  CHECK(message == path + ": node.http.port: expected an integer 0..65535, got \"abc\"");
}

// --- errors -----------------------------------------------------------------------------

TEST_CASE("errors: YAML syntax and document shape", "[config]") {
  check_errors({
      {"node:\n  name: [a, b\n", "t.yaml:3:1: YAML syntax error: end of sequence flow not found"},
      {"",
       "t.yaml: the file is empty (expected the keys node, services, megaservices, or OPEA's "
       "opea_micro_services, opea_mega_service)"},
      {"# only a comment\n",
       "t.yaml: the file is empty (expected the keys node, services, megaservices, or OPEA's "
       "opea_micro_services, opea_mega_service)"},
      {"- a\n", "t.yaml: expected a map at the top level, got a list"},
      {"hello", "t.yaml: expected a map at the top level, got \"hello\""},
      {"services: {}\nopea_mega_service: {}\n",
       "t.yaml: opea_mega_service: cannot mix OPEA's format (opea_micro_services, "
       "opea_mega_service) with opea-cpp's (node, services, megaservices; found \"services\")"},
  });
}

TEST_CASE("errors: unknown and duplicate keys", "[config]") {
  check_errors({
      {"servics: {}\n",
       "t.yaml: servics: unknown key (did you mean \"services\"? valid keys: node, services, "
       "megaservices, dataprep, cluster)"},
      {"node:\n  http: {prot: 1}\n",
       "t.yaml: node.http.prot: unknown key (did you mean \"port\"? valid keys: host, port, "
       "io_threads, io_workers, max_body_bytes)"},
      {"node: {colour: red}\n",
       "t.yaml: node.colour: unknown key (valid keys: name, data_dir, http, scheduler, "
       "log_level, log, supervision, tracing)"},
      {"node: {scheduler: {threads: 2}}\n",
       "t.yaml: node.scheduler.threads: unknown key (valid keys: max_threads, policy)"},
      {"services:\n  s1: {builtin: a, tiemout_ms: 5}\n",
       "t.yaml: services.s1.tiemout_ms: unknown key (did you mean \"timeout_ms\"? valid keys: "
       "kind, builtin, params, service_type, restart, url, timeout_ms, run_on, idempotent, "
       "circuit_breaker, bulkhead, retry)"},
      {"services:\n  s1: {builtin: a, restart: {max: 1}}\n",
       "t.yaml: services.s1.restart.max: unknown key (valid keys: type, max_restarts, "
       "within_seconds)"},
      {with_mega("{name: m, route: /m, nodes: [s1], flow: ['s1 >> s2']}"),
       "t.yaml: megaservices[0].flow: unknown key (did you mean \"flows\"? valid keys: name, "
       "route, methods, deadline_ms, flows, nodes, api, openai_route, serve_on, supervision)"},
      {"node: {name: a}\nnode: {name: b}\n", "t.yaml: node: duplicate key"},
      {"services:\n  s1: {builtin: a}\n  s1: {builtin: b}\n", "t.yaml: services.s1: duplicate key"},
      {"services:\n  s1: {builtin: a, params: {k: 1, k: 2}}\n",
       "t.yaml: services.s1.params.k: duplicate key"},
      {"node: {[a]: 1}\n", "t.yaml: node: map keys must be plain names, got a list"},
  });
}

TEST_CASE("errors: wrong types and out-of-range values", "[config]") {
  check_errors({
      {"node:\n  http:\n    port: abc\n",
       "t.yaml: node.http.port: expected an integer 0..65535, got \"abc\""},
      {"node: {http: {port: 65536}}\n",
       "t.yaml: node.http.port: expected an integer 0..65535, got \"65536\""},
      {"node: {http: {port: -1}}\n",
       "t.yaml: node.http.port: expected an integer 0..65535, got \"-1\""},
      {"node: {http: {port: 80.5}}\n",
       "t.yaml: node.http.port: expected an integer 0..65535, got \"80.5\""},
      {"node: {http: {port: [1]}}\n",
       "t.yaml: node.http.port: expected an integer 0..65535, got a list"},
      {"node: {http: {io_threads: -1}}\n",
       "t.yaml: node.http.io_threads: expected an integer 0..1024, got \"-1\""},
      {"node: {http: {io_workers: 0}}\n",
       "t.yaml: node.http.io_workers: expected an integer 1..1024, got \"0\""},
      {"node: {http: {max_body_bytes: 0}}\n",
       "t.yaml: node.http.max_body_bytes: expected an integer >= 1, got \"0\""},
      {"node: {http: {max_body_bytes: 99999999999999999999}}\n",
       "t.yaml: node.http.max_body_bytes: expected an integer >= 1, got "
       "\"99999999999999999999\""},
      {"node: {scheduler: {max_threads: 0}}\n",
       "t.yaml: node.scheduler.max_threads: expected an integer 1..1024, got \"0\""},
      {"node: {scheduler: {policy: fifo}}\n",
       "t.yaml: node.scheduler.policy: expected one of sharing, stealing, spinning, got \"fifo\""},
      {"node: {log_level: verbose}\n",
       "t.yaml: node.log_level: expected one of trace, debug, info, warn, error, off, got "
       "\"verbose\""},
      {"node: {log: {format: xml}}\n",
       "t.yaml: node.log.format: expected one of text, json, got \"xml\""},
      {"node: {log: json}\n", "t.yaml: node.log: expected a map, got \"json\""},
      {"node: {name: ''}\n", "t.yaml: node.name: expected a non-empty string, got \"\""},
      {"node: {name: 'my node'}\n",
       "t.yaml: node.name: \"my node\" is not a valid name (use letters, digits, '_', '-', '.')"},
      {"node:\n  data_dir:\n", "t.yaml: node.data_dir: expected a non-empty string, got null"},
      {"node: [a]\n", "t.yaml: node: expected a map, got a list"},
      {"node:\n", "t.yaml: node: expected a map, got null"},
      {"node: {http: 8080}\n", "t.yaml: node.http: expected a map, got \"8080\""},
      {"services: [s1]\n", "t.yaml: services: expected a map, got a list"},
      {"megaservices: {a: 1}\n", "t.yaml: megaservices: expected a list, got a map"},
  });
}

TEST_CASE("errors: services", "[config]") {
  check_errors({
      {"services:\n  s1: {kind: builtin}\n",
       "t.yaml: services.s1: kind builtin needs a \"builtin\" key naming the in-process "
       "built-in"},
      {"services:\n  s1: {}\n",
       "t.yaml: services.s1: kind builtin needs a \"builtin\" key naming the in-process "
       "built-in"},
      {"services:\n  s2: {kind: http}\n",
       "t.yaml: services.s2: kind http needs a \"url\" key (http://host:port/path)"},
      {"services:\n  s2: {kind: grpc}\n",
       "t.yaml: services.s2.kind: expected one of builtin, http, got \"grpc\""},
      {"services:\n  s2:\n    url: htp://x\n",
       "t.yaml: services.s2.url: \"htp://x\" is not an http URL (expected "
       "http://host:port/path)"},
      {"services:\n  s2: {url: 'https://x:1/a'}\n",
       "t.yaml: services.s2.url: \"https://x:1/a\" is not an http URL; https is not supported "
       "for services (expected http://host:port/path)"},
      {"services:\n  s2: {kind: http, url: 'http://h:1/a', builtin: x}\n",
       "t.yaml: services.s2.builtin: only valid for kind builtin (this service is kind http)"},
      {"services:\n  s2: {url: 'http://h:1/a', params: {a: 1}}\n",
       "t.yaml: services.s2.params: only valid for kind builtin (this service is kind http)"},
      {"services:\n  s1: {kind: builtin, builtin: a, url: 'http://h:1/a'}\n",
       "t.yaml: services.s1.url: only valid for kind http (this service is kind builtin)"},
      {"services:\n  s1: {builtin: a, timeout_ms: 5}\n",
       "t.yaml: services.s1.timeout_ms: only valid for kind http (this service is kind "
       "builtin)"},
      {"services:\n  s2: {url: 'http://h:1/a', timeout_ms: 0}\n",
       "t.yaml: services.s2.timeout_ms: expected an integer 1..4294967295, got \"0\""},
      {"services:\n  s1: {builtin: a, params: [1]}\n",
       "t.yaml: services.s1.params: expected a map, got a list"},
      {"services:\n  s1: {builtin: a, service_type: chatbot}\n",
       "t.yaml: services.s1.service_type: expected an OPEA service type name (gateway, "
       "embedding, retriever, rerank, llm, ..., undefined, ...) or its value 0..27, got "
       "\"chatbot\""},
      {"services:\n  s1: {builtin: a, service_type: 28}\n",
       "t.yaml: services.s1.service_type: expected an integer 0..27, got \"28\""},
      {"services:\n  s1: {builtin: a, restart: {within_seconds: 0}}\n",
       "t.yaml: services.s1.restart.within_seconds: expected an integer 1..1000000, got \"0\""},
      {"services:\n  s1: {builtin: a, circuit_breaker: 3}\n",
       "t.yaml: services.s1.circuit_breaker: expected a map {failures, open_ms} or "
       "{sliding_window_type, sliding_window_size, minimum_calls, failure_rate_threshold, "
       "slow_call_rate_threshold, slow_call_duration_ms, wait_in_open_ms, "
       "wait_in_open_multiplier, max_wait_in_open_ms, permitted_calls_in_half_open}, got \"3\""},
      {"services:\n  s1: {builtin: a, circuit_breaker: {open_ms: 10}}\n",
       "t.yaml: services.s1.circuit_breaker: needs \"failures\": consecutive failed calls "
       "that open the circuit"},
      {"services:\n  s1: {builtin: a, circuit_breaker: {failures: 0}}\n",
       "t.yaml: services.s1.circuit_breaker.failures: expected an integer 1..1000000, got "
       "\"0\""},
      {"services:\n  s1: {builtin: a, circuit_breaker: {failures: 2, open_ms: -1}}\n",
       "t.yaml: services.s1.circuit_breaker.open_ms: expected an integer 1..86400000, got "
       "\"-1\""},
      {"services:\n  s1: {builtin: a, circuit_breaker: {failures: 2, half: 1}}\n",
       "t.yaml: services.s1.circuit_breaker.half: unknown key (valid keys: failures, open_ms)"},
      {"services:\n  s1: {builtin: a, bulkhead: {max_in_flight: 0}}\n",
       "t.yaml: services.s1.bulkhead.max_in_flight: expected an integer 1..1000000, got \"0\""},
      {"services:\n  s1: {builtin: a, bulkhead: {max_queue: 4}}\n",
       "t.yaml: services.s1.bulkhead: needs \"max_in_flight\": calls to the service in flight "
       "at once"},
      {"services:\n  s1: {builtin: a, bulkhead: {max_in_flight: 2, max_queue: -1}}\n",
       "t.yaml: services.s1.bulkhead.max_queue: expected an integer 0..1000000, got \"-1\""},
      {"services:\n  s1: {builtin: a, retry: {attempts: 3}}\n",
       "t.yaml: services.s1.retry: a retry repeats calls, so it needs an idempotent service "
       "(set idempotent: true if calls to 's1' may be repeated)"},
      {"services:\n  s1: {builtin: embedding, retry: {attempts: 0}}\n",
       "t.yaml: services.s1.retry.attempts: expected an integer 1..100, got \"0\""},
      {"services:\n  s1: {builtin: embedding, retry: {backoff_ms: 5}}\n",
       "t.yaml: services.s1.retry: needs \"attempts\": calls in all, the first one included"},
      {"services:\n  s1: {builtin: embedding, retry: {attempts: 2, backoff_ms: 0}}\n",
       "t.yaml: services.s1.retry.backoff_ms: expected an integer 1..60000, got \"0\""},
      {"services:\n  s1: {builtin: embedding, retry: {attempts: 2}}\n", "<no error>"},
      {"services:\n  s1: {builtin: a, bulkhead: 8}\n",
       "t.yaml: services.s1.bulkhead: expected a map {max_in_flight, max_queue, max_wait_ms}, "
       "got \"8\""},
      {"services:\n  s1: {builtin: a, restart: {max_restarts: -1}}\n",
       "t.yaml: services.s1.restart.max_restarts: expected an integer 0..1000000, got \"-1\""},
      {"services:\n  'a b': {builtin: a}\n",
       "t.yaml: services.a b: invalid service name (use letters, digits, '_', '-', '.')"},
      {"services:\n  s1:\n", "t.yaml: services.s1: expected a map, got null"},
  });
}

TEST_CASE("errors: megaservices", "[config]") {
  check_errors({
      {with_mega("{route: /m, nodes: [s1]}"),
       "t.yaml: megaservices[0]: missing required key \"name\""},
      {with_mega("{name: m, nodes: [s1]}"),
       "t.yaml: megaservices[0]: missing required key \"route\""},
      {with_mega("{name: m, route: v1/m, nodes: [s1]}"),
       "t.yaml: megaservices[0].route: \"v1/m\" must start with '/'"},
      {with_mega("{name: m, route: '/m?x=1', nodes: [s1]}"),
       "t.yaml: megaservices[0].route: \"/m?x=1\" must be a plain path (no spaces, '?' or '#')"},
      {with_mega("{name: m, route: /m}"),
       "t.yaml: megaservices[0]: needs \"flows\" (e.g. [\"s1 >> s2\"]) or \"nodes\" (e.g. "
       "[s1])"},
      {with_mega("{name: m, route: /m, flows: []}"),
       "t.yaml: megaservices[0].flows: expected a non-empty list of flows like \"s1 >> s2\", "
       "got a list"},
      {with_mega("{name: m, route: /m, flows: 's1 >> s2'}"),
       "t.yaml: megaservices[0].flows: expected a non-empty list of flows like \"s1 >> s2\", "
       "got \"s1 >> s2\""},
      {with_mega("{name: m, route: /m, flows: [[s1, s2]]}"),
       "t.yaml: megaservices[0].flows[0]: expected a flow like \"s1 >> s2\", got a list"},
      {with_mega("{name: m, route: /m, flows: ['s1 >> s2', '(s1, >> s2']}"),
       "t.yaml: megaservices[0].flows[1] \"(s1, >> s2\": expected a service name at column 6"},
      {with_mega("{name: m, route: /m, flows: ['s1 >> s1']}"),
       "t.yaml: megaservices[0].flows[0] \"s1 >> s1\": self-loop \"s1\" >> \"s1\" at column 7"},
      {with_mega("{name: m, route: /m, flows: ['s1 >> s9']}"),
       "t.yaml: megaservices[0].flows[0] \"s1 >> s9\": unknown service \"s9\" (declared "
       "services: s1, s2)"},
      {"megaservices:\n  - {name: m, route: /m, flows: ['a >> b']}\n",
       "t.yaml: megaservices[0].flows[0] \"a >> b\": unknown service \"a\" (no services are "
       "declared)"},
      {with_mega("{name: m, route: /m, nodes: []}"),
       "t.yaml: megaservices[0].nodes: expected a non-empty list of service names, got a list"},
      {with_mega("{name: m, route: /m, nodes: [s1, s3]}"),
       "t.yaml: megaservices[0].nodes[1]: unknown service \"s3\" (declared services: s1, s2)"},
      {with_mega("{name: m, route: /m, nodes: [s1, s1]}"),
       "t.yaml: megaservices[0].nodes[1]: duplicate service \"s1\""},
      {with_mega("{name: m, route: /m, flows: ['s1 >> s2'], nodes: [s1]}"),
       "t.yaml: megaservices[0].nodes: service \"s2\" appears in flows but is not listed"},
      {with_mega("{name: m, route: /m, nodes: [s1], methods: []}"),
       "t.yaml: megaservices[0].methods: expected a non-empty list of HTTP methods, got a list"},
      {with_mega("{name: m, route: /m, nodes: [s1], methods: [POST, FETCH]}"),
       "t.yaml: megaservices[0].methods[1]: expected one of GET, POST, PUT, PATCH, DELETE, got "
       "\"FETCH\""},
      {with_mega("{name: m, route: /m, nodes: [s1], methods: [post, POST]}"),
       "t.yaml: megaservices[0].methods[1]: duplicate method \"POST\""},
      {with_mega("{name: m, route: /m, nodes: [s1], deadline_ms: soon}"),
       "t.yaml: megaservices[0].deadline_ms: expected an integer 1..4294967295, got \"soon\""},
      {two_services + "megaservices:\n  - {name: m, route: /a, nodes: [s1]}\n"
                      "  - {name: m, route: /b, nodes: [s2]}\n",
       "t.yaml: megaservices[1].name: duplicate megaservice name \"m\" (also megaservices[0])"},
      {two_services + "megaservices:\n  - {name: a, route: /m, nodes: [s1]}\n"
                      "  - {name: b, route: /m, nodes: [s2]}\n",
       "t.yaml: megaservices[1].route: duplicate route \"/m\" (also megaservices[0])"},
      {"megaservices:\n  - [a]\n", "t.yaml: megaservices[0]: expected a map, got a list"},
  });
}

TEST_CASE("errors: OPEA format", "[config]") {
  const std::string micro =
      "opea_micro_services:\n  s1: {endpoint: 'http://localhost:8081/v1/add'}\n";
  check_errors({
      {"opea_mega_service: {mega_flow: [s1]}\n",
       "t.yaml: missing required key \"opea_micro_services\""},
      {micro, "t.yaml: missing required key \"opea_mega_service\""},
      {"opea_micro_services: {}\nopea_mega_service: {}\n",
       "t.yaml: opea_micro_services: expected at least one microservice"},
      {micro + "opea_mega_service:\n", "t.yaml: opea_mega_service: expected a map, got null"},
      {micro + "opea_mega_service: {mega_flows: [s1]}\n",
       "t.yaml: opea_mega_service.mega_flows: unknown key (did you mean \"mega_flow\"? valid "
       "keys: host, port, endpoint, mega_flow)"},
      {micro + "opea_mega_service: {mega_flow: ['s1 >> s2']}\n",
       "t.yaml: opea_mega_service.mega_flow[0] \"s1 >> s2\": unknown service \"s2\" (declared "
       "services: s1)"},
      {micro + "opea_mega_service: {mega_flow: ['s1 >']}\n",
       "t.yaml: opea_mega_service.mega_flow[0] \"s1 >\": expected '>>' at column 4"},
      {micro + "opea_mega_service: {port: http}\n",
       "t.yaml: opea_mega_service.port: expected an integer 0..65535, got \"http\""},
      {micro + "opea_mega_service: {endpoint: v1/x}\n",
       "t.yaml: opea_mega_service.endpoint: \"v1/x\" must be a plain path starting with '/'"},
      {"opea_micro_services:\n  s1: {url: 'http://h:1/a'}\nopea_mega_service: {}\n",
       "t.yaml: opea_micro_services.s1.url: unknown key (valid keys: endpoint, host, port)"},
      {"opea_micro_services:\n  s1: {}\nopea_mega_service: {}\n",
       "t.yaml: opea_micro_services.s1: missing required key \"endpoint\" "
       "(http://host:port/path)"},
      {"opea_micro_services:\n  s1: {endpoint: 'localhost:8081'}\n"
       "opea_mega_service: {}\n",
       "t.yaml: opea_micro_services.s1.endpoint: \"localhost:8081\" is not an http URL "
       "(expected http://host:port/path)"},
      {"opea_micro_services:\n  s1: {endpoint: 'http://h:1/a', port: 2}\n"
       "opea_mega_service: {}\n",
       "t.yaml: opea_micro_services.s1.port: not allowed when endpoint is a full URL (give "
       "endpoint as a path like \"/v1/add\")"},
      {"opea_micro_services:\n  s1: {endpoint: /v1/add, host: h}\n"
       "opea_mega_service: {}\n",
       "t.yaml: opea_micro_services.s1: missing required key \"port\" (endpoint is a path)"},
      {"opea_micro_services:\n  s1: {endpoint: /v1/add, port: 0}\n"
       "opea_mega_service: {}\n",
       "t.yaml: opea_micro_services.s1.port: expected an integer 1..65535, got \"0\""},
      // mega.yaml-style deployment manifests (image specs, not endpoints) are a different file.
      {"opea_micro_services:\n  embedding:\n    opea/embedding-tei: {tag: latest}\n"
       "opea_mega_service: {}\n",
       "t.yaml: opea_micro_services.embedding.opea/embedding-tei: unknown key (valid keys: "
       "endpoint, host, port)"},
  });
}

TEST_CASE("megaservice api: chatqna gets an OpenAI route by default", "[config]") {
  auto c = parse_node_config(
      "services:\n  e: {builtin: echo}\nmegaservices:\n"
      "  - {name: q, route: /v1/chatqna, api: chatqna, flows: [e]}\n"
      "  - {name: r, route: /v1/r, api: ChatQnA, openai_route: '', flows: [e]}\n"
      "  - {name: j, route: /v1/j, flows: [e]}\n",
      "t.yaml");
  CHECK(c.megaservices[0].api == "chatqna");
  CHECK(c.megaservices[0].openai_route == "/v1/chat/completions");
  CHECK(c.megaservices[1].openai_route.empty());
  CHECK(c.megaservices[1].api == "chatqna");
  CHECK(c.megaservices[2].api == "json");
  CHECK(c.megaservices[2].openai_route.empty());
  CHECK_THROWS_WITH(parse_node_config("services:\n  e: {builtin: echo}\nmegaservices:\n"
                                      "  - {name: j, route: /j, openai_route: /x, flows: [e]}\n",
                                      "t.yaml"),
                    "t.yaml: megaservices[0].openai_route: only applies to megaservices with api: "
                    "chatqna");
}

TEST_CASE("supervision: node root, megaservice and service restart types", "[config]") {
  using opea::runtime::restart_type;
  using opea::runtime::supervision_strategy;
  auto c = parse_node_config(
      "node: {supervision: {intensity: 5, period_ms: 30000}}\n"
      "services:\n"
      "  a: {builtin: append, restart: transient}\n"
      "  b: {builtin: append, restart: {type: temporary, max_restarts: 2, within_seconds: 3}}\n"
      "  c: {builtin: append}\n"
      "megaservices:\n"
      "  - {name: m, route: /m, flows: ['a >> b >> c'],\n"
      "     supervision: {strategy: rest_for_one, intensity: 4, period_ms: 2000,\n"
      "                   backoff_min_ms: 10, backoff_random_factor: 0.5}}\n"
      "  - {name: n, route: /n, nodes: [c]}\n",
      "t.yaml");
  CHECK(c.node.supervision.strategy == supervision_strategy::one_for_one);
  CHECK(c.node.supervision.intensity == 5);
  CHECK(c.node.supervision.period == std::chrono::milliseconds{30000});
  CHECK(c.services[0].restart_mode == restart_type::transient);
  CHECK(c.services[0].restart.max_restarts == 5);
  CHECK(c.services[1].restart_mode == restart_type::temporary);
  CHECK(c.services[1].restart.max_restarts == 2);
  CHECK(c.services[1].restart.period == std::chrono::seconds{3});
  CHECK(c.services[2].restart_mode == restart_type::permanent);
  const auto& m = c.megaservices[0].supervision;
  CHECK(m.strategy == supervision_strategy::rest_for_one);
  CHECK(m.intensity == 4);
  CHECK(m.period == std::chrono::milliseconds{2000});
  CHECK(m.backoff_min == std::chrono::milliseconds{10});
  CHECK(m.backoff_max == std::chrono::milliseconds{100});  // 10 x backoff_min by default
  CHECK(m.backoff_random_factor == 0.5);
  // Defaults: the megaservice's 10 in 10 s, the root's 3 in 60 s.
  const auto& n = c.megaservices[1].supervision;
  CHECK(n.strategy == supervision_strategy::one_for_one);
  CHECK(n.intensity == 10);
  CHECK(n.period == std::chrono::milliseconds{10000});
  CHECK(n.backoff_min == std::chrono::milliseconds{0});
  auto d = parse_node_config("services: {a: {builtin: append}}\n", "t.yaml");
  CHECK(d.node.supervision.intensity == 3);
  CHECK(d.node.supervision.period == std::chrono::milliseconds{60000});
  opea::runtime::micro_service applied;
  c.services[1].set_policies(applied);
  CHECK(applied.restart_mode == restart_type::temporary);
  CHECK(applied.restart.max_restarts == 2);
  CHECK(applied.restart.period == std::chrono::seconds{3});
}

TEST_CASE("errors: supervision", "[config]") {
  auto mega = [](const std::string& sup) {
    return "services: {a: {builtin: append}}\nmegaservices:\n  - {name: m, route: /m, nodes: [a], "
           "supervision: " +
           sup + "}\n";
  };
  check_errors({
      {mega("{strategy: one_for_two}"),
       "t.yaml: megaservices[0].supervision.strategy: expected one of one_for_one, one_for_all, "
       "rest_for_one, got \"one_for_two\""},
      {mega("{intensity: -1}"),
       "t.yaml: megaservices[0].supervision.intensity: expected an integer 0..1000000, got "
       "\"-1\""},
      {mega("{period_ms: 0}"),
       "t.yaml: megaservices[0].supervision.period_ms: expected an integer 1..86400000, got "
       "\"0\""},
      {mega("{backoff_random_factor: 2}"),
       "t.yaml: megaservices[0].supervision.backoff_random_factor: expected a number 0..1, got "
       "\"2\""},
      {mega("{restarts: 3}"),
       "t.yaml: megaservices[0].supervision.restarts: unknown key (valid keys: strategy, "
       "intensity, period_ms, backoff_min_ms, backoff_max_ms, backoff_random_factor)"},
      {mega("one_for_all"),
       "t.yaml: megaservices[0].supervision: expected a map {strategy, intensity, period_ms, "
       "backoff_min_ms, backoff_max_ms, backoff_random_factor}, got \"one_for_all\""},
      {"node: {supervision: {strategy: all}}\n",
       "t.yaml: node.supervision.strategy: expected one of one_for_one, one_for_all, "
       "rest_for_one, got \"all\""},
      {"services:\n  s1: {builtin: a, restart: forever}\n",
       "t.yaml: services.s1.restart: expected one of permanent, transient, temporary, got "
       "\"forever\""},
      {"services:\n  s1: {builtin: a, restart: {type: always}}\n",
       "t.yaml: services.s1.restart.type: expected one of permanent, transient, temporary, got "
       "\"always\""},
      {"services:\n  s1: {builtin: a, restart: [permanent]}\n",
       "t.yaml: services.s1.restart: expected permanent, transient, temporary or a map {type, "
       "max_restarts, within_seconds}, got a list"},
  });
  // The runtime words this one (supervisor_flags::validated); the key is the config's.
  CHECK(error_of(mega("{backoff_min_ms: 100, backoff_max_ms: 50}"))
            .rfind("t.yaml: megaservices[0].supervision.backoff_max_ms: ", 0) == 0);
}

TEST_CASE("node.tracing: keys stand for OTEL_* variables; bad values name the key", "[config]") {
  auto c = parse_node_config(
      "node:\n"
      "  tracing: {endpoint: \"http://collector:4318\", sampler: traceidratio, sampler_arg: 0.25,\n"
      "            service_name: gw, schedule_delay: 200, disabled: false}\n",
      "t.yaml");
  CHECK(c.node.tracing ==
        std::map<std::string, std::string>{{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
                                           {"OTEL_TRACES_SAMPLER", "traceidratio"},
                                           {"OTEL_TRACES_SAMPLER_ARG", "0.25"},
                                           {"OTEL_SERVICE_NAME", "gw"},
                                           {"OTEL_BSP_SCHEDULE_DELAY", "200"},
                                           {"OTEL_SDK_DISABLED", "false"}});
  CHECK(parse_node_config("node: {name: a}", "t.yaml").node.tracing.empty());
  CHECK(error_of("node: {tracing: {sampler: sometimes}}") ==
        "t.yaml: node.tracing.sampler: OTEL_TRACES_SAMPLER=\"sometimes\": unknown or unsupported "
        "sampler (expected always_on, always_off, traceidratio, parentbased_always_on, "
        "parentbased_always_off or parentbased_traceidratio)");
  CHECK(error_of("node: {tracing: {protocol: grpc}}").rfind("t.yaml: node.tracing.protocol: ", 0) ==
        0);
  CHECK(error_of("node: {tracing: {endpoint: [a]}}") ==
        "t.yaml: node.tracing.endpoint: expected a string, a number or a boolean, got a list");
  CHECK(error_of("node: {tracing: {endpont: x}}")
            .rfind("t.yaml: node.tracing.endpont: unknown key (did you mean \"endpoint\"?", 0) ==
        0);
}
