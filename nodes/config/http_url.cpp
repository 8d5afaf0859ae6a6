#include "nodes/config/http_url.hpp"

#include <cctype>

namespace opea::nodes {

namespace {

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

bool is_host_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '%' || c == '~';
}

}  // namespace

std::string http_url::to_string() const {
  std::string out = "http://";
  if (host.find(':') != std::string::npos) {
    out += '[' + host + ']';
  } else {
    out += host;
  }
  out += ':' + std::to_string(port) + path;
  return out;
}

std::optional<http_url> parse_http_url(std::string_view text) {
  constexpr std::string_view scheme = "http://";
  if (!iequals_prefix(text, scheme)) return std::nullopt;
  std::string_view rest = text.substr(scheme.size());
  for (char c : rest) {
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c)))
      return std::nullopt;
  }
  http_url url;
  // Authority ends at the first '/', '?' or '#'.
  std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no userinfo
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    url.host = std::string(authority.substr(1, close - 1));
    for (char c : url.host) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
        return std::nullopt;
    }
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port_text = after.substr(1);
      if (port_text.empty()) return std::nullopt;
    }
  } else {
    std::size_t colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (url.host.empty()) return std::nullopt;
    for (char c : url.host) {
      if (!is_host_char(c)) return std::nullopt;
    }
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return std::nullopt;
    }
  }
  if (!port_text.empty()) {
    if (port_text.size() > 5) return std::nullopt;
    unsigned value = 0;
    for (char c : port_text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return std::nullopt;
    url.port = static_cast<std::uint16_t>(value);
  }
  if (tail.empty()) {
    url.path = "/";
  } else if (tail.front() == '/') {
    url.path = std::string(tail);
  } else {
    url.path = '/' + std::string(tail);  // "http://h:1?q" -> "/?q"
  }
  return url;
}

}  // namespace opea::nodes
