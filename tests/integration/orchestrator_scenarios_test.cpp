// OPEA's own orchestrator scenarios (GenAIComps tests/cores/mega), reproduced
// against a real opea-node process and real HTTP microservices on loopback.

#include <thread>

#include "tests/integration/cluster_fixture.hpp"

using namespace opea::itest;

namespace {

std::string http_service(const std::string& name, const std::string& url) {
  return "  " + name + ": {kind: http, url: \"" + url + "\"}\n";
}

}  // namespace

TEST_CASE("linear two-node flow (test_service_orchestrator.py)", "[integration]") {
  service_process s1{{"/v1/add:append:opea "}};
  service_process s2{{"/v1/add:append:project!"}};
  node_process node{"node: {name: itest, log_level: warn}\nservices:\n" +
                    http_service("s1", s1.url("/v1/add")) + http_service("s2", s2.url("/v1/add")) +
                    "megaservices:\n  - {name: mega, route: /v1/megaservice, flows: [s1 >> s2]}\n"};
  auto r = post(node.url("/v1/megaservice"), {{"text", "hello, "}});
  REQUIRE(r.status == 200);
  REQUIRE(body_of(r) == json{{"text", "hello, opea project!"}});
  REQUIRE(r.header("X-Request-Id").size() == 32);
}

TEST_CASE("OPEA's ServiceOrchestratorWithYaml file works unchanged", "[integration]") {
  service_process s1{{"/v1/add:append:opea "}};
  service_process s2{{"/v1/add:append:project!"}};
  // tests/cores/mega/megaservice.yaml, with the test services' ports.
  node_process node{"\nopea_micro_services:\n  s1:\n    endpoint: " + s1.url("/v1/add") +
                        "\n\n  s2:\n    endpoint: " + s2.url("/v1/add") +
                        "\n\nopea_mega_service:\n  mega_flow:\n    - s1 >> s2\n",
                    "megaservice.yaml"};
  auto r = post(node.url("/v1/megaservice"), {{"text", "Hello, "}});
  REQUIRE(r.status == 200);
  REQUIRE(body_of(r) == json{{"text", "Hello, opea project!"}});
}

TEST_CASE("fan-out runs sibling branches of concurrent requests in parallel", "[integration]") {
  // s2 and s3 hold every request until 4 are held at once: two concurrent
  // requests x two branches. If branches or requests ran one after the
  // other, the rendezvous would never fill and every call would fail (500).
  service_process s1{{"/v1/add:append:>"}};
  service_process branches{{"/v1/s2:rendezvous:4", "/v1/s3:rendezvous:4"}};
  node_process node{
      "node: {name: itest, log_level: warn}\nservices:\n" + http_service("s1", s1.url("/v1/add")) +
      http_service("s2", branches.url("/v1/s2")) + http_service("s3", branches.url("/v1/s3")) +
      "megaservices:\n  - {name: mega, route: /v1/fan, flows: [\"s1 >> (s2, s3)\"]}\n"};
  // fetch, not post: Catch's assertion macros must stay on this thread.
  auto first = std::async(std::launch::async, [&] {
    return fetch("POST", node.url("/v1/fan"), json{{"text", "a"}}.dump());
  });
  auto second = std::async(std::launch::async, [&] {
    return fetch("POST", node.url("/v1/fan"), json{{"text", "b"}}.dump());
  });
  auto res1 = first.get();
  auto res2 = second.get();
  REQUIRE(res1);
  REQUIRE(res2);
  auto& r1 = *res1;
  auto& r2 = *res2;
  REQUIRE(r1.status == 200);
  REQUIRE(r2.status == 200);
  REQUIRE(body_of(r1) == json{{"s2", {{"text", "a>/v1/s2"}, {"waited", 4}}},
                              {"s3", {{"text", "a>/v1/s3"}, {"waited", 4}}}});
  REQUIRE(body_of(r2) == json{{"s2", {{"text", "b>/v1/s2"}, {"waited", 4}}},
                              {"s3", {{"text", "b>/v1/s3"}, {"waited", 4}}}});
}

TEST_CASE("downstream_black_list prunes the runtime graph (test_runtime_graph.py)",
          "[integration]") {
  service_process s1{{"/v1/add:blacklist"}};
  service_process s2{{"/v1/add:append:add s2!"}};
  service_process s3{{"/v1/add:append:add s3!"}};
  node_process node{
      "node: {name: itest, log_level: warn}\nservices:\n" + http_service("s1", s1.url("/v1/add")) +
      http_service("s2", s2.url("/v1/add")) + http_service("s3", s3.url("/v1/add")) +
      "megaservices:\n  - {name: mega, route: /v1/rt, flows: [s1 >> s2, s1 >> s3]}\n"};
  // "Hi": nothing pruned, both leaves answer.
  auto hi = body_of(post(node.url("/v1/rt"), {{"text", "Hi!"}}));
  REQUIRE(hi == json{{"s2", {{"text", "Hi!OPEA Project!add s2!"}}},
                     {"s3", {{"text", "Hi!OPEA Project!add s3!"}}}});
  // "Bye": '.*' prunes both edges; s1 is the only leaf reached.
  auto bye = body_of(post(node.url("/v1/rt"), {{"text", "Bye!"}}));
  REQUIRE(bye == json{{"text", "Bye!OPEA Project!"}, {"downstream_black_list", {".*"}}});
  // Anything else: 's2' pruned, s3 answers.
  auto other = body_of(post(node.url("/v1/rt"), {{"text", "Other!"}}));
  REQUIRE(other == json{{"text", "Other!OPEA Project!add s3!"}});
  // Pruning was per request: "Hi" again reaches both.
  REQUIRE(body_of(post(node.url("/v1/rt"), {{"text", "Hi!"}})).size() == 2);
}

TEST_CASE("fan-in merges predecessor outputs in add order", "[integration]") {
  // (s1, s5) >> s2: s2 (echo) returns the merged input.
  service_process svc{{"/v1/s1:append:-1", "/v1/s5:echo", "/v1/s2:echo"}};
  node_process node{
      "node: {name: itest, log_level: warn}\nservices:\n" + http_service("s1", svc.url("/v1/s1")) +
      http_service("s5", svc.url("/v1/s5")) + http_service("s2", svc.url("/v1/s2")) +
      "megaservices:\n  - {name: mega, route: /v1/join, flows: [\"(s1, s5) >> s2\"]}\n"};
  // s1 returns {"text": "x-1"}, s5 echoes {"text": "x", "n": 1}; s5 is later
  // in add order, so its "text" wins.
  auto r = post(node.url("/v1/join"), {{"text", "x"}, {"n", 1}});
  REQUIRE(r.status == 200);
  REQUIRE(body_of(r) == json{{"text", "x"}, {"n", 1}});
}
