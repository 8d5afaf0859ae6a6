#include "monitoring/tracing/otlp_json.hpp"

#include <charconv>
#include <cmath>
#include <string_view>

namespace opea::monitoring {

namespace {

/// Length of the valid UTF-8 sequence starting at s[i] (a byte >= 0x80),
/// 0 if it is not one (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) -> unsigned {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u;
  };
  auto cont = [](unsigned b) { return b >= 0x80 && b <= 0xbf; };
  const unsigned c = at(0);
  if (c >= 0xc2 && c <= 0xdf) return cont(at(1)) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const unsigned lo = c == 0xe0 ? 0xa0 : 0x80;
    const unsigned hi = c == 0xed ? 0x9f : 0xbf;
    return at(1) >= lo && at(1) <= hi && cont(at(2)) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const unsigned lo = c == 0xf0 ? 0x90 : 0x80;
    const unsigned hi = c == 0xf4 ? 0x8f : 0xbf;
    return at(1) >= lo && at(1) <= hi && cont(at(2)) && cont(at(3)) ? 4 : 0;
  }
  return 0;
}

bool plain(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

void append_string(std::string& out, std::string_view s) {
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (plain(c)) {
      std::size_t j = i + 1;
      while (j < s.size() && plain(static_cast<unsigned char>(s[j]))) ++j;
      out.append(s.data() + i, j - i);
      i = j;
      continue;
    }
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default: {
          static constexpr char digits[] = "0123456789abcdef";
          const char esc[] = {'\\', 'u', '0', '0', digits[c >> 4], digits[c & 0x0f]};
          out.append(esc, sizeof esc);
        }
      }
      ++i;
      continue;
    }
    if (auto n = utf8_length(s, i)) {
      out.append(s.data() + i, n);
      i += n;
    } else {
      out += "\xef\xbf\xbd";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    }
  }
  out.push_back('"');
}

template <class Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

/// A 64-bit integer as proto3's JSON mapping writes it: a decimal string.
template <class Int>
void append_quoted_int(std::string& out, Int v) {
  out.push_back('"');
  append_int(out, v);
  out.push_back('"');
}

void append_double(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "\"NaN\"";
  } else if (std::isinf(v)) {
    out += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

template <std::size_t N>
void append_hex(std::string& out, const std::array<std::uint8_t, N>& bytes) {
  const auto at = out.size();
  out.resize(at + 2 * N + 2);
  out[at] = '"';
  write_hex(bytes.data(), N, out.data() + at + 1);
  out[at + 2 * N + 1] = '"';
}

void append_attributes(std::string& out, const std::vector<span_attribute>& attributes) {
  out += "\"attributes\":[";
  bool first = true;
  for (const auto& a : attributes) {
    if (!first) out.push_back(',');
    first = false;
    out += "{\"key\":";
    append_string(out, a.key);
    out += ",\"value\":{";
    switch (a.value.index()) {
      case 0:
        out += "\"stringValue\":";
        append_string(out, std::get<0>(a.value));
        break;
      case 1:
        out += "\"intValue\":";
        append_quoted_int(out, std::get<1>(a.value));
        break;
      case 2:
        out += "\"doubleValue\":";
        append_double(out, std::get<2>(a.value));
        break;
      case 3:
        out += std::get<3>(a.value) ? "\"boolValue\":true" : "\"boolValue\":false";
        break;
    }
    out += "}}";
  }
  out.push_back(']');
}

void append_span(std::string& out, const span_data& s) {
  out += "{\"traceId\":";
  append_hex(out, s.context.trace.bytes);
  out += ",\"spanId\":";
  append_hex(out, s.context.span.bytes);
  if (!s.context.state.empty()) {
    out += ",\"traceState\":";
    append_string(out, s.context.state);
  }
  if (s.parent.valid()) {
    out += ",\"parentSpanId\":";
    append_hex(out, s.parent.bytes);
  }
  out += ",\"flags\":";
  append_int(out, (s.context.flags & span_context::sampled_flag) | 0x100u |
                      (s.parent_remote ? 0x200u : 0u));
  out += ",\"name\":";
  append_string(out, s.name);
  out += ",\"kind\":";
  append_int(out, static_cast<int>(s.kind));
  out += ",\"startTimeUnixNano\":";
  append_quoted_int(out, s.start_unix_nano);
  out += ",\"endTimeUnixNano\":";
  append_quoted_int(out, s.end_unix_nano);
  if (!s.attributes.empty()) {
    out.push_back(',');
    append_attributes(out, s.attributes);
  }
  if (s.dropped_attributes > 0) {
    out += ",\"droppedAttributesCount\":";
    append_int(out, s.dropped_attributes);
  }
  if (s.status != status_code::unset) {
    out += ",\"status\":{\"code\":";
    append_int(out, static_cast<int>(s.status));
    if (!s.status_message.empty()) {
      out += ",\"message\":";
      append_string(out, s.status_message);
    }
    out.push_back('}');
  }
  out.push_back('}');
}

using span_iterator = std::vector<const span_data*>::const_iterator;

void append_resource_spans(std::string& out, const span_resource* resource, span_iterator first,
                           span_iterator last) {
  out += "{\"resource\":{";
  if (resource && !resource->attributes.empty()) append_attributes(out, resource->attributes);
  out += "},\"scopeSpans\":[{\"scope\":{";
  if (resource) {
    out += "\"name\":";
    append_string(out, resource->scope_name);
    if (!resource->scope_version.empty()) {
      out += ",\"version\":";
      append_string(out, resource->scope_version);
    }
  }
  out += "},\"spans\":[";
  bool first_span = true;
  for (auto it = first; it != last; ++it) {
    if ((*it)->resource.get() != resource) continue;
    if (!first_span) out.push_back(',');
    first_span = false;
    append_span(out, **it);
  }
  out += "]}]}";
}

}  // namespace

void append_otlp_json(std::string& out, const std::vector<const span_data*>& spans) {
  out += "{\"resourceSpans\":[";
  // Distinct resources in order of first appearance: one per tracer, so
  // almost always exactly one and this loop runs once.
  std::vector<const span_resource*> seen;
  for (auto it = spans.begin(); it != spans.end(); ++it) {
    const auto* r = (*it)->resource.get();
    bool known = false;
    for (auto* k : seen) known = known || k == r;
    if (known) continue;
    if (!seen.empty()) out.push_back(',');
    seen.push_back(r);
    append_resource_spans(out, r, it, spans.end());
  }
  out += "]}";
}

std::string encode_otlp_json(const std::vector<span_data>& spans) {
  std::vector<const span_data*> pointers;
  pointers.reserve(spans.size());
  for (const auto& s : spans) pointers.push_back(&s);
  std::string out;
  out.reserve(256 + spans.size() * 480);
  append_otlp_json(out, pointers);
  return out;
}

}  // namespace opea::monitoring
