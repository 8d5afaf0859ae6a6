#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include <future>
#include <string>

#include "nodes/node.hpp"
#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "tests/nodes/supervision_tree.hpp"

using namespace opea;

using test::children_of;

TEST_CASE("a node's supervision tree: a root over one supervisor per megaservice over its "
          "services",
          "[node][supervision]") {
  auto cfg = nodes::parse_node_config(
      "node: {http: {host: 127.0.0.1, port: 0}, scheduler: {max_threads: 2}, log_level: off,\n"
      "       supervision: {intensity: 2, period_ms: 1000}}\n"
      "services:\n"
      "  a: {builtin: append, params: {suffix: ' a'}, restart: transient}\n"
      "  b: {builtin: append, params: {suffix: ' b'}}\n"
      "megaservices:\n"
      "  - {name: m, route: /m, flows: ['a >> b'], supervision: {strategy: rest_for_one}}\n"
      "  - {name: n, route: /n, nodes: [b]}\n",
      "t.yaml");
  nodes::node n{cfg};
  REQUIRE(n.root());
  auto top = children_of(n.system(), n.root());
  REQUIRE(top.size() == 2);
  CHECK(top[0].id == "m");
  CHECK(top[1].id == "n");
  CHECK(top[0].status == runtime::child_status::running);
  // Each megaservice's child is its services' supervisor, with its services in graph order.
  auto m = children_of(n.system(), caf::actor_cast<runtime::supervisor_handle>(top[0].actor));
  REQUIRE(m.size() == 2);
  CHECK(m[0].id == "a");
  CHECK(m[1].id == "b");
  auto ns = children_of(n.system(), caf::actor_cast<runtime::supervisor_handle>(top[1].actor));
  REQUIRE(ns.size() == 1);
  CHECK(ns[0].id == "b");
  auto res = n.megaservices()[0]->schedule({{"text", "x"}});
  REQUIRE(res);
  CHECK(*res->output == runtime::json{{"text", "x a b"}});
  n.stop();
  CHECK_FALSE(n.root());
}

TEST_CASE("a megaservice api no application serves is a config error naming the ones served",
          "[node][config]") {
  // The api names come from the node's applications (nodes/applications.cpp),
  // not from the config reader: the node checks them when it builds the graph.
  auto cfg = nodes::parse_node_config(
      "node: {http: {host: 127.0.0.1, port: 0}, scheduler: {max_threads: 1}, log_level: off}\n"
      "services:\n  e: {builtin: echo}\nmegaservices:\n"
      "  - {name: j, route: /j, api: grpc, flows: [e]}\n",
      "t.yaml");
  CHECK(cfg.megaservices[0].api == "grpc");
  CHECK_THROWS_WITH(nodes::node{cfg},
                    "t.yaml: megaservices[0].api: expected one of json, chatqna, got \"grpc\"");
}

TEST_CASE("a node serves HTTP on every scheduler and I/O setting", "[node][http]") {
  // io_threads 0 puts the gateway and the client on the scheduler's workers
  // (spinning), or on one thread of their own with a policy that does not
  // drive an event loop; io_threads 2: threads of their own.
  auto [policy, io_threads, io_workers] = GENERATE(table<std::string, int, int>({
      {"spinning", 0, 1},
      {"spinning", 0, 2},
      {"spinning", 2, 1},
      {"sharing", 0, 1},
      {"stealing", 0, 1},
  }));
  INFO(policy << " io_threads " << io_threads << " io_workers " << io_workers);
  auto cfg = nodes::parse_node_config(
      "node: {http: {host: 127.0.0.1, port: 0, io_threads: " + std::to_string(io_threads) +
          ", io_workers: " + std::to_string(io_workers) +
          "}, scheduler: {max_threads: 2, policy: " + policy +
          "}, log_level: off}\n"
          "services:\n"
          "  a: {builtin: append, params: {suffix: ' a'}}\n"
          "  b: {builtin: append, params: {suffix: ' b'}}\n"
          "megaservices:\n"
          "  - {name: m, route: /m, flows: ['a >> b']}\n",
      "t.yaml");
  nodes::node n{cfg};
  auto port = n.start();
  REQUIRE(port);
  runtime::http::client c;
  for (int i = 0; i < 20; ++i) {
    runtime::http::client_request req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(*port) + "/m";
    req.body = R"({"text":"x)" + std::to_string(i) + R"("})";
    std::promise<caf::expected<runtime::http::client_response>> done;
    c.async_request(std::move(req), [&](caf::expected<runtime::http::client_response> r) {
      done.set_value(std::move(r));
    });
    auto res = done.get_future().get();
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(runtime::json::parse(res->body) ==
          runtime::json{{"text", "x" + std::to_string(i) + " a b"}});
  }
  n.stop();
}
