#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace opea::nodes {

/// A parsed `http://host[:port][/path]` URL, the address of a remote microservice.
struct http_url {
  /// Host name or address; an IPv6 address is kept without its brackets.
  std::string host;
  /// TCP port. Default: 80 when the URL gives none.
  std::uint16_t port = 80;
  /// Path including any query string; always starts with '/'. Default: "/".
  std::string path = "/";

  /// The canonical text form, `http://host:port/path` (IPv6 hosts in brackets).
  [[nodiscard]] std::string to_string() const;
};

/// Parses `http://host[:port][/path]`. The scheme is case-insensitive; the port,
/// when present, must be 1..65535. Returns nullopt for anything else, including
/// `https://` (remote services are reached over plain HTTP).
[[nodiscard]] std::optional<http_url> parse_http_url(std::string_view text);

}  // namespace opea::nodes
