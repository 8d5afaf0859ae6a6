// A member's cluster actors (the endpoints of the services it hosts and its
// membership directory) are children of its root supervisor: two nodes in
// one process, each with its own actor system and middleman on loopback.

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <caf/all.hpp>

#include "nodes/cluster/membership.hpp"
#include "nodes/config/node_config.hpp"
#include "nodes/node.hpp"
#include "runtime/errors.hpp"
#include "runtime/service/service_proxy.hpp"
#include "tests/nodes/supervision_tree.hpp"

using namespace opea;
namespace rt = opea::runtime;
using opea::test::child;
using opea::test::children_of;

namespace {

/// A TCP port that was free a moment ago (cluster ports must be in the file
/// before either member starts, so port 0 cannot be used for them).
uint16_t free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acc{
      io, boost::asio::ip::tcp::endpoint{boost::asio::ip::make_address("127.0.0.1"), 0}};
  return acc.local_endpoint().port();
}

/// The children of the node's "cluster" supervisor.
std::vector<rt::child_info> cluster_children(nodes::node& n) {
  auto top = children_of(n.system(), n.root());
  return children_of(n.system(),
                     caf::actor_cast<rt::supervisor_handle>(child(top, "cluster").actor));
}

nodes::node_config member(const std::string& yaml, const std::string& name) {
  auto cfg = nodes::parse_node_config(yaml, "cluster.yaml");
  nodes::select_cluster_member(cfg, name);
  return cfg;
}

/// Waits (bounded) for the next replica_up or replica_down the directory
/// sends `watcher` for service "a".
struct replica_event {
  bool up = false;
  std::string node;
  caf::actor endpoint;
};

replica_event next_event(caf::scoped_actor& watcher) {
  replica_event ev;
  watcher->receive(
      [&](rt::replica_up_atom, const std::string& node, const caf::actor& ep) {
        ev = {true, node, ep};
      },
      [&](rt::replica_down_atom, const std::string& node) {
        ev = {false, node, {}};
      },
      caf::after(std::chrono::seconds{30}) >> [] { FAIL("no replica event within 30 s"); });
  return ev;
}

}  // namespace

TEST_CASE(
    "a member's endpoints and directory are supervised: restarted, the other members find "
    "them again",
    "[node][cluster][supervision]") {
  auto p1 = free_port();
  auto p2 = free_port();
  auto yaml =
      "node: {http: {host: 127.0.0.1, port: 0}, scheduler: {max_threads: 2}, log_level: off}\n"
      "cluster:\n"
      "  name: sup\n"
      "  heartbeat_ms: 200\n"
      "  failure_timeout_ms: 5000\n"
      "  reconnect_ms: 20\n"
      "  nodes:\n"
      "    n1: {host: 127.0.0.1, port: " +
      std::to_string(p1) +
      "}\n"
      "    n2: {host: 127.0.0.1, port: " +
      std::to_string(p2) +
      "}\n"
      "services:\n"
      "  a: {builtin: append, params: {suffix: ' a'}, run_on: [n2]}\n"
      "megaservices:\n"
      "  - {name: m, route: /m, nodes: [a], serve_on: [n1]}\n";
  nodes::node n2{member(yaml, "n2")};
  nodes::node n1{member(yaml, "n1")};
  auto call = [&] {
    auto res = n1.megaservices()[0]->schedule({{"text", "x"}});
    REQUIRE(res);
    CHECK(*res->output == rt::json{{"text", "x a"}});
  };
  // n2's tree: the hosted service's megaservice, then the cluster's actors.
  auto top2 = children_of(n2.system(), n2.root());
  REQUIRE(top2.size() == 2);
  CHECK(top2[0].id == "hosted.a");
  CHECK(top2[1].id == "cluster");
  auto c2 = cluster_children(n2);
  REQUIRE(c2.size() == 2);
  CHECK(c2[0].id == "endpoint.a");
  CHECK(c2[1].id == "directory");
  // A watcher subscribed on n1 sees what n1's proxies see.
  caf::scoped_actor watcher{n1.system()};
  auto dir1 = child(cluster_children(n1), "directory").actor;
  caf::anon_send(dir1, rt::subscribe_atom::value, std::string{"a"},
                 caf::actor_cast<caf::actor>(watcher));
  auto ev = next_event(watcher);
  REQUIRE(ev.up);
  CHECK(ev.node == "n2");
  auto ep1 = ev.endpoint;
  call();

  SECTION("an endpoint killed on n2 is restarted and announced to n1") {
    caf::anon_send_exit(child(c2, "endpoint.a").actor, caf::exit_reason::kill);
    ev = next_event(watcher);
    REQUIRE(ev.up);
    CHECK(ev.node == "n2");
    CHECK(ev.endpoint != ep1);
    call();
    auto after = cluster_children(n2);
    CHECK(child(after, "endpoint.a").restarts == 1);
    CHECK(child(after, "endpoint.a").actor == ev.endpoint);
    CHECK(child(after, "directory").restarts == 0);
  }

  SECTION("n2's directory killed is restarted, publishes itself again and n1 rejoins it") {
    caf::anon_send_exit(child(c2, "directory").actor, caf::exit_reason::kill);
    ev = next_event(watcher);
    CHECK_FALSE(ev.up);
    CHECK(ev.node == "n2");
    ev = next_event(watcher);
    REQUIRE(ev.up);
    CHECK(ev.node == "n2");
    CHECK(ev.endpoint == ep1);  // the endpoint itself did not restart
    call();
    auto after = cluster_children(n2);
    CHECK(child(after, "directory").restarts == 1);
    CHECK(child(after, "endpoint.a").restarts == 0);
  }

  SECTION("n1's directory killed is restarted with its subscribers and rejoins n2") {
    caf::anon_send_exit(dir1, caf::exit_reason::kill);
    // The new instance dials n2 (the lower name dials) and tells the
    // subscribers it remembers, the watcher among them.
    ev = next_event(watcher);
    REQUIRE(ev.up);
    CHECK(ev.node == "n2");
    CHECK(ev.endpoint == ep1);
    call();
    auto after = cluster_children(n1);
    CHECK(child(after, "directory").restarts == 1);
    CHECK(child(after, "directory").actor != dir1);
  }
  n1.stop();
  n2.stop();
}
