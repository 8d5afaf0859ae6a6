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

/// One JSON object per log line.
std::string json_line(std::chrono::system_clock::time_point time, std::string_view level,
                      size_t thread, std::string_view message) {
  auto since = time.time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since - secs).count();
  std::time_t t = static_cast<std::time_t>(secs.count());
  std::tm utc{};
  gmtime_r(&t, &utc);
  char stamp[40];
  auto n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(stamp + n, sizeof stamp - n, ".%06ldZ", static_cast<long>(micros));
  nlohmann::ordered_json line{
      {"time", stamp}, {"level", level}, {"thread", thread}, {"message", std::string{message}}};
  // Invalid UTF-8 in a message is replaced, never thrown on.
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto level = spdlog::level::to_string_view(msg.level);
    auto line = json_line(msg.time, std::string_view{level.data(), level.size()}, msg.thread_id,
                          std::string_view{msg.payload.data(), msg.payload.size()});
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
  spdlog::set_default_logger(std::move(logger));
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
    if (!line.empty()) lines += json_line(now, "info", thread, line);
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
