#include "nodes/config/node_config.hpp"

#include <catch2/catch.hpp>

#include "tests/nodes/config/config_test_support.hpp"

#include <filesystem>
#include <string>

using namespace opea::nodes;
using opea::nodes::test::check_errors;
using opea::nodes::test::data_file;

namespace {

// A valid cluster section with members n1, n2, n3.
const std::string three_members =
    "cluster:\n"
    "  nodes:\n"
    "    n1: {host: h1, port: 7001}\n"
    "    n2: {host: h2, port: 7001}\n"
    "    n3: {host: h3, port: 7001}\n";

// A cluster section whose body (indented by two spaces) is `body`.
std::string cluster_with(const std::string& body) {
  return "cluster:\n  nodes: {n1: {host: h1, port: 7001}}\n" + body;
}

// Service s1 (builtin echo) with the extra keys `keys`, e.g. "run_on: [n1]".
std::string service_with(const std::string& keys) {
  return "services:\n  s1: {builtin: echo, " + keys + "}\n";
}

// Megaservice m on s1 with the extra keys `keys`, e.g. "serve_on: [n1]".
std::string megaservice_with(const std::string& keys) {
  return "services:\n  s1: {builtin: echo}\nmegaservices:\n  - {name: m, route: /m, nodes: [s1], " +
         keys + "}\n";
}

service_config service(const std::string& builtin, int type = 10) {
  service_config s;
  s.name = "s";
  s.builtin = builtin;
  s.service_type = type;
  return s;
}

using names = std::vector<std::string>;

}  // namespace

// --- valid files ----------------------------------------------------------------------

TEST_CASE("cluster: every key set", "[config][cluster]") {
  auto c = load_node_config(data_file("cluster.yaml"));
  const auto& k = c.cluster;
  CHECK(k.enabled);
  CHECK(k.name == "chatqna-prod");
  REQUIRE(k.members.size() == 3);
  CHECK(k.members[0].name == "n1");  // file order is kept
  CHECK(k.members[0].host == "10.0.0.1");
  CHECK(k.members[0].port == 7001);
  CHECK_FALSE(k.members[0].http_port);
  CHECK_FALSE(k.members[0].data_dir);
  CHECK(k.members[1].name == "n2");
  CHECK(k.members[1].http_port == std::uint16_t{0});
  CHECK(k.members[1].data_dir == std::string("/data/n2"));
  CHECK(k.members[2].name == "n3");
  CHECK(k.members[2].host == "10.0.0.2");  // same host, another port
  CHECK(k.members[2].port == 7002);
  CHECK(k.members[2].http_port == std::uint16_t{8890});
  CHECK(k.self.empty());
  CHECK(k.failure_timeout_ms == 3000);
  CHECK(k.heartbeat_ms == 300);
  CHECK(k.reconnect_ms == 100);
  CHECK(k.balance == balance_policy::least_outstanding);

  // Relative TLS paths are relative to the file's directory; "{node}" is kept.
  auto dir = std::filesystem::path(data_file("cluster.yaml")).parent_path();
  CHECK(k.tls.enabled);
  CHECK(k.tls.ca == (dir / "certs/ca.pem").lexically_normal().string());
  CHECK(k.tls.certificate == (dir / "certs/{node}.pem").lexically_normal().string());
  CHECK(k.tls.key == "/etc/opea/{node}.key");

  CHECK(k.find("n2") == &k.members[1]);
  CHECK(k.find("n9") == nullptr);

  REQUIRE(c.services.size() == 5);
  CHECK(c.find_service("embedding")->run_on == names{"n2", "n3"});
  CHECK(c.find_service("retriever")->run_on == names{"n1"});
  CHECK(c.find_service("rerank")->run_on == names{"n3", "n2"});  // order as written
  CHECK(c.find_service("rerank")->idempotent == false);
  CHECK(c.find_service("llm")->run_on == names{"n2", "n3"});
  CHECK_FALSE(c.find_service("llm")->idempotent);
  CHECK(c.find_service("echo")->run_on.empty());
  CHECK(c.find_service("echo")->idempotent == true);

  REQUIRE(c.megaservices.size() == 2);
  CHECK(c.megaservices[0].serve_on == names{"n1"});
  CHECK(c.megaservices[1].serve_on.empty());
}

