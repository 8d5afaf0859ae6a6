// Cluster links over mutual TLS (caf::openssl with nodes/cluster/tls_guard):
// a 3-node mesh under load while clients, stray TCP connects and garbage hit
// the nodes, and members with a foreign CA's or another member's
// certificate refused. Certificates come from scripts/make-cluster-certs.sh.

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "tests/integration/cluster_fixture.hpp"

using namespace opea::itest;

namespace {

/// main/: the cluster CA with n1, n2, n3; foreign/: another CA with its own n3.
struct certs {
  temp_dir dir;
  certs() {
    auto script = std::string{OPEA_SOURCE_DIR} + "/scripts/make-cluster-certs.sh";
    for (auto args : {"/main n1 n2 n3", "/foreign n3"}) {
      auto cmd = script + " " + dir.path.string() + args + " >/dev/null 2>&1";
      REQUIRE(std::system(cmd.c_str()) == 0);
    }
  }
  std::string path(const std::string& ca_dir) const { return (dir.path / ca_dir).string(); }
};

/// Services a (on n2, n3) and b (on n1, n3); megaservice m = a >> b served
/// by n1 and n2, so every member pair carries calls. `tls_dir` holds ca.pem
/// and {node}.pem/.key; `port_of` maps members to cluster ports.
std::string tls_yaml(const std::map<std::string, uint16_t>& port_of, const std::string& tls_dir) {
  std::string yaml =
      "node: {log_level: info}\n"
      "cluster:\n"
      "  name: tls\n"
      "  reconnect_ms: 50\n"
      "  tls: {ca: \"" +
      tls_dir + "/ca.pem\", certificate: \"" + tls_dir + "/{node}.pem\", key: \"" + tls_dir +
      "/{node}.key\"}\n"
      "  nodes:\n";
  for (const auto& [name, port] : port_of)
    yaml += "    " + name + ": {host: 127.0.0.1, port: " + std::to_string(port) + "}\n";
  yaml +=
      "services:\n"
      "  a: {builtin: append, params: {suffix: \"-a\"}, run_on: [n2, n3], idempotent: true}\n"
      "  b: {builtin: append, params: {suffix: \"-b\"}, run_on: [n1, n3], idempotent: true}\n"
      "megaservices:\n"
      "  - {name: m, route: /v1/m, serve_on: [n1, n2], flows: [a >> b]}\n";
  return yaml;
}

struct member {
  std::unique_ptr<opea::test::child_process> proc;
  uint16_t http = 0;
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(http) + path;
  }
};

member start(const std::string& config, const std::string& name, const temp_dir& data) {
  member m;
  m.proc = std::make_unique<opea::test::child_process>(
      OPEA_NODE_BINARY, std::vector<std::string>{"--config", config, "--node", name, "--http-port",
                                                 "0", "--data-dir", (data.path / name).string()});
  m.http = wait_for_port(*m.proc);
  return m;
}

/// `m`'s /v1/cluster once its log says exactly `want` other members are up.
json wait_up(const member& m, size_t want) {
  return wait_members_up(*m.proc, m.url(""), want);
}

}  // namespace

