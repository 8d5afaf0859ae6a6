#include "nodes/cluster/tls_guard.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <openssl/ssl.h>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

namespace tls_guard = opea::nodes::tls_guard;

namespace {

/// Certificates made once per test process by scripts/make-cluster-certs.sh:
/// main/ holds the cluster CA and members a, b, c, x; foreign/ a second CA
/// with its own "b". Removed at exit.
class cert_store {
 public:
  cert_store() {
    auto tmpl = (std::filesystem::temp_directory_path() / "opea-tls-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;
    std::string script = std::string{OPEA_SOURCE_DIR} + "/scripts/make-cluster-certs.sh";
    for (auto& args : {root_ + "/main a b c x", root_ + "/foreign b"}) {
      auto cmd = script + " " + args + " >/dev/null";
      if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
    }
  }
  cert_store(const cert_store&) = delete;
  cert_store& operator=(const cert_store&) = delete;
  ~cert_store() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  std::string ca(const std::string& dir = "main") const { return root_ + "/" + dir + "/ca.pem"; }
  std::string pem(const std::string& name, const std::string& dir = "main") const {
    return root_ + "/" + dir + "/" + name + ".pem";
  }
  std::string key(const std::string& name, const std::string& dir = "main") const {
    return root_ + "/" + dir + "/" + name + ".key";
  }

 private:
  std::string root_;
};

const cert_store& certs() {
  static const cert_store store;
  return store;
}

/// An in-process "node": an actor system with caf::openssl and one member's
/// certificate (from the main CA unless `dir` says otherwise), trusting the
/// main cluster CA.
class tls_node {
 public:
  explicit tls_node(const std::string& name, const std::string& dir = "main")
      : sys_{configure(cfg_, name, dir)} {}

  tls_node(const tls_node&) = delete;
  tls_node& operator=(const tls_node&) = delete;
  // ~actor_system waits for every actor, so stop the echo first.
  ~tls_node() {
    if (echo_) caf::anon_send_exit(echo_, caf::exit_reason::user_shutdown);
  }

  caf::actor_system& sys() { return sys_; }

  /// Publishes an echo actor on an ephemeral loopback port.
  uint16_t publish_echo() {
    if (!echo_)
      echo_ = sys_.spawn([]() -> caf::behavior { return {[](std::int32_t x) { return x; }}; });
    auto port = caf::openssl::publish(echo_, 0, "127.0.0.1", true);
    if (!port) throw std::runtime_error("publish failed: " + sys_.render(port.error()));
    return *port;
  }

  caf::expected<caf::actor> dial(uint16_t port) {
    return caf::openssl::remote_actor(sys_, "127.0.0.1", port);
  }

 private:
  static caf::actor_system_config& configure(caf::actor_system_config& cfg, const std::string& name,
                                             const std::string& dir) {
    cfg.load<caf::io::middleman>();
    cfg.load<caf::openssl::manager>();
    cfg.set("scheduler.max-threads", 1);
    cfg.openssl_cafile = certs().ca();
    cfg.openssl_certificate = certs().pem(name, dir);
    cfg.openssl_key = certs().key(name, dir);
    return cfg;
  }

