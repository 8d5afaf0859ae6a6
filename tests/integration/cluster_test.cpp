// A cluster of real opea-node processes on loopback: a ChatQnA DAG spread
// over three members, failover when a member is killed under load, and a
// restarted member rejoining.

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <iostream>
#include <map>
#include <mutex>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "tests/integration/cluster_fixture.hpp"
#include "tests/support/chatqna_config.hpp"

using namespace opea::itest;

namespace {

/// examples/chatqna/chatqna.yaml spread over the members `ports` (cluster
/// ports): embedding, rerank and llm on n2 and n3, the retriever on n1,
/// ChatQnA served by n1; `llm_patch` is merged into the llm's definition.
std::string cluster_yaml(const std::map<std::string, uint16_t>& ports,
                         const std::string& llm_patch = "{}") {
  std::string nodes;
  for (const auto& [name, port] : ports)
    nodes += (nodes.empty() ? "" : ", ") + name +
             ": {host: 127.0.0.1, port: " + std::to_string(port) + "}";
  return opea::test::chatqna_config{}
      .merge(
          "node: {log_level: info}\n"
          "cluster: {name: itest, failure_timeout_ms: 1000, heartbeat_ms: 200,\n"
          "          reconnect_ms: 50, nodes: {" +
          nodes +
          "}}\n"
          "services: {embedding: {run_on: [n2, n3]}, retriever: {run_on: [n1]},\n"
          "           rerank: {run_on: [n2, n3]}, llm: {run_on: [n2, n3]}}")
      .merge("services: {llm: " + llm_patch + "}")
      .set("megaservices.0.serve_on", "[n1]")
      .yaml();
}

/// The same graph on one node.
std::string single_yaml() {
  return opea::test::chatqna_config{}.merge("node: {name: solo, log_level: warn}").yaml();
}

std::string answer_of(const std::string& base, const std::string& question) {
  auto r = post(base + "/v1/chatqna", {{"messages", question}, {"stream", false}});
  INFO(r.body);
  REQUIRE(r.status == 200);
  return body_of(r)["choices"][0]["message"]["content"].get<std::string>();
}

/// Outcome counts of a load run.
struct load_counts {
  size_t ok = 0;
  size_t node_down = 0;
  size_t other = 0;
  std::vector<std::string> other_bodies;
};

/// Sends `total` non-streaming ChatQnA requests keeping `in_flight` open;
/// runs `midway` once `total / 3` have completed.
load_counts run_load(const std::string& url, size_t total, size_t in_flight,
                     const std::function<void()>& midway) {
  load_counts counts;
  drive_load(
      total, in_flight,
      [&](size_t) {
        opea::runtime::http::client_request req;
        req.method = "POST";
        req.url = url;
        req.body =
            R"({"messages": "How does the supervisor restart a crashed service?", "stream": false})";
        req.headers = {{"Content-Type", "application/json"}};
        req.timeout = 30s;
        return req;
      },
      [&](const caf::expected<opea::runtime::http::client_response>& r) {
        if (r && r->status == 200)
          ++counts.ok;
        else if (r && r->status == 502 &&
                 r->body.find("left the cluster while the call was in flight") != std::string::npos)
          ++counts.node_down;
        else {
          ++counts.other;
          counts.other_bodies.push_back(r ? std::to_string(r->status) + " " + r->body
                                          : opea::runtime::describe(r.error()));
        }
      },
      midway);
  return counts;
}

}  // namespace

TEST_CASE("a DAG over three nodes answers exactly as on one node", "[integration][cluster]") {
  std::map<std::string, uint16_t> ports{
      {"n1", free_port()}, {"n2", free_port()}, {"n3", free_port()}};
  cluster_members c{cluster_yaml(ports)};
  // n1 starts first and waits for its peers.
  c.start("n1");
  c.start("n3");
  c.start("n2");
  auto view = c.wait_members_up("n1", 2);
  REQUIRE(view["cluster"] == "itest");
  REQUIRE(view["self"] == "n1");
  REQUIRE(view["members"][1]["services"] == json::array({"embedding", "llm", "rerank"}));
  node_process solo{single_yaml()};
  for (const char* q :
       {"How does the supervisor restart a crashed service?", "What does the reranker do?",
        "How are restarts of a crashed service limited?"}) {
    auto distributed = answer_of(c.url("n1", ""), q);
    REQUIRE_THAT(distributed, Catch::Contains("Sources:"));
    REQUIRE(distributed == answer_of(solo.url(""), q));
  }
  SECTION("streamed token by token across nodes") {
    auto r = post(c.url("n1", "/v1/chat/completions"),
                  {{"model", "m"},
                   {"stream", true},
                   {"messages",
                    json::array({{{"role", "user"}, {"content", "What does the reranker do?"}}})}});
    REQUIRE(r.status == 200);
    REQUIRE(r.body.find("data: [DONE]") != std::string::npos);
    auto pieces = 0;
    for (size_t pos = 0; (pos = r.body.find("\"content\":", pos)) != std::string::npos; ++pos)
      ++pieces;
    REQUIRE(pieces > 5);
  }
  // Both replicas served: each member counted calls of its hosted services.
  for (const char* n : {"n2", "n3"}) {
    auto m = call("GET", c.url(n, "/metrics")).body;
    REQUIRE(metric_value(m, std::string{R"(opea_megaservice_requests_total{node=")"} + n +
                                R"(",code="200",megaservice="hosted.llm"})") >= 1);
  }
}

