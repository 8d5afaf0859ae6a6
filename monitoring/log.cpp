#include "monitoring/log.hpp"

#include <algorithm>
#include <cctype>
#include <memory>

#include <spdlog/spdlog.h>

namespace opea::monitoring {

namespace {

using logger_array = std::array<std::shared_ptr<spdlog::logger>, log_component_names.size()>;

/// The component loggers, made on first use from the default logger.
logger_array& loggers() {
  static logger_array all = [] {
    logger_array out;
    auto base = spdlog::default_logger();
    for (size_t i = 0; i < out.size(); ++i) {
      std::string name{log_component_names[i]};
      // A logger of that name already registered (a test made it) is reused.
      auto logger = spdlog::get(name);
      if (!logger) {
        logger = std::make_shared<spdlog::logger>(name, base->sinks().begin(), base->sinks().end());
        logger->set_level(base->level());
        logger->flush_on(base->flush_level());
        spdlog::register_logger(logger);
      }
      out[i] = std::move(logger);
    }
    return out;
  }();
  return all;
}

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool secret_name(std::string_view raw) {
  static constexpr std::array<std::string_view, 12> words = {
      "key",    "apikey", "token",     "auth", "authorization", "password",
      "passwd", "secret", "signature", "sig",  "credential",    "credentials"};
  auto name = lower(raw);
  auto sep = name.find_last_of("_-");
  std::string_view last =
      sep == std::string::npos ? std::string_view{name} : std::string_view{name}.substr(sep + 1);
  return std::find(words.begin(), words.end(), last) != words.end();
}

}  // namespace

std::string_view to_string(log_component c) {
  return log_component_names[static_cast<size_t>(c)];
}

std::optional<log_component> parse_log_component(std::string_view name) {
  for (size_t i = 0; i < log_component_names.size(); ++i)
    if (log_component_names[i] == name) return static_cast<log_component>(i);
  return std::nullopt;
}

spdlog::logger& log(log_component c) {
  return *loggers()[static_cast<size_t>(c)];
}

void set_log_level(log_component c, spdlog::level::level_enum level) {
  log(c).set_level(level);
}

void use_log_sinks(const std::vector<spdlog::sink_ptr>& sinks) {
  for (auto& logger : loggers()) logger->sinks() = sinks;
}

std::string_view trace_id_of(std::string_view traceparent) {
  if (traceparent.size() == 55 && traceparent[2] == '-' && traceparent[35] == '-')
    return traceparent.substr(3, 32);
  return "-";
}

std::string redact_target(std::string_view target) {
  constexpr std::string_view redacted = "REDACTED";
  std::string out;
  out.reserve(target.size());
  // URL credentials: scheme://userinfo@host...
  if (auto scheme = target.find("://"); scheme != std::string_view::npos) {
    auto authority = scheme + 3;
    auto end = target.find_first_of("/?#", authority);
    auto at =
        target.substr(authority, end == std::string_view::npos ? end : end - authority).rfind('@');
    out.append(target.substr(0, authority));
    if (at != std::string_view::npos) {
      out.append(redacted);
      target.remove_prefix(authority + at);
    } else {
      target.remove_prefix(authority);
    }
  }
  auto q = target.find('?');
  if (q == std::string_view::npos) {
    out.append(target);
    return out;
  }
  out.append(target.substr(0, q + 1));
  auto query = target.substr(q + 1);
  auto hash = query.find('#');
  auto fragment = hash == std::string_view::npos ? std::string_view{} : query.substr(hash);
  query = query.substr(0, hash);
  bool first = true;
  while (true) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    if (!first) out += '&';
    first = false;
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && secret_name(pair.substr(0, eq))) {
      out.append(pair.substr(0, eq + 1));
      out.append(redacted);
    } else {
      out.append(pair);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  out.append(fragment);
  return out;
}

}  // namespace opea::monitoring
