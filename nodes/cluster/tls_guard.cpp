#include "nodes/cluster/tls_guard.hpp"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "monitoring/log.hpp"

namespace opea::nodes::tls_guard {
namespace {

using address = std::pair<std::string, std::uint16_t>;

/// The policy as the wrappers use it: endpoints resolved to normalised
/// address literals. Immutable once built; shared by snapshot.
struct compiled_policy {
  std::string self;
  std::set<std::string> members;
  std::map<address, std::string> by_address;
  /// Entries whose host is a name, resolved again on a miss.
  std::vector<std::pair<address, std::string>> named_hosts;
};

/// Unclaimed accepted occurrences kept per name.
constexpr std::size_t max_unclaimed_per_name = 16;

/// All mutable process-wide state. Leaked on purpose: CAF threads may still
/// run a wrapper while static destructors run at exit.
struct guard_state {
  std::mutex mtx;  // protects the three members below
  std::shared_ptr<const compiled_policy> policy;
  std::map<std::string, std::size_t> accepted;
  std::multiset<std::uint16_t> self_test_ports;
  std::atomic<std::uint64_t> refusals{0};
  std::atomic<bool> clear_errors{true};
};

guard_state& state() {
  static auto* s = new guard_state;
  return *s;
}

std::shared_ptr<const compiled_policy> current_policy() {
  auto& s = state();
  std::lock_guard<std::mutex> guard{s.mtx};
  return s.policy;
}

bool is_self_test_port(std::uint16_t port) {
  auto& s = state();
  std::lock_guard<std::mutex> guard{s.mtx};
  return s.self_test_ports.count(port) > 0;
}

// --- addresses --------------------------------------------------------------

/// Canonical text of a socket address; IPv4-mapped IPv6 becomes IPv4.
std::optional<address> to_address(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf)) == nullptr) return std::nullopt;
    return address{buf, ntohs(in->sin_port)};
  }
  if (sa->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      in_addr v4{};
      std::memcpy(&v4, in6->sin6_addr.s6_addr + 12, sizeof(v4));
      if (inet_ntop(AF_INET, &v4, buf, sizeof(buf)) == nullptr) return std::nullopt;
    } else if (inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf)) == nullptr) {
      return std::nullopt;
    }
    return address{buf, ntohs(in6->sin6_port)};
  }
  return std::nullopt;
}

/// The remote (`peer`) or local address of socket `fd`.
std::optional<address> socket_address(int fd, bool peer) {
  if (fd < 0) return std::nullopt;
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  if ((peer ? getpeername(fd, sa, &len) : getsockname(fd, sa, &len)) != 0) return std::nullopt;
  return to_address(sa);
}

bool is_loopback(const std::string& ip) {
  return ip == "::1" || ip.rfind("127.", 0) == 0;
}

/// All addresses `host` stands for, canonical; `numeric_only` refuses names.
std::vector<std::string> resolve(const std::string& host, bool numeric_only) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = numeric_only ? AI_NUMERICHOST : 0;
  addrinfo* res = nullptr;
  std::vector<std::string> out;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) return out;
  for (auto* p = res; p != nullptr; p = p->ai_next) {
    if (auto a = to_address(p->ai_addr);
        a && std::find(out.begin(), out.end(), a->first) == out.end())
      out.push_back(a->first);
  }
  freeaddrinfo(res);
  return out;
}

std::shared_ptr<const compiled_policy> compile(peer_policy policy) {
  auto out = std::make_shared<compiled_policy>();
  out->self = std::move(policy.self);
  out->members = std::move(policy.members);
  for (auto& [ep, name] : policy.endpoints) {
    auto ips = resolve(ep.first, true);
    if (ips.empty()) {
      out->named_hosts.emplace_back(ep, name);
      ips = resolve(ep.first, false);
      if (ips.empty())
        monitoring::log(monitoring::log_component::cluster)
            .debug("cluster TLS: host '{}' of member '{}' does not resolve (yet)", ep.first, name);
    }
    for (auto& ip : ips) out->by_address[{ip, ep.second}] = name;
  }
  return out;
}

