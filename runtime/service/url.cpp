#include "runtime/service/url.hpp"

#include <cctype>

#include "runtime/errors.hpp"

namespace opea::runtime {

namespace {

bool is_host_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '%' || c == '~';
}

bool is_ipv6_char(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
}

}  // namespace

caf::expected<url> url::parse(std::string_view text) {
  auto fail = [&](const char* why) {
    return make_error(errc::bad_request, std::string{text}, why);
  };
  auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) return fail("is not an http:// URL");
  url result;
  result.scheme.clear();
  for (auto c : text.substr(0, sep))
    result.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (result.scheme == "https") return fail("is not an http:// URL (https is not supported)");
  if (result.scheme != "http") return fail("is not an http:// URL");
  auto rest = text.substr(sep + 3);
  auto slash = rest.find_first_of("/?#");
  auto authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    auto target = rest.substr(slash);
    target = target.substr(0, target.find('#'));
    result.target = std::string{target};
    if (result.target.empty() || result.target.front() != '/') result.target.insert(0, 1, '/');
  }
  if (authority.find('@') != std::string_view::npos) return fail("has user info (not supported)");
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return fail("has an unterminated IPv6 address");
    result.host = std::string{authority.substr(1, close - 1)};
    if (result.host.empty()) return fail("has no host");
    for (auto c : result.host)
      if (!is_ipv6_char(c)) return fail("has an invalid host");
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("has an invalid host");
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    auto colon = authority.find(':');
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
    result.host = std::string{authority.substr(0, colon)};
    if (result.host.empty()) return fail("has no host");
    for (auto c : result.host)
      if (!is_host_char(c)) return fail("has an invalid host");
  }
  if (has_port) {
    if (port_text.empty() || port_text.size() > 5) return fail("has an invalid port");
    unsigned value = 0;
    for (auto c : port_text) {
      if (c < '0' || c > '9') return fail("has an invalid port");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return fail("has an invalid port");
    result.port = static_cast<uint16_t>(value);
  }
  for (auto c : result.target)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
      return fail("has an invalid character in its path");
  return result;
}

std::string url::authority() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string url::to_string() const {
  return scheme + "://" + authority() + target;
}

}  // namespace opea::runtime
