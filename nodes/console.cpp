#include "nodes/console.hpp"

#include <cstdio>
#include <memory>
#include <mutex>

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

}  // namespace

void install_console_logger() {
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(previous->name(), console());
  logger->set_level(previous->level());
  logger->flush_on(previous->flush_level());
  spdlog::set_default_logger(std::move(logger));
}

void console_print(std::string_view text) {
  console()->print(text);
}

}  // namespace opea::nodes