/// The member configured at `remote`, resolving host names again on a miss.
std::optional<std::string> expected_member(const compiled_policy& pol, const address& remote) {
  if (auto i = pol.by_address.find(remote); i != pol.by_address.end()) return i->second;
  for (auto& [ep, name] : pol.named_hosts) {
    if (ep.second != remote.second) continue;
    auto ips = resolve(ep.first, false);
    if (std::find(ips.begin(), ips.end(), remote.first) != ips.end()) return name;
  }
  return std::nullopt;
}

// --- certificates -------------------------------------------------------------

std::vector<std::string> names_of(X509* cert) {
  std::vector<std::string> out;
  auto add = [&out](const unsigned char* data, int len) {
    if (data == nullptr || len <= 0) return;
    std::string name(reinterpret_cast<const char*>(data), static_cast<std::size_t>(len));
    if (name.find('\0') != std::string::npos) return;  // embedded NUL: never a valid name
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  };
  if (cert == nullptr) return out;
  X509_NAME* subject = X509_get_subject_name(cert);
  for (int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) {
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
    if (len >= 0) add(utf8, len);
    OPENSSL_free(utf8);
  }
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type == GEN_DNS)
        add(ASN1_STRING_get0_data(gn->d.dNSName), ASN1_STRING_length(gn->d.dNSName));
    }
    GENERAL_NAMES_free(sans);
  }
  return out;
}

