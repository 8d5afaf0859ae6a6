#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

/// Makes CAF 0.17.6's TLS transport (caf::openssl) fit for a cluster:
///
/// 1. **Error-queue fix.** This file's .cpp defines `SSL_read`, `SSL_write`,
///    `SSL_connect` and `SSL_accept`. Linked into the executable, they take
///    the place of libssl's for libcaf_openssl (ELF symbol interposition),
///    empty OpenSSL's per-thread error queue, then call libssl's function.
///    Without this, one TLS connection closing (or a stray TCP connect to the
///    TLS port) makes CAF drop every other TLS connection of the node; see
///    /work/shared/notes/caf-openssl-multiconn.md. Call `installed()` from
///    the node so the object file is linked at all (opea_nodes is a static
///    library) and to check that the override took effect.
/// 2. **Peer names.** caf::openssl accepts any certificate signed by the CA.
///    With a `peer_policy` configured, the wrappers also check the names in
///    the peer's certificate (subject CN and DNS subjectAltNames): the
///    dialling side wants the member configured at the address it dialled,
///    the accepting side wants any member other than itself, and records it
///    for `claim_accepted_peer`. Only handshakes that libcaf_openssl performs
///    are checked (the wrapper looks at its caller); other TLS users in the
///    process, such as an HTTPS client, get the error-queue fix only.
///
/// Everything here is process-wide and thread-safe: the policy is an
/// immutable snapshot swapped under a mutex; accepted names sit in a
/// mutex-protected multiset; the refusal count is atomic. The wrappers run on
/// CAF's multiplexer thread and on its middleman actor's thread.
///
/// Works only with dynamic linking on ELF/glibc, with this code in the
/// executable (not in a shared library loaded with RTLD_LOCAL).
namespace opea::nodes::tls_guard {

/// Who may be at the other end of a cluster TLS link.
struct peer_policy {
  /// This node's member name. Accepted connections presenting only this name
  /// are refused (no member dials itself).
  std::string self;
  /// Every member name, `self` included.
  std::set<std::string> members;
  /// (host, port) of each member's cluster endpoint -> the member's name,
  /// for the dialling side: a connection to that address must present that
  /// name. Hosts may be IPv4/IPv6 literals or host names; `configure`
  /// resolves names (all addresses) and normalises literals (IPv4-mapped
  /// IPv6 becomes IPv4). A dialled address found nowhere is refused.
  std::map<std::pair<std::string, std::uint16_t>, std::string> endpoints;
};

/// True when libcaf_openssl's calls to `SSL_read` and friends reach this
/// module's wrappers, i.e. the executable exports them (`nm -D <binary>`
/// shows ` T SSL_read`). Call it once at start-up and refuse to run TLS when
/// it is false.
[[nodiscard]] bool installed() noexcept;

/// Sets the peer policy for every TLS handshake completing from now on
/// (connections already established are not re-checked). Call before the
/// middleman opens or dials cluster links. May block on DNS for host names
/// in `policy.endpoints`; a name that does not resolve now is resolved again
/// when a connection to an unknown address completes.
void configure(peer_policy policy);

/// Removes the policy: only the error-queue fix applies (the state before the
/// first `configure`). Also forgets unclaimed accepted peers.
void clear();

/// Removes one recorded occurrence of `name` from the peers whose
/// certificates the accepting side verified, and returns whether there was
/// one. The membership code calls it with the name a dialling peer declares
/// in its hello, binding that name to a verified certificate. At most 16
/// unclaimed occurrences are kept per name (older ones are dropped).
[[nodiscard]] bool claim_accepted_peer(const std::string& name);

/// Connections refused by the peer-name check since the process started
/// (both sides). Never decreases; `clear` does not reset it.
[[nodiscard]] std::uint64_t refusals() noexcept;

/// The names a PEM certificate file presents: its subject CN(s), then its
/// DNS subjectAltNames, without duplicates. Error: the file cannot be read
/// or parsed.
[[nodiscard]] caf::expected<std::vector<std::string>> certificate_names(
    const std::string& pem_path);

/// Start-up check that TLS cluster links work in this process: checks that
/// the files load, that the key matches the certificate and that the
/// certificate chains to the CA; then, in two throw-away actor systems with
/// caf::openssl and these files, publishes an echo actor on two loopback
/// ports, connects to both (BASP closes the second, redundant connection,
/// which without the error-queue fix kills the first) and makes 20 round
/// trips over the first, each within `timeout`. The peer policy does not
/// apply to these connections. Takes about 50 ms when it passes.
///
/// Returns a `caf::sec::runtime_error` whose context names the file or the
/// failed step, e.g. "TLS self-test: round trip 1 of 20 over the first
/// connection failed (request_timeout) after a second connection closed: the
/// SSL_* interposition is not in effect".
[[nodiscard]] caf::error self_test(const std::string& ca, const std::string& cert,
                                   const std::string& key,
                                   std::chrono::milliseconds timeout = std::chrono::seconds{2});

/// For tests only: false turns the error-queue fix off (the wrappers then
/// only forward and check names), to show what breaks without it. Default:
/// true.
void set_error_clearing_for_testing(bool enabled) noexcept;

}  // namespace opea::nodes::tls_guard