TEST_CASE("cluster: defaults", "[config][cluster]") {
  auto c = parse_node_config(three_members +
                                 "services:\n  s1: {builtin: echo}\n"
                                 "megaservices:\n  - {name: m, route: /m, nodes: [s1]}\n",
                             "t.yaml");
  const auto& k = c.cluster;
  CHECK(k.enabled);
  CHECK(k.name == "opea");
  CHECK(k.members.size() == 3);
  CHECK(k.self.empty());
  CHECK(k.failure_timeout_ms == 1500);
  CHECK(k.heartbeat_ms == 500);
  CHECK(k.reconnect_ms == 250);
  CHECK(k.balance == balance_policy::round_robin);
  CHECK_FALSE(k.tls.enabled);
  CHECK(k.tls.ca.empty());
  CHECK(c.services[0].run_on.empty());
  CHECK_FALSE(c.services[0].idempotent);
  CHECK(c.megaservices[0].serve_on.empty());

  auto single = parse_node_config("services:\n  s1: {builtin: echo}\n", "t.yaml");
  CHECK_FALSE(single.cluster.enabled);
  CHECK(single.cluster.members.empty());
}

TEST_CASE("cluster: small values and case-insensitive balance", "[config][cluster]") {
  auto c = parse_node_config(cluster_with("  failure_timeout_ms: 100\n  heartbeat_ms: 10\n"
                                          "  reconnect_ms: 10\n  balance: ROUND_ROBIN\n"),
                             "t.yaml");
  CHECK(c.cluster.failure_timeout_ms == 100);
  CHECK(c.cluster.heartbeat_ms == 10);
  CHECK(c.cluster.reconnect_ms == 10);
  CHECK(c.cluster.balance == balance_policy::round_robin);
}

TEST_CASE("cluster: tls paths of in-memory text stay relative to the current directory",
          "[config][cluster]") {
  auto c = parse_node_config(
      cluster_with("  tls: {ca: ca.pem, certificate: 'certs/{node}.pem', key: '/k/{node}.key'}\n"),
      "t.yaml");
  CHECK(c.cluster.tls.enabled);
  CHECK(c.cluster.tls.ca == "ca.pem");
  CHECK(c.cluster.tls.certificate == "certs/{node}.pem");
  CHECK(c.cluster.tls.key == "/k/{node}.key");
}

TEST_CASE("cluster: balance policy names", "[config][cluster]") {
  CHECK(to_string(balance_policy::round_robin) == "round_robin");
  CHECK(to_string(balance_policy::least_outstanding) == "least_outstanding");
}

// --- errors ---------------------------------------------------------------------------

TEST_CASE("cluster errors: the section", "[config][cluster]") {
  check_errors({
      {"cluster:\n", "t.yaml: cluster: expected a map, got null"},
      {"cluster: {name: opea}\n",
       "t.yaml: cluster: missing required key \"nodes\" (the members: name -> {host, port})"},
      {"cluster: {nodes: {}}\n", "t.yaml: cluster.nodes: expected at least one member"},
      {"cluster: {nodes: [n1]}\n", "t.yaml: cluster.nodes: expected a map, got a list"},
      {cluster_with("  balanse: round_robin\n"),
       "t.yaml: cluster.balanse: unknown key (did you mean \"balance\"? valid keys: name, nodes, "
       "failure_timeout_ms, heartbeat_ms, reconnect_ms, balance, tls)"},
      {cluster_with("  name: 'my cluster'\n"),
       "t.yaml: cluster.name: \"my cluster\" is not a valid name (use letters, digits, '_', '-', "
       "'.')"},
      {cluster_with("  name:\n"), "t.yaml: cluster.name: expected a non-empty string, got null"},
      {cluster_with("  balance: random\n"),
       "t.yaml: cluster.balance: expected one of round_robin, least_outstanding, got \"random\""},
      {cluster_with("  failure_timeout_ms: 99\n"),
       "t.yaml: cluster.failure_timeout_ms: expected an integer 100..4294967295, got \"99\""},
      {cluster_with("  heartbeat_ms: 9\n"),
       "t.yaml: cluster.heartbeat_ms: expected an integer 10..4294967295, got \"9\""},
      {cluster_with("  reconnect_ms: 5\n"),
       "t.yaml: cluster.reconnect_ms: expected an integer 10..4294967295, got \"5\""},
      {cluster_with("  failure_timeout_ms: 1000\n  heartbeat_ms: 1000\n"),
       "t.yaml: cluster.heartbeat_ms: must be smaller than failure_timeout_ms (1000)"},
      {cluster_with("  heartbeat_ms: 2500\n"),
       "t.yaml: cluster.heartbeat_ms: must be smaller than failure_timeout_ms (1500)"},
      {cluster_with("  failure_timeout_ms: 400\n"),
       "t.yaml: cluster.failure_timeout_ms: must be larger than heartbeat_ms (500, its default; "
       "set heartbeat_ms lower)"},
      // Only opea-cpp's format has a cluster section.
      {"opea_micro_services:\n  s1: {endpoint: 'http://h:1/a'}\nopea_mega_service: {}\n" +
           three_members,
       "t.yaml: opea_micro_services: cannot mix OPEA's format (opea_micro_services, "
       "opea_mega_service) with opea-cpp's (node, services, megaservices; found \"cluster\")"},
  });
}