std::vector<std::string> peer_names(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  auto out = names_of(cert);
  X509_free(cert);
  return out;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out.empty() ? "no name" : out;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

/// Pushes the error that makes CAF's SSL_get_error report SSL_ERROR_SSL.
void raise_refusal(const std::string& why) {
  ERR_raise_data(ERR_LIB_SSL, SSL_R_CERTIFICATE_VERIFY_FAILED, "cluster peer name check: %s",
                 why.c_str());
}

/// Counts and logs a refusal and leaves an SSL-library error on the queue,
/// so that CAF's SSL_get_error sees SSL_ERROR_SSL and closes the connection.
int refuse(const std::string& why) {
  state().refusals.fetch_add(1, std::memory_order_relaxed);
  monitoring::log(monitoring::log_component::cluster)
      .warn("cluster TLS: refused connection: {}", why);
  raise_refusal(why);
  return -1;
}

/// The verdict on a connection is kept in the SSL object's ex_data: CAF may
/// call SSL_connect/SSL_accept again after the handshake completed (a read
/// and a write event), and each connection must be checked, counted and
/// recorded once.
const char verdict_accepted = 'a';
const char verdict_refused = 'r';

int verdict_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

/// Runs `check` once per SSL object; later calls repeat its result.
template <class Check>
int checked_once(SSL* ssl, Check check) {
  auto index = verdict_index();
  if (index < 0) return check(ssl);
  auto* verdict = static_cast<const char*>(SSL_get_ex_data(ssl, index));
  if (verdict == &verdict_accepted) return 1;
  if (verdict == &verdict_refused) {
    raise_refusal("connection already refused");
    return -1;
  }
  int ret = check(ssl);
  SSL_set_ex_data(ssl, index, const_cast<char*>(ret == 1 ? &verdict_accepted : &verdict_refused));
  return ret;
}

/// Checks a completed client handshake; returns 1 or refuse()'s -1.
int check_dialed(SSL* ssl) {
  auto pol = current_policy();
  if (!pol) return 1;
  auto remote = socket_address(SSL_get_fd(ssl), true);
  if (!remote) {
    // The peer closed the connection already (with TLS 1.3 a server that
    // refuses our certificate does so after our handshake completed): the
    // connection fails, but no name check refused it, so no refusal counts.
    raise_refusal("the peer closed the connection during the handshake");
    return -1;
  }
  if (is_loopback(remote->first) && is_self_test_port(remote->second)) return 1;
  auto endpoint = remote->first + ":" + std::to_string(remote->second);
  auto expected = expected_member(*pol, *remote);
  if (!expected) return refuse("dialled " + endpoint + ", which is no member's cluster endpoint");
  auto names = peer_names(ssl);
  if (!contains(names, *expected))
    return refuse("dialled member '" + *expected + "' at " + endpoint +
                  " but its certificate presents " + join(names));
  return 1;
}

/// Checks a completed server handshake and records the peer's member names.
int check_accepted(SSL* ssl) {
  auto pol = current_policy();
  if (!pol) return 1;
  auto local = socket_address(SSL_get_fd(ssl), false);
  if (local && is_loopback(local->first) && is_self_test_port(local->second)) return 1;
  auto names = peer_names(ssl);
  std::vector<std::string> peers;
  for (auto& n : names)
    if (n != pol->self && pol->members.count(n) > 0) peers.push_back(n);
  if (peers.empty()) {
    auto remote = socket_address(SSL_get_fd(ssl), true);
    auto from = remote ? remote->first + ":" + std::to_string(remote->second) : std::string{"?"};
    return refuse("accepted a connection from " + from + " whose certificate presents " +
                  join(names) + ", expected a member other than '" + pol->self + "'");
  }
  auto& s = state();
  std::lock_guard<std::mutex> guard{s.mtx};
  for (auto& p : peers) {
    auto& count = s.accepted[p];
    count = std::min(count + 1, max_unclaimed_per_name);
  }
  return 1;
}

/// Whether the wrapper's caller (its return address) is libcaf_openssl: the
/// name check applies to cluster links only, not to other TLS users in the
/// process (an HTTPS client through Boost.Asio also calls SSL_connect).
bool from_caf_openssl(const void* caller) {
  Dl_info info{};
  if (caller == nullptr || dladdr(caller, &info) == 0 || info.dli_fname == nullptr) return false;
  return std::strstr(info.dli_fname, "libcaf_openssl") != nullptr;
}

void maybe_clear_errors() {
  if (state().clear_errors.load(std::memory_order_relaxed)) ERR_clear_error();
}

template <class F>
F next_symbol(const char* name) {
  void* p = dlsym(RTLD_NEXT, name);
  if (p == nullptr) {
    monitoring::log(monitoring::log_component::cluster)
        .critical("cluster TLS: dlsym(RTLD_NEXT, {}) found nothing", name);
    std::abort();
  }
  return reinterpret_cast<F>(p);
}

// --- self-test ----------------------------------------------------------------

caf::error self_test_error(const std::string& what) {
  return caf::make_error(caf::sec::runtime_error, "TLS self-test: " + what);
}

/// Drains the thread's OpenSSL error queue into one line.
std::string drain_ssl_errors() {
  std::string out;
  while (auto code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    out += (out.empty() ? "" : "; ") + std::string{buf};
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

/// Loads the files as caf::openssl will and checks the chain, so that a bad
/// file is reported by name instead of as an exception inside CAF.
caf::error check_files(const std::string& ca, const std::string& cert, const std::string& key) {
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{SSL_CTX_new(TLS_method()), &SSL_CTX_free};
  if (!ctx) return self_test_error("cannot create an OpenSSL context: " + drain_ssl_errors());
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()) != 1)
    return self_test_error("cannot load certificate '" + cert + "': " + drain_ssl_errors());
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1)
    return self_test_error("cannot load private key '" + key + "': " + drain_ssl_errors());
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return self_test_error("private key '" + key + "' does not match certificate '" + cert + "'");
  if (SSL_CTX_load_verify_locations(ctx.get(), ca.c_str(), nullptr) != 1)
    return self_test_error("cannot load CA file '" + ca + "': " + drain_ssl_errors());
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx.get(), &chain);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> verify{X509_STORE_CTX_new(),
                                                                         &X509_STORE_CTX_free};
  if (!verify || X509_STORE_CTX_init(verify.get(), SSL_CTX_get_cert_store(ctx.get()),
                                     SSL_CTX_get0_certificate(ctx.get()), chain) != 1)
    return self_test_error("cannot set up certificate verification: " + drain_ssl_errors());
  if (X509_verify_cert(verify.get()) != 1) {
    auto reason = X509_verify_cert_error_string(X509_STORE_CTX_get_error(verify.get()));
    ERR_clear_error();
    return self_test_error("certificate '" + cert + "' does not verify against CA '" + ca +
                           "': " + reason);
  }
  return caf::none;
}

