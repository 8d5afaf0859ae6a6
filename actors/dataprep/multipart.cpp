#include "actors/dataprep/multipart.hpp"

#include <cctype>
#include <optional>
#include <utility>

#include "runtime/errors.hpp"
#include "runtime/text/text.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::make_error;

namespace {

caf::error fail(std::string detail) {
  return make_error(errc::bad_request, "multipart", std::move(detail));
}

using text::lower;
/// Header values and parameters lose their blanks (HTTP's OWS), never CR/LF.
std::string_view trim(std::string_view s) {
  return text::trim_blanks(s);
}

/// Parses `value; key=val; key="quoted"` into the value and its parameters
/// (keys lower-cased). Returns nullopt on a malformed quoted string.
std::optional<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>
parse_header_value(std::string_view v) {
  std::vector<std::pair<std::string, std::string>> params;
  auto semi = v.find(';');
  std::string main = lower(trim(v.substr(0, semi)));
  size_t i = semi == std::string_view::npos ? v.size() : semi + 1;
  while (i < v.size()) {
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t' || v[i] == ';')) ++i;
    if (i >= v.size()) break;
    auto eq = v.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    auto key = lower(trim(v.substr(i, eq - i)));
    i = eq + 1;
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    std::string val;
    if (i < v.size() && v[i] == '"') {
      ++i;
      bool closed = false;
      while (i < v.size()) {
        char c = v[i++];
        if (c == '\\' && i < v.size()) {
          val.push_back(v[i++]);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          val.push_back(c);
        }
      }
      if (!closed) return std::nullopt;
    } else {
      auto end = v.find(';', i);
      if (end == std::string_view::npos) end = v.size();
      val = std::string{trim(v.substr(i, end - i))};
      i = end;
    }
    params.emplace_back(std::move(key), std::move(val));
  }
  return std::make_pair(std::move(main), std::move(params));
}

const std::string* param(const std::vector<std::pair<std::string, std::string>>& ps,
                         const char* key) {
  for (auto& [k, v] : ps)
    if (k == key) return &v;
  return nullptr;
}

}  // namespace

caf::expected<std::string> multipart_boundary(std::string_view content_type) {
  auto parsed = parse_header_value(content_type);
  if (!parsed) return fail("malformed Content-Type parameters");
  if (parsed->first != "multipart/form-data")
    return fail("Content-Type is not multipart/form-data (got '" + parsed->first + "')");
  auto b = param(parsed->second, "boundary");
  if (b == nullptr || b->empty()) return fail("missing boundary in Content-Type");
  if (b->size() > 70) return fail("boundary longer than 70 characters");
  return *b;
}

caf::expected<std::vector<form_part>> parse_multipart(std::string_view content_type,
                                                      std::string_view body,
                                                      const multipart_limits& limits) {
  auto boundary = multipart_boundary(content_type);
  if (!boundary) return std::move(boundary.error());
  const std::string dash = "--" + *boundary;
  const std::string delim = "\r\n" + dash;
  // The first delimiter is at the start or after a CRLF ending the preamble.
  size_t pos;
  if (body.substr(0, dash.size()) == dash) {
    pos = dash.size();
  } else {
    auto d = body.find(delim);
    if (d == std::string_view::npos) return fail("no opening delimiter '" + dash + "'");
    pos = d + delim.size();
  }
  std::vector<form_part> parts;
  for (size_t n = 1;; ++n) {
    auto part_no = "part " + std::to_string(n) + ": ";
    // After a delimiter: "--" closes the body, CRLF opens a part.
    if (body.substr(pos, 2) == "--") return parts;
    auto lws = pos;
    while (lws < body.size() && (body[lws] == ' ' || body[lws] == '\t')) ++lws;
    if (body.substr(lws, 2) != "\r\n") {
      if (lws >= body.size()) return fail("missing closing delimiter '" + dash + "--'");
      return fail(part_no + "delimiter not followed by CRLF");
    }
    if (parts.size() == limits.max_parts)
      return fail("too many parts (limit " + std::to_string(limits.max_parts) + ")");
    auto headers_begin = lws + 2;
    std::string_view headers;
    size_t body_begin;
    if (body.substr(headers_begin, 2) == "\r\n") {
      body_begin = headers_begin + 2;  // no header lines at all
    } else {
      auto headers_end = body.find("\r\n\r\n", headers_begin);
      auto size =
          (headers_end == std::string_view::npos ? body.size() : headers_end) - headers_begin;
      if (size > limits.max_header_bytes)
        return fail(part_no + "headers larger than " + std::to_string(limits.max_header_bytes) +
                    " bytes");
      if (headers_end == std::string_view::npos) return fail(part_no + "unterminated headers");
      headers = body.substr(headers_begin, size);
      body_begin = headers_end + 4;
    }
    form_part part;
    bool disposition = false;
    size_t hp = 0;
    while (hp < headers.size()) {
      auto eol = headers.find("\r\n", hp);
      if (eol == std::string_view::npos) eol = headers.size();
      auto line = headers.substr(hp, eol - hp);
      hp = eol + 2;
      auto colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0)
        return fail(part_no + "malformed header line");
      auto name = lower(trim(line.substr(0, colon)));
      auto value = trim(line.substr(colon + 1));
      if (name == "content-disposition") {
        auto parsed = parse_header_value(value);
        if (!parsed || parsed->first != "form-data")
          return fail(part_no + "Content-Disposition is not form-data");
        auto nm = param(parsed->second, "name");
        if (nm == nullptr) return fail(part_no + "Content-Disposition has no name");
        part.name = *nm;
        if (auto fn = param(parsed->second, "filename")) part.filename = *fn;
        disposition = true;
      } else if (name == "content-type") {
        part.content_type = std::string{value};
      }
    }
    if (!disposition) return fail(part_no + "missing Content-Disposition");
    auto end = body.find(delim, body_begin);
    if (end == std::string_view::npos)
      return fail(part_no + "unterminated part (no closing delimiter)");
    part.body = std::string{body.substr(body_begin, end - body_begin)};
    parts.push_back(std::move(part));
    pos = end + delim.size();
  }
}

}  // namespace opea::actors