TEST_CASE("TLS: a 3-node mesh carries 10,000 requests while strays hit the cluster ports",
          "[integration][cluster][tls]") {
  certs c;
  std::map<std::string, uint16_t> ports{
      {"n1", free_port()}, {"n2", free_port()}, {"n3", free_port()}};
  temp_dir data;
  auto config = data.write("tls.yaml", tls_yaml(ports, c.path("main")));
  auto n3 = start(config, "n3", data);
  auto n1 = start(config, "n1", data);
  auto n2 = start(config, "n2", data);
  wait_up(n1, 2);
  wait_up(n2, 2);
  wait_up(n3, 2);

  // Strays: bare TCP connects, garbage bytes and half-open handshakes on
  // every cluster port, and HTTP clients that connect and leave, all while
  // the load runs. Without the error-queue fix each of these would make
  // caf::openssl drop healthy links.
  std::atomic<bool> stop{false};
  std::atomic<size_t> strays{0};
  std::thread stray_thread{[&] {
    namespace net = boost::asio;
    net::io_context ioc;
    while (!stop.load()) {
      for (const auto& [name, port] : ports) {
        boost::system::error_code ec;
        net::ip::tcp::socket s{ioc};
        s.connect({net::ip::make_address("127.0.0.1"), port}, ec);
        if (!ec) net::write(s, net::buffer(std::string{"\x16\x03\x01garbage\r\n\r\n", 14}), ec);
        s.close(ec);
        net::ip::tcp::socket h{ioc};
        h.connect({net::ip::make_address("127.0.0.1"), n1.http}, ec);
        h.close(ec);
        ++strays;
      }
    }
  }};

  const size_t total = 10000;
  size_t ok = 0;
  std::vector<std::string> failures;
  drive_load(
      total, 32,
      [&](size_t i) {
        opea::runtime::http::client_request req;
        req.method = "POST";
        req.url = (i % 2 == 0 ? n1 : n2).url("/v1/m");
        req.body = R"({"text": "x"})";
        req.headers = {{"Content-Type", "application/json"}};
        req.timeout = 30s;
        return req;
      },
      [&](const caf::expected<opea::runtime::http::client_response>& r) {
        if (r && r->status == 200 &&
            json::parse(r->body, nullptr, false) == json{{"text", "x-a-b"}})
          ++ok;
        else if (failures.size() < 5)
          failures.push_back(r ? std::to_string(r->status) + " " + r->body
                               : opea::runtime::describe(r.error()));
      });
  stop = true;
  stray_thread.join();
  std::cout << "TLS mesh: " << ok << " of " << total << " requests ok with " << strays.load()
            << " rounds of stray connects" << std::endl;
  INFO((failures.empty() ? std::string{} : failures.front()));
  REQUIRE(ok == total);
  REQUIRE(strays.load() > 0);
  // The links never dropped: every member joined exactly once.
  for (const auto* m : {&n1, &n2, &n3}) {
    auto view = wait_up(*m, 2);
    for (const auto& x : view["members"])
      if (x["state"] == "up") REQUIRE(x["joins"] == 1);
  }
}

TEST_CASE("TLS: members with a foreign CA's or another member's certificate are refused",
          "[integration][cluster][tls]") {
  certs c;
  std::map<std::string, uint16_t> ports{
      {"n1", free_port()}, {"n2", free_port()}, {"n3", free_port()}};
  temp_dir data;
  auto config = data.write("tls.yaml", tls_yaml(ports, c.path("main")));
  auto n1 = start(config, "n1", data);
  auto n2 = start(config, "n2", data);
  wait_up(n1, 1);

  SECTION("an n3 whose certificate comes from another CA") {
    auto foreign = data.write("foreign.yaml", tls_yaml(ports, c.path("foreign")));
    auto bad = start(foreign, "n3", data);
    // n1 and n2 dial it and fail the handshake; it never joins.
    REQUIRE(n1.proc->wait_for_line(
        std::regex{
            "cluster n1: member n3 unreachable: cannot connect: disconnect_during_handshake"},
        20s));
    auto view = body_of(call("GET", n1.url("/v1/cluster")));
    REQUIRE(view["members"][2]["state"] != "up");
    bad.proc->kill(SIGTERM);
    bad.proc->wait();
  }
  SECTION("a node at n3's address presenting n2's certificate") {
    // An impostor: a member "n2" of a file that puts n2 at n3's port.
    auto swapped = ports;
    swapped["n2"] = ports.at("n3");
    swapped["n3"] = free_port();
    auto impostor_cfg = data.write("impostor.yaml", tls_yaml(swapped, c.path("main")));
    temp_dir other;
    auto impostor = start(impostor_cfg, "n2", other);
    REQUIRE(n1.proc->wait_for_line(
        std::regex{"refused connection: .*n3.*n2|refused connection: .*n2.*n3"}, 20s));
    auto view = body_of(call("GET", n1.url("/v1/cluster")));
    REQUIRE(view["members"][2]["state"] != "up");
    impostor.proc->kill(SIGTERM);
    impostor.proc->wait();
  }
  // The real n3 joins both.
  auto n3 = start(config, "n3", data);
  wait_up(n1, 2);
  wait_up(n2, 2);
  auto r = post(n1.url("/v1/m"), {{"text", "y"}});
  REQUIRE(r.status == 200);
  REQUIRE(body_of(r) == json{{"text", "y-a-b"}});
}