void configure_tls(caf::actor_system_config& cfg, const std::string& ca, const std::string& cert,
                   const std::string& key) {
  cfg.load<caf::io::middleman>();
  cfg.load<caf::openssl::manager>();
  cfg.set("scheduler.max-threads", 1);
  cfg.openssl_cafile = ca;
  cfg.openssl_certificate = cert;
  cfg.openssl_key = key;
}

/// Registers loopback ports whose connections skip the peer-name check.
class self_test_ports {
 public:
  self_test_ports() = default;
  self_test_ports(const self_test_ports&) = delete;
  self_test_ports& operator=(const self_test_ports&) = delete;
  ~self_test_ports() {
    auto& s = state();
    std::lock_guard<std::mutex> guard{s.mtx};
    for (auto p : ports_) s.self_test_ports.erase(s.self_test_ports.find(p));
  }
  void add(std::uint16_t port) {
    auto& s = state();
    std::lock_guard<std::mutex> guard{s.mtx};
    s.self_test_ports.insert(port);
    ports_.push_back(port);
  }

 private:
  std::vector<std::uint16_t> ports_;
};

/// Connects twice to `echo` (published on two ports) and makes the round
/// trips over the first connection.
caf::error exercise(caf::actor_system& server, caf::actor_system& client, const caf::actor& echo,
                    self_test_ports& bypass, std::chrono::milliseconds timeout) {
  constexpr int round_trips = 20;
  std::uint16_t ports[2] = {};
  for (auto& port : ports) {
    auto p = caf::openssl::publish(echo, 0, "127.0.0.1", true);
    if (!p) return self_test_error("cannot publish on 127.0.0.1: " + server.render(p.error()));
    port = *p;
    bypass.add(port);
  }
  auto first = caf::openssl::remote_actor(client, "127.0.0.1", ports[0]);
  if (!first)
    return self_test_error("cannot connect over TLS to 127.0.0.1:" + std::to_string(ports[0]) +
                           ": " + client.render(first.error()));
  // BASP finds this connection redundant (same node) and closes it; without
  // the error-queue fix, that close makes the server drop the first one.
  auto second = caf::openssl::remote_actor(client, "127.0.0.1", ports[1]);
  if (!second)
    monitoring::log(monitoring::log_component::cluster)
        .debug("TLS self-test: second connection: {}", client.render(second.error()));
  caf::scoped_actor self{client, true};
  for (int i = 0; i < round_trips; ++i) {
    caf::error failure;
    bool ok = false;
    self->request(*first, timeout, std::int32_t{i})
        .receive([&](std::int32_t x) { ok = x == i; },
                 [&](caf::error& err) { failure = std::move(err); });
    if (!ok)
      return self_test_error(
          "round trip " + std::to_string(i + 1) + " of " + std::to_string(round_trips) +
          " over the first connection failed (" +
          (failure ? client.render(failure) : std::string{"wrong answer"}) +
          ") after a second connection closed: the SSL_* interposition is not in effect");
  }
  return caf::none;
}

caf::error run_round_trips(const std::string& ca, const std::string& cert, const std::string& key,
                           std::chrono::milliseconds timeout) {
  self_test_ports bypass;  // outlives both systems, so no handshake misses it
  caf::actor_system_config server_cfg;
  configure_tls(server_cfg, ca, cert, key);
  caf::actor_system server{server_cfg};
  caf::actor_system_config client_cfg;
  configure_tls(client_cfg, ca, cert, key);
  caf::actor_system client{client_cfg};
  auto echo = server.spawn([]() -> caf::behavior { return {[](std::int32_t x) { return x; }}; });
  auto result = exercise(server, client, echo, bypass, timeout);
  // ~actor_system waits for every actor: stop the echo on every path.
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
  return result;
}

}  // namespace

bool installed() noexcept {
  return dlsym(RTLD_DEFAULT, "SSL_read") == reinterpret_cast<void*>(&::SSL_read) &&
         dlsym(RTLD_DEFAULT, "SSL_write") == reinterpret_cast<void*>(&::SSL_write) &&
         dlsym(RTLD_DEFAULT, "SSL_connect") == reinterpret_cast<void*>(&::SSL_connect) &&
         dlsym(RTLD_DEFAULT, "SSL_accept") == reinterpret_cast<void*>(&::SSL_accept);
}

