#pragma once

// Test support shared by the llm tests: a fake OpenAI-compatible server on a
// real loopback HTTP server, and a stream sink that records what it gets.

#include <catch2/catch.hpp>

#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/http/server.hpp"
#include "runtime/service/stream_sink.hpp"

namespace opea::actors::test {

/// A request the fake server received.
struct seen_request {
  std::string authorization;
  nlohmann::json body;
};

/// Serves POST /v1/chat/completions on 127.0.0.1:<ephemeral>; `respond`
/// decides the answer of each request (it runs on the server's I/O thread).
class fake_openai_server {
 public:
  using responder = std::function<void(const nlohmann::json& body,
                                       std::shared_ptr<runtime::http::response_writer>)>;

  explicit fake_openai_server(responder respond) : srv_(config()) {
    srv_.add_route("/v1/chat/completions", {"POST"},
                   [this, respond](runtime::http::request&& req,
                                   std::shared_ptr<runtime::http::response_writer> w) {
                     auto body = nlohmann::json::parse(req.body, nullptr, false);
                     {
                       std::lock_guard<std::mutex> guard{mtx_};
                       seen_.push_back({req.header("authorization"), body});
                     }
                     respond(body, std::move(w));
                   });
    auto port = srv_.start();
    REQUIRE(port);
    base = "http://127.0.0.1:" + std::to_string(*port);
  }

  std::vector<seen_request> seen() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return seen_;
  }

  std::string base;

 private:
  static runtime::http::server_config config() {
    runtime::http::server_config cfg;
    cfg.host = "127.0.0.1";
    return cfg;
  }

  mutable std::mutex mtx_;
  std::vector<seen_request> seen_;
  runtime::http::server srv_;
};

/// One SSE event carrying a content delta, as vLLM sends it.
inline std::string delta_event(const std::string& content) {
  nlohmann::json j{
      {"id", "chatcmpl-1"},
      {"object", "chat.completion.chunk"},
      {"model", "fake-model"},
      {"choices", {{{"index", 0}, {"delta", {{"content", content}}}, {"finish_reason", nullptr}}}}};
  return "data: " + j.dump() + "\n\n";
}

/// Records every write, and "reply" entries the test adds, in one order.
class recording_sink : public runtime::stream_sink {
 public:
  /// When set, the sink cancels itself after this many writes.
  size_t cancel_after = 0;

  void write(std::string piece) override {
    bool cancel_now = false;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (cancelled()) return;
      record_.push_back("piece:" + piece);
      ++writes_;
      cancel_now = cancel_after != 0 && writes_ == cancel_after;
      if (first_piece_ && writes_ == 1) first_piece_->set_value();
    }
    if (cancel_now) cancel();
  }

  void note(std::string entry) {
    std::lock_guard<std::mutex> guard{mtx_};
    record_.push_back(std::move(entry));
  }

  std::vector<std::string> record() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return record_;
  }

  /// The pieces written, in order.
  std::vector<std::string> pieces() const {
    std::vector<std::string> out;
    for (const auto& r : record())
      if (r.rfind("piece:", 0) == 0) out.push_back(r.substr(6));
    return out;
  }

  /// Ready once the first piece was written.
  std::future<void> first_piece() {
    std::lock_guard<std::mutex> guard{mtx_};
    first_piece_ = std::make_unique<std::promise<void>>();
    return first_piece_->get_future();
  }

 private:
  mutable std::mutex mtx_;
  std::vector<std::string> record_;
  size_t writes_ = 0;
  std::unique_ptr<std::promise<void>> first_piece_;
};

}  // namespace opea::actors::test
