#include "nodes/console.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include <spdlog/details/os.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "monitoring/log.hpp"

namespace opea::nodes {

namespace {

/// A line-at-a-time stdout sink whose lock `console_print` shares.
class console_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void print(std::string_view text) {
    std::lock_guard<std::mutex> guard{mutex_};
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    std::fwrite(line.data(), 1, line.size(), stdout);
    // Log lines are read as they come (by operators tailing a pipe and by
    // the integration tests): stdout is not line-buffered on a pipe.
    std::fflush(stdout);
  }
  void flush_() override { std::fflush(stdout); }
};

std::shared_ptr<console_sink>& console() {
  static auto sink = std::make_shared<console_sink>();
  return sink;
}

std::atomic<bool> json_lines{false};

/// The fields a log line about a request ends with (monitoring/log.hpp):
/// ` request_id=ID trace_id=ID`, each optional, in that order.
struct request_fields {
  std::string_view message;
  std::string_view request_id;
  std::string_view trace_id;
};

/// Splits the trailing ` trace_id=...` and ` request_id=...` off `message`.
request_fields split_request_fields(std::string_view message) {
  request_fields out{message, {}, {}};
  auto take = [&](std::string_view key, std::string_view& value) {
    auto space = out.message.rfind(' ');
    if (space == std::string_view::npos) return;
    auto token = out.message.substr(space + 1);
    if (token.substr(0, key.size()) != key) return;
    value = token.substr(key.size());
    out.message = out.message.substr(0, space);
  };
  take("trace_id=", out.trace_id);
  take("request_id=", out.request_id);
  return out;
}

/// One JSON object per log line.
std::string json_line(std::chrono::system_clock::time_point time, std::string_view level,
                      std::string_view component, size_t thread, std::string_view message) {
  auto since = time.time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since - secs).count();
  std::time_t t = static_cast<std::time_t>(secs.count());
  std::tm utc{};
  gmtime_r(&t, &utc);
  char stamp[40];
  auto n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(stamp + n, sizeof stamp - n, ".%06ldZ", static_cast<long>(micros));
  auto fields = split_request_fields(message);
  nlohmann::ordered_json line{{"time", stamp},
                              {"level", level},
                              {"component", component},
                              {"thread", thread},
                              {"message", std::string{fields.message}}};
  // "-" stands for "none" in text lines: no field.
  if (!fields.request_id.empty() && fields.request_id != "-")
    line["request_id"] = std::string{fields.request_id};
  if (!fields.trace_id.empty() && fields.trace_id != "-")
    line["trace_id"] = std::string{fields.trace_id};
  // Invalid UTF-8 in a message is replaced, never thrown on.
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto level = spdlog::level::to_string_view(msg.level);
    // The default logger (no name) is the node's own.
    std::string_view component{msg.logger_name.data(), msg.logger_name.size()};
    if (component.empty()) component = "node";
    auto line = json_line(msg.time, std::string_view{level.data(), level.size()}, component,
                          msg.thread_id, std::string_view{msg.payload.data(), msg.payload.size()});
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }
};

}  // namespace

void install_console_logger() {
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(previous->name(), console());
  logger->set_level(previous->level());
  logger->flush_on(previous->flush_level());
  spdlog::set_default_logger(logger);
  monitoring::use_log_sinks(logger->sinks());
}

void console_print(std::string_view text) {
  if (!json_lines) {
    console()->print(text);
    return;
  }
  std::string lines;
  auto now = std::chrono::system_clock::now();
  size_t thread = spdlog::details::os::thread_id();
  while (!text.empty()) {
    auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    if (!line.empty()) lines += json_line(now, "info", "node", thread, line);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
  }
  console()->print(lines);
}

void use_json_logs(bool on) {
  json_lines = on;
  if (on)
    spdlog::default_logger()->set_formatter(std::make_unique<json_formatter>());
  else
    spdlog::default_logger()->set_formatter(std::make_unique<spdlog::pattern_formatter>());
}

}  // namespace opea::nodes
