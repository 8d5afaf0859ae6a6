#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

namespace opea::runtime {

/// An absolute `http://host[:port][/path][?query]` URL split into the parts a
/// request needs: the one URL type of the project (the config's service URLs,
/// `micro_service::endpoint_url`, the HTTP client, every remote backend).
struct url {
  /// Lower-case scheme; always "http" for a parsed URL.
  std::string scheme = "http";
  /// Host name or address; an IPv6 address is kept without its brackets.
  std::string host;
  /// TCP port. Default: 80 when the URL names none.
  uint16_t port = 80;
  /// Path plus query (never a fragment); always starts with '/'. Default: "/".
  std::string target = "/";

  /// Parses `text`, e.g. "http://tei:8080/embed?x=1" or "http://[::1]:9000/v1".
  /// The scheme is case-insensitive; a host is letters, digits and `-._~%`, or
  /// an IPv6 address in brackets; a port is 1..65535; a fragment is dropped.
  /// Never throws: fails with `errc::bad_request`, subject = `text`, detail a
  /// phrase that completes "URL "<text>" ...": "is not an http:// URL",
  /// "is not an http:// URL (https is not supported)", "has no host",
  /// "has an invalid host", "has an unterminated IPv6 address",
  /// "has user info (not supported)", "has an invalid port",
  /// "has an invalid character in its path".
  [[nodiscard]] static caf::expected<url> parse(std::string_view text);

  /// "host:port" ("[::1]:9000" for IPv6), the key of a connection pool.
  std::string authority() const;

  /// The canonical text, "http://host:port/target" (IPv6 hosts in brackets).
  std::string to_string() const;
};

}  // namespace opea::runtime