  caf::actor_system_config cfg_;
  caf::actor_system sys_;
  caf::actor echo_;
};

/// Sets a policy for one test and removes it afterwards.
class policy_scope {
 public:
  explicit policy_scope(tls_guard::peer_policy policy) { tls_guard::configure(std::move(policy)); }
  policy_scope(const policy_scope&) = delete;
  policy_scope& operator=(const policy_scope&) = delete;
  ~policy_scope() { tls_guard::clear(); }
};

/// Self "x" is a member nobody in these tests presents, so each in-process
/// node may accept the others; `endpoints` maps loopback ports to names.
tls_guard::peer_policy policy(std::vector<std::pair<uint16_t, std::string>> endpoints,
                              std::string self = "x") {
  tls_guard::peer_policy out;
  out.self = std::move(self);
  out.members = {"a", "b", "c", "x"};
  for (auto& [port, name] : endpoints) out.endpoints[{"127.0.0.1", port}] = name;
  return out;
}

/// One echo round trip; false on a timeout or an error.
bool round_trip(caf::actor_system& sys, const caf::actor& echo, std::int32_t value) {
  caf::scoped_actor self{sys};
  bool ok = false;
  self->request(echo, std::chrono::seconds{1}, value)
      .receive([&](std::int32_t x) { ok = x == value; }, [&](caf::error&) { ok = false; });
  return ok;
}

/// A raw TCP connection to the TLS port that sends garbage and closes, like
/// a port scanner or a client speaking the wrong protocol.
void stray_tcp_connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  const char garbage[] = "GET / HTTP/1.0\r\n\r\n\x16\x03\x01\xff\xff garbage";
  CHECK(::send(fd, garbage, sizeof(garbage), MSG_NOSIGNAL) > 0);
  ::close(fd);
}

/// Connects to `port` with OpenSSL directly (not through CAF), presenting
/// member `name`'s certificate; returns SSL_connect's result.
int plain_openssl_connect(uint16_t port, const std::string& name) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{SSL_CTX_new(TLS_client_method()),
                                                        &SSL_CTX_free};
  REQUIRE(ctx);
  REQUIRE(SSL_CTX_use_certificate_chain_file(ctx.get(), certs().pem(name).c_str()) == 1);
  REQUIRE(SSL_CTX_use_PrivateKey_file(ctx.get(), certs().key(name).c_str(), SSL_FILETYPE_PEM) == 1);
  REQUIRE(SSL_CTX_load_verify_locations(ctx.get(), certs().ca().c_str(), nullptr) == 1);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl{SSL_new(ctx.get()), &SSL_free};
  SSL_set_fd(ssl.get(), fd);
  int ret = SSL_connect(ssl.get());
  ::close(fd);
  return ret;
}

}  // namespace

TEST_CASE("tls_guard: the SSL_* wrappers are in effect and the self-test passes", "[tls]") {
  REQUIRE(tls_guard::installed());
  auto before = tls_guard::refusals();
  auto err = tls_guard::self_test(certs().ca(), certs().pem("a"), certs().key("a"));
  INFO(caf::to_string(err));
  CHECK_FALSE(err);
  SECTION("also with a peer policy configured, which the self-test bypasses") {
    policy_scope scope{policy({}, "a")};
    err = tls_guard::self_test(certs().ca(), certs().pem("a"), certs().key("a"));
    INFO(caf::to_string(err));
    CHECK_FALSE(err);
    CHECK(tls_guard::refusals() == before);
  }
}

TEST_CASE("tls_guard: the self-test fails without the error-queue fix", "[tls]") {
  tls_guard::set_error_clearing_for_testing(false);
  auto err = tls_guard::self_test(certs().ca(), certs().pem("a"), certs().key("a"),
                                  std::chrono::milliseconds{500});
  tls_guard::set_error_clearing_for_testing(true);
  REQUIRE(err);
  CHECK_THAT(caf::to_string(err), Catch::Contains("interposition is not in effect"));
}

TEST_CASE("tls_guard: the self-test names a bad file", "[tls]") {
  auto mismatch = tls_guard::self_test(certs().ca(), certs().pem("a"), certs().key("b"));
  CHECK_THAT(caf::to_string(mismatch), Catch::Contains("key values mismatch"));
  auto foreign =
      tls_guard::self_test(certs().ca(), certs().pem("b", "foreign"), certs().key("b", "foreign"));
  CHECK_THAT(caf::to_string(foreign), Catch::Contains("does not verify against CA"));
  auto missing = tls_guard::self_test(certs().ca(), certs().pem("nobody"), certs().key("a"));
  CHECK_THAT(caf::to_string(missing), Catch::Contains("cannot load certificate"));
}

TEST_CASE("tls_guard: certificate_names reads CN and DNS subjectAltNames", "[tls]") {
  auto names = tls_guard::certificate_names(certs().pem("b"));
  REQUIRE(names);
  CHECK(*names == std::vector<std::string>{"b"});
  CHECK_FALSE(tls_guard::certificate_names(certs().pem("nobody")));
}

TEST_CASE("tls_guard: a peer presenting the expected name is accepted and recorded", "[tls]") {
  tls_node server{"b"};
  auto port = server.publish_echo();
  policy_scope scope{policy({{port, "b"}})};
  auto before = tls_guard::refusals();
  tls_node client{"a"};
  auto echo = client.dial(port);
  REQUIRE(echo);
  CHECK(round_trip(client.sys(), *echo, 7));
  CHECK(tls_guard::refusals() == before);
  // The server verified "a" before its BASP handshake reached the client.
  CHECK(tls_guard::claim_accepted_peer("a"));
  CHECK_FALSE(tls_guard::claim_accepted_peer("a"));
  CHECK_FALSE(tls_guard::claim_accepted_peer("b"));
}