TEST_CASE("cluster errors: members", "[config][cluster]") {
  check_errors({
      {"cluster: {nodes: {n1: {port: 7001}}}\n",
       "t.yaml: cluster.nodes.n1: missing required key \"host\""},
      {"cluster: {nodes: {n1: {host: h}}}\n",
       "t.yaml: cluster.nodes.n1: missing required key \"port\""},
      {"cluster: {nodes: {n1: {host: '', port: 1}}}\n",
       "t.yaml: cluster.nodes.n1.host: expected a non-empty string, got \"\""},
      {"cluster: {nodes: {n1: {host: h, port: 0}}}\n",
       "t.yaml: cluster.nodes.n1.port: expected an integer 1..65535, got \"0\""},
      {"cluster: {nodes: {n1: {host: h, port: 1, http_port: 65536}}}\n",
       "t.yaml: cluster.nodes.n1.http_port: expected an integer 0..65535, got \"65536\""},
      {"cluster: {nodes: {n1: {host: h, port: 1, data_dir: ~}}}\n",
       "t.yaml: cluster.nodes.n1.data_dir: expected a non-empty string, got null"},
      {"cluster: {nodes: {n1: {host: h, port: 1, http: 8080}}}\n",
       "t.yaml: cluster.nodes.n1.http: unknown key (valid keys: host, port, http_port, "
       "data_dir)"},
      {"cluster: {nodes: {n1:}}\n", "t.yaml: cluster.nodes.n1: expected a map, got null"},
      {"cluster: {nodes: {'n 1': {host: h, port: 1}}}\n",
       "t.yaml: cluster.nodes.n 1: invalid member name (use letters, digits, '_', '-', '.')"},
      {"cluster:\n  nodes:\n    n1: {host: h, port: 1}\n    n1: {host: g, port: 2}\n",
       "t.yaml: cluster.nodes.n1: duplicate key"},
      {"cluster:\n  nodes:\n    n1: {host: Host-A, port: 7001}\n"
       "    n2: {host: host-a, port: 7001}\n",
       "t.yaml: cluster.nodes.n2: duplicate address \"host-a:7001\" (also cluster.nodes.n1)"},
      {"cluster:\n  nodes:\n    n1: {host: h, port: 7001}\n"
       "    n2: {host: h, port: 7002}\n",
       "<no error>"},
  });
}

TEST_CASE("cluster errors: tls", "[config][cluster]") {
  check_errors({
      {cluster_with("  tls: {ca: ca.pem, certificate: c.pem}\n"),
       "t.yaml: cluster.tls: missing required key \"key\""},
      {cluster_with("  tls: {certificate: c.pem, key: k.pem}\n"),
       "t.yaml: cluster.tls: missing required key \"ca\""},
      {cluster_with("  tls: {ca: ca.pem, key: k.pem}\n"),
       "t.yaml: cluster.tls: missing required key \"certificate\""},
      {cluster_with("  tls: {ca: ca.pem, certificate: c.pem, key: ''}\n"),
       "t.yaml: cluster.tls.key: expected a non-empty string, got \"\""},
      {cluster_with("  tls: {ca: ca.pem, certificate: c.pem, keys: k.pem}\n"),
       "t.yaml: cluster.tls.keys: unknown key (did you mean \"key\"? valid keys: ca, certificate, "
       "key)"},
      {cluster_with("  tls:\n"), "t.yaml: cluster.tls: expected a map, got null"},
  });
}

TEST_CASE("cluster errors: run_on and serve_on", "[config][cluster]") {
  check_errors({
      {service_with("run_on: [n1]"),
       "t.yaml: services.s1.run_on: only valid in a file with a \"cluster\" section"},
      {megaservice_with("serve_on: [n1]"),
       "t.yaml: megaservices[0].serve_on: only valid in a file with a \"cluster\" section"},
      {three_members + service_with("run_on: [n2, n9]"),
       "t.yaml: services.s1.run_on[1]: unknown cluster member \"n9\" (members: n1, n2, n3)"},
      {three_members + service_with("run_on: [n2, n3, n2]"),
       "t.yaml: services.s1.run_on[2]: duplicate member \"n2\""},
      {three_members + service_with("run_on: []"),
       "t.yaml: services.s1.run_on: expected a non-empty list of cluster member names, got a "
       "list"},
      {three_members + service_with("run_on: n1"),
       "t.yaml: services.s1.run_on: expected a non-empty list of cluster member names, got "
       "\"n1\""},
      {three_members + megaservice_with("serve_on: [n4]"),
       "t.yaml: megaservices[0].serve_on[0]: unknown cluster member \"n4\" (members: n1, n2, "
       "n3)"},
      {three_members + megaservice_with("serve_on: [n1, n1]"),
       "t.yaml: megaservices[0].serve_on[1]: duplicate member \"n1\""},
      {service_with("idempotent: yes"),
       "t.yaml: services.s1.idempotent: expected true or false, got \"yes\""},
      {service_with("idempotent: ~"),
       "t.yaml: services.s1.idempotent: expected true or false, got null"},
  });
}