void configure(peer_policy policy) {
  auto compiled = compile(std::move(policy));
  auto& s = state();
  std::lock_guard<std::mutex> guard{s.mtx};
  s.policy = std::move(compiled);
}

void clear() {
  auto& s = state();
  std::lock_guard<std::mutex> guard{s.mtx};
  s.policy.reset();
  s.accepted.clear();
}

bool claim_accepted_peer(const std::string& name) {
  auto& s = state();
  std::lock_guard<std::mutex> guard{s.mtx};
  auto i = s.accepted.find(name);
  if (i == s.accepted.end()) return false;
  if (--i->second == 0) s.accepted.erase(i);
  return true;
}

std::uint64_t refusals() noexcept {
  return state().refusals.load(std::memory_order_relaxed);
}

caf::expected<std::vector<std::string>> certificate_names(const std::string& pem_path) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio{BIO_new_file(pem_path.c_str(), "r"), &BIO_free};
  if (!bio) {
    ERR_clear_error();
    return caf::make_error(caf::sec::runtime_error, "cannot read certificate '" + pem_path + "'");
  }
  std::unique_ptr<X509, decltype(&X509_free)> cert{
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free};
  if (!cert)
    return caf::make_error(caf::sec::runtime_error,
                           "cannot parse certificate '" + pem_path + "': " + drain_ssl_errors());
  return names_of(cert.get());
}

caf::error self_test(const std::string& ca, const std::string& cert, const std::string& key,
                     std::chrono::milliseconds timeout) {
  if (!installed())
    return self_test_error(
        "the executable does not export SSL_read/SSL_write/SSL_connect/SSL_accept, so "
        "libcaf_openssl "
        "bypasses the error-queue fix (link opea_nodes and check `nm -D`)");
  if (auto err = check_files(ca, cert, key)) return err;
  try {
    return run_round_trips(ca, cert, key, timeout);
  } catch (const std::exception& e) {
    return self_test_error(std::string{"exception: "} + e.what());
  }
}

void set_error_clearing_for_testing(bool enabled) noexcept {
  state().clear_errors.store(enabled, std::memory_order_relaxed);
}

}  // namespace opea::nodes::tls_guard

// The interposed libssl entry points. libcaf_openssl binds to these because
// the executable defines and exports them; each empties the calling thread's
// error queue (so SSL_get_error judges this call alone) and forwards to
// libssl. SSL_connect/SSL_accept called by libcaf_openssl also check the
// peer's names once the handshake is complete.
extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static const auto real =
      opea::nodes::tls_guard::next_symbol<int (*)(SSL*, void*, int)>("SSL_read");
  opea::nodes::tls_guard::maybe_clear_errors();
  return real(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static const auto real =
      opea::nodes::tls_guard::next_symbol<int (*)(SSL*, const void*, int)>("SSL_write");
  opea::nodes::tls_guard::maybe_clear_errors();
  return real(ssl, buf, num);
}

int SSL_connect(SSL* ssl) {
  static const auto real = opea::nodes::tls_guard::next_symbol<int (*)(SSL*)>("SSL_connect");
  opea::nodes::tls_guard::maybe_clear_errors();
  int ret = real(ssl);
  if (ret != 1 || !opea::nodes::tls_guard::from_caf_openssl(__builtin_return_address(0)))
    return ret;
  return opea::nodes::tls_guard::checked_once(ssl, opea::nodes::tls_guard::check_dialed);
}

int SSL_accept(SSL* ssl) {
  static const auto real = opea::nodes::tls_guard::next_symbol<int (*)(SSL*)>("SSL_accept");
  opea::nodes::tls_guard::maybe_clear_errors();
  int ret = real(ssl);
  if (ret != 1 || !opea::nodes::tls_guard::from_caf_openssl(__builtin_return_address(0)))
    return ret;
  return opea::nodes::tls_guard::checked_once(ssl, opea::nodes::tls_guard::check_accepted);
}

}  // extern "C"