TEST_CASE("tls_guard: handshakes outside libcaf_openssl are not name-checked", "[tls]") {
  tls_node server{"c"};
  auto port = server.publish_echo();
  // The port maps to "b" and the server presents "c": CAF's dialling side
  // would refuse this (see below), an HTTPS client in the process must not.
  policy_scope scope{policy({{port, "b"}})};
  auto before = tls_guard::refusals();
  CHECK(plain_openssl_connect(port, "a") == 1);
  CHECK(tls_guard::refusals() == before);
}

TEST_CASE("tls_guard: the dialling side refuses a peer whose certificate names another member",
          "[tls]") {
  tls_node server{"c"};
  auto port = server.publish_echo();
  tls_node client{"a"};
  SECTION("the address belongs to member b") {
    policy_scope scope{policy({{port, "b"}})};
    auto before = tls_guard::refusals();
    auto echo = client.dial(port);
    CHECK_FALSE(echo);
    CHECK(tls_guard::refusals() == before + 1);
  }
  SECTION("the address belongs to no member") {
    policy_scope scope{policy({{static_cast<uint16_t>(port + 1), "c"}})};
    auto before = tls_guard::refusals();
    CHECK_FALSE(client.dial(port));
    CHECK(tls_guard::refusals() == before + 1);
  }
}

TEST_CASE("tls_guard: the accepting side refuses a peer presenting this node's own name", "[tls]") {
  tls_node server{"b"};
  auto port = server.publish_echo();
  // Self is "a" and the client presents "a": the server refuses; the client
  // finds "b" where it expects b and gets the connection closed on it.
  policy_scope scope{policy({{port, "b"}}, "a")};
  auto before = tls_guard::refusals();
  tls_node client{"a"};
  CHECK_FALSE(client.dial(port));
  CHECK(tls_guard::refusals() == before + 1);
  CHECK_FALSE(tls_guard::claim_accepted_peer("a"));
}

TEST_CASE("tls_guard: a certificate from a different CA is refused", "[tls]") {
  auto before = tls_guard::refusals();
  SECTION("presented by the dialling side") {
    tls_node server{"a"};
    auto port = server.publish_echo();
    policy_scope scope{policy({{port, "a"}})};
    tls_node client{"b", "foreign"};
    CHECK_FALSE(client.dial(port));
  }
  SECTION("presented by the accepting side") {
    tls_node server{"b", "foreign"};
    auto port = server.publish_echo();
    policy_scope scope{policy({{port, "b"}})};
    tls_node client{"a"};
    CHECK_FALSE(client.dial(port));
  }
  // OpenSSL's chain check refused it, before any name check.
  CHECK(tls_guard::refusals() == before);
}

TEST_CASE("tls_guard: 2000 TLS round trips survive other connections opening and closing",
          "[tls]") {
  constexpr int round_trips = 2000;
  tls_node server{"b"};
  auto port1 = server.publish_echo();
  auto port2 = server.publish_echo();
  policy_scope scope{policy({{port1, "b"}, {port2, "b"}})};
  tls_node client{"a"};
  auto echo = client.dial(port1);
  REQUIRE(echo);
  int failures = 0;
  int disturbances = 0;
  for (int i = 0; i < round_trips && failures < 10; ++i) {
    if (!round_trip(client.sys(), *echo, i)) ++failures;
    if (i % 100 == 50) {
      stray_tcp_connect(port1);
      ++disturbances;
    }
    if (i == 200) {
      // A second connection between the same two nodes: BASP closes it.
      CHECK(client.dial(port2));
      ++disturbances;
    }
    if (i % 500 == 250) {
      // Another node connects and leaves; or one whose CA is not ours tries.
      if (i % 1000 == 250) {
        tls_node other{"c"};
        CHECK(other.dial(port1));
      } else {
        tls_node other{"b", "foreign"};
        CHECK_FALSE(other.dial(port2));
      }
      ++disturbances;
    }
  }
  CHECK(disturbances == 25);
  CHECK(failures == 0);
}