// --- selecting the member to start ------------------------------------------------------

TEST_CASE("select_cluster_member: derived data_dir and http port", "[config][cluster]") {
  auto c = load_node_config(data_file("cluster.yaml"));
  const auto source = data_file("cluster.yaml");

  auto n1 = c;
  select_cluster_member(n1, "n1");
  CHECK(n1.cluster.self == "n1");
  CHECK(n1.node.name == "n1");
  CHECK(n1.node.http.port == 9000);               // no http_port: the file's node.http.port
  CHECK(n1.node.data_dir == "/var/lib/opea/n1");  // no data_dir: <node.data_dir>/<name>
  require_cluster_member(n1);

  auto n2 = c;
  select_cluster_member(n2, "n2");
  CHECK(n2.node.name == "n2");
  CHECK(n2.node.http.port == 0);
  CHECK(n2.node.data_dir == "/data/n2");

  auto n3 = c;
  select_cluster_member(n3, "n3");
  CHECK(n3.node.http.port == 8890);
  CHECK(n3.node.data_dir == "/var/lib/opea/n3");
  // The command-line flags, applied afterwards, win.
  apply_overrides(n3, std::uint16_t{7777}, std::string("/tmp/x"));
  CHECK(n3.node.http.port == 7777);
  CHECK(n3.node.data_dir == "/tmp/x");

  auto d = parse_node_config(three_members, "t.yaml");
  select_cluster_member(d, "n2");
  CHECK(d.node.http.port == 8888);
  CHECK(d.node.data_dir == "./opea-data/n2");

  auto unknown = c;
  REQUIRE_THROWS_WITH(select_cluster_member(unknown, "n4"),
                      source + ": --node: unknown cluster member 'n4' (members: n1, n2, n3)");
  CHECK(unknown.cluster.self.empty());
  CHECK(unknown.node.name == "ignored-in-a-cluster");

  auto single = parse_node_config("services:\n  s1: {builtin: echo}\n", "t.yaml");
  REQUIRE_THROWS_WITH(select_cluster_member(single, "n1"),
                      "t.yaml: --node: the file has no cluster section");
}

TEST_CASE("require_cluster_member: a cluster file needs --node", "[config][cluster]") {
  auto c = parse_node_config(three_members, "t.yaml");
  REQUIRE_THROWS_WITH(require_cluster_member(c),
                      "t.yaml: cluster: choose the member to start with --node (members: n1, n2, "
                      "n3)");
  select_cluster_member(c, "n3");
  CHECK_NOTHROW(require_cluster_member(c));
  CHECK_NOTHROW(require_cluster_member(parse_node_config("services: {}\n", "t.yaml")));
}

// --- idempotence ------------------------------------------------------------------------

TEST_CASE("is_idempotent: embedding, rerank and llm by default", "[config][cluster]") {
  // Built-ins with service_type undefined (10): the built-in's name decides.
  CHECK(is_idempotent(service("embedding")));
  CHECK(is_idempotent(service("rerank")));
  CHECK(is_idempotent(service("llm")));
  CHECK_FALSE(is_idempotent(service("retriever")));
  CHECK_FALSE(is_idempotent(service("echo")));
  // An explicit service_type decides over the built-in's name.
  CHECK(is_idempotent(service("echo", 1)));       // embedding
  CHECK(is_idempotent(service("echo", 3)));       // rerank
  CHECK(is_idempotent(service("echo", 4)));       // llm
  CHECK_FALSE(is_idempotent(service("llm", 2)));  // retriever
  // HTTP services: only their service_type counts.
  auto http = service("");
  http.kind = service_kind::http;
  CHECK_FALSE(is_idempotent(http));
  http.builtin = "llm";  // ignored for kind http
  CHECK_FALSE(is_idempotent(http));
  http.service_type = 4;
  CHECK(is_idempotent(http));
  // An explicit idempotent wins both ways.
  auto s = service("llm");
  s.idempotent = false;
  CHECK_FALSE(is_idempotent(s));
  s = service("retriever");
  s.idempotent = true;
  CHECK(is_idempotent(s));

  auto c = parse_node_config(
      "services:\n  e: {builtin: embedding}\n  r: {builtin: retriever}\n"
      "  x: {url: 'http://h:1/a', service_type: llm}\n  y: {builtin: llm, idempotent: false}\n",
      "t.yaml");
  CHECK(is_idempotent(c.services[0]));
  CHECK_FALSE(is_idempotent(c.services[1]));
  CHECK(is_idempotent(c.services[2]));
  CHECK_FALSE(is_idempotent(c.services[3]));
}