TEST_CASE("killing a member under load loses no idempotent request", "[integration][cluster]") {
  std::map<std::string, uint16_t> ports{
      {"n1", free_port()}, {"n2", free_port()}, {"n3", free_port()}};
  cluster_members c{cluster_yaml(ports)};
  c.start("n1");
  c.start("n2");
  c.start("n3");
  c.wait_members_up("n1", 2);
  auto counts = run_load(c.url("n1", "/v1/chatqna"), 600, 48, [&] { c.kill("n3"); });
  std::cout << "idempotent services, n3 killed under load: " << counts.ok << " ok, "
            << counts.node_down << " node_down, " << counts.other << " other" << std::endl;
  INFO((counts.other_bodies.empty() ? std::string{} : counts.other_bodies.front()));
  REQUIRE(counts.ok == 600);
  auto view = c.wait_members_up("n1", 1);
  REQUIRE(view["members"][2]["state"] == "down");
  auto metrics = call("GET", c.url("n1", "/metrics")).body;
  REQUIRE(metric_value(metrics, R"(opea_cluster_member_up{node="n1",member="n3"})") == 0);
  REQUIRE(metric_value(metrics, R"(opea_cluster_member_up{node="n1",member="n2"})") == 1);
  REQUIRE(metric_value(metrics, R"(opea_cluster_replicas{node="n1",service="llm"})") == 1);
  REQUIRE(metric_value(metrics,
                       R"(opea_cluster_node_down_errors_total{node="n1",service="llm"})") == 0);

  SECTION("a restarted member rejoins and takes traffic again") {
    c.start("n3");
    view = c.wait_members_up("n1", 2);
    REQUIRE(view["members"][2]["joins"] == 2);
    for (int i = 0; i < 8; ++i) answer_of(c.url("n1", ""), "What does the reranker do?");
    auto m = call("GET", c.url("n3", "/metrics")).body;
    // Round robin over two replicas: 4 of the 8 calls reached the new n3.
    REQUIRE(
        metric_value(
            m,
            R"(opea_megaservice_requests_total{node="n3",code="200",megaservice="hosted.llm"})") ==
        4);
  }
}

TEST_CASE("a non-idempotent service fails with the node-down error, never hangs",
          "[integration][cluster]") {
  std::map<std::string, uint16_t> ports{
      {"n1", free_port()}, {"n2", free_port()}, {"n3", free_port()}};
  cluster_members c{cluster_yaml(ports, "{idempotent: false}")};
  c.start("n1");
  c.start("n2");
  c.start("n3");
  c.wait_members_up("n1", 2);
  auto counts = run_load(c.url("n1", "/v1/chatqna"), 600, 48, [&] { c.kill("n2"); });
  std::cout << "non-idempotent llm, n2 killed under load: " << counts.ok << " ok, "
            << counts.node_down << " node_down, " << counts.other << " other" << std::endl;
  INFO((counts.other_bodies.empty() ? std::string{} : counts.other_bodies.front()));
  REQUIRE(counts.other == 0);
  REQUIRE(counts.ok + counts.node_down == 600);
}

TEST_CASE("a silent member is declared down by the heartbeat timeout and rejoins",
          "[integration][cluster]") {
  std::map<std::string, uint16_t> ports{
      {"n1", free_port()}, {"n2", free_port()}, {"n3", free_port()}};
  cluster_members c{cluster_yaml(ports)};  // failure_timeout_ms 1000, heartbeat_ms 200
  c.start("n1");
  c.start("n2");
  c.start("n3");
  c.wait_members_up("n1", 2);
  c.procs.at("n3")->kill(SIGSTOP);  // alive, connection open, but silent
  auto stopped = std::chrono::steady_clock::now();
  auto view = c.wait_members_up("n1", 1);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - stopped);
  std::cout << "silent member declared down after " << took.count() << " ms" << std::endl;
  REQUIRE(view["members"][2]["state"] == "down");
  // The survivors serve every request meanwhile.
  for (int i = 0; i < 4; ++i) answer_of(c.url("n1", ""), "What does the reranker do?");
  c.procs.at("n3")->kill(SIGCONT);
  view = c.wait_members_up("n1", 2);
  REQUIRE(view["members"][2]["joins"] == 2);
}
