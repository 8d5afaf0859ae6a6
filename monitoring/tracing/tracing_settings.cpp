#include "monitoring/tracing/tracing_settings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string_view>

namespace opea::monitoring {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string r{s};
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

[[noreturn]] void fail(const char* name, std::string_view value, const std::string& problem) {
  throw tracing_config_error{std::string{name} + "=\"" + std::string{value} + "\": " + problem};
}

/// Reads variables through the caller's getenv; empty (or blank) = unset.
class environment {
 public:
  explicit environment(const getenv_function& getenv) : getenv_(getenv) {}

  std::optional<std::string> get(const char* name) const {
    const char* v = getenv_ ? getenv_(name) : nullptr;
    if (!v) return std::nullopt;
    auto t = trim(v);
    if (t.empty()) return std::nullopt;
    return std::string{t};
  }

 private:
  const getenv_function& getenv_;
};

std::optional<std::uint64_t> positive(std::string_view s) {
  std::uint64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size() || v == 0) return std::nullopt;
  return v;
}

/// A positive integer variable; `fallback` when unset.
std::uint64_t read_positive(const environment& env, const char* name, std::uint64_t fallback,
                            const char* unit) {
  auto v = env.get(name);
  if (!v) return fallback;
  auto n = positive(*v);
  if (!n || *n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    fail(name, *v, std::string{"not a positive integer ("} + unit + ")");
  return *n;
}

std::chrono::milliseconds read_ms(const environment& env, const char* name,
                                  std::chrono::milliseconds fallback) {
  return std::chrono::milliseconds{static_cast<std::int64_t>(
      read_positive(env, name, static_cast<std::uint64_t>(fallback.count()), "milliseconds"))};
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    int hi = i + 1 < s.size() ? hex_digit(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
    i += 2;
  }
  return out;
}

/// "key=value,key=value" (W3C Baggage's shape, as OTEL_RESOURCE_ATTRIBUTES and
/// OTEL_EXPORTER_OTLP_HEADERS use it): keys and values trimmed, values
/// percent-decoded, empty entries skipped. `secret`: the error names the
/// entry's position but never shows the value (headers carry credentials).
std::vector<std::pair<std::string, std::string>> read_pairs(const environment& env,
                                                            const char* name, bool secret) {
  std::vector<std::pair<std::string, std::string>> out;
  auto v = env.get(name);
  if (!v) return out;
  std::string_view rest = *v;
  std::size_t entry = 0;
  auto bad = [&](std::string_view item, const std::string& problem) {
    if (secret)
      throw tracing_config_error{std::string{name} + ": entry " + std::to_string(entry) + " " +
                                 problem + " (expected key=value,...; value not shown)"};
    fail(name, *v, "entry \"" + std::string{item} + "\" " + problem + " (expected key=value,...)");
  };
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    ++entry;
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string_view::npos) bad(item, "has no '='");
    auto key = trim(item.substr(0, eq));
    if (key.empty()) bad(item, "has an empty key");
    auto value = percent_decode(trim(item.substr(eq + 1)));
    if (!value) bad(item, "has a bad percent-escape");
    auto same = std::find_if(out.begin(), out.end(), [&](auto& p) { return p.first == key; });
    if (same != out.end())
      same->second = std::move(*value);
    else
      out.emplace_back(std::string{key}, std::move(*value));
  }
  return out;
}

bool http_url(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"})
    if (url.size() > scheme.size() && url.substr(0, scheme.size()) == scheme &&
        url[scheme.size()] != '/')
      return true;
  return false;
}

void check_protocol(const environment& env, const char* name) {
  auto v = env.get(name);
  if (!v || *v == "http/json") return;
  if (*v == "http/protobuf" || *v == "grpc")
    fail(name, *v, "not supported: opea-cpp exports OTLP/HTTP JSON only (set http/json)");
  fail(name, *v, "unknown protocol (expected http/json; http/protobuf and grpc are not supported)");
}

}  // namespace

tracing_settings tracing_settings::from_environment(const getenv_function& getenv) {
  environment env{getenv};
  tracing_settings s;

  if (auto v = env.get("OTEL_SDK_DISABLED")) {
    auto l = lower(*v);
    if (l == "true")
      s.sdk_disabled = true;
    else if (l != "false")
      fail("OTEL_SDK_DISABLED", *v, "expected true or false");
  }
  if (s.sdk_disabled) return s;

  if (auto v = env.get("OTEL_TRACES_EXPORTER")) {
    if (*v == "none")
      s.exporter_none = true;
    else if (*v != "otlp")
      fail("OTEL_TRACES_EXPORTER", *v, "unsupported exporter (expected otlp or none)");
  }

  s.resource_attributes = read_pairs(env, "OTEL_RESOURCE_ATTRIBUTES", false);
  auto named = std::find_if(s.resource_attributes.begin(), s.resource_attributes.end(),
                            [](auto& p) { return p.first == "service.name"; });
  if (named != s.resource_attributes.end()) {
    if (!named->second.empty()) s.service_name = named->second;
    s.resource_attributes.erase(named);
  }
  if (auto v = env.get("OTEL_SERVICE_NAME")) s.service_name = *v;

  auto kind = sampler::kind::parentbased_always_on;
  if (auto v = env.get("OTEL_TRACES_SAMPLER")) {
    auto k = sampler::kind_from_name(*v);
    if (!k)
      fail("OTEL_TRACES_SAMPLER", *v,
           "unknown or unsupported sampler (expected always_on, always_off, traceidratio, "
           "parentbased_always_on, parentbased_always_off or parentbased_traceidratio)");
    kind = *k;
  }
  double ratio = 1.0;
  if (kind == sampler::kind::traceidratio || kind == sampler::kind::parentbased_traceidratio) {
    if (auto v = env.get("OTEL_TRACES_SAMPLER_ARG")) {
      auto r = std::from_chars(v->data(), v->data() + v->size(), ratio);
      if (r.ec != std::errc{} || r.ptr != v->data() + v->size() || !(ratio >= 0 && ratio <= 1))
        fail("OTEL_TRACES_SAMPLER_ARG", *v, "not a sampling ratio (expected a number in [0, 1])");
    }
  }
  s.trace_sampler = sampler{kind, ratio};

  if (auto v = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
    if (!http_url(*v))
      fail("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", *v, "not an http:// or https:// URL");
    s.endpoint = *v;
  } else if (auto base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT")) {
    if (!http_url(*base))
      fail("OTEL_EXPORTER_OTLP_ENDPOINT", *base, "not an http:// or https:// URL");
    s.endpoint = *base + (base->back() == '/' ? "v1/traces" : "/v1/traces");
  }

  // The signal-specific variable wins; check the one that is in force.
  check_protocol(env, env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                          ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
                          : "OTEL_EXPORTER_OTLP_PROTOCOL");

  s.headers = read_pairs(env, "OTEL_EXPORTER_OTLP_HEADERS", true);
  for (auto& [key, value] : read_pairs(env, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", true)) {
    auto same = std::find_if(s.headers.begin(), s.headers.end(),
                             [&key = key](auto& p) { return p.first == key; });
    if (same != s.headers.end())
      same->second = std::move(value);
    else
      s.headers.emplace_back(key, std::move(value));
  }

  s.exporter_timeout = read_ms(env, "OTEL_EXPORTER_OTLP_TIMEOUT", s.exporter_timeout);
  s.exporter_timeout = read_ms(env, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", s.exporter_timeout);

  auto& b = s.batch;
  b.max_queue_size = read_positive(env, "OTEL_BSP_MAX_QUEUE_SIZE", b.max_queue_size, "spans");
  b.schedule_delay = read_ms(env, "OTEL_BSP_SCHEDULE_DELAY", b.schedule_delay);
  b.max_export_batch_size =
      read_positive(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", b.max_export_batch_size, "spans");
  b.export_timeout = read_ms(env, "OTEL_BSP_EXPORT_TIMEOUT", b.export_timeout);
  if (b.max_export_batch_size > b.max_queue_size)
    fail("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", std::to_string(b.max_export_batch_size),
         "larger than OTEL_BSP_MAX_QUEUE_SIZE (" + std::to_string(b.max_queue_size) + ")");
  return s;
}

tracing_settings tracing_settings::from_environment() {
  return from_environment([](const char* name) -> const char* { return std::getenv(name); });
}

}  // namespace opea::monitoring
