#include "tests/support/test_service.hpp"

#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <charconv>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "runtime/errors.hpp"
#include "runtime/http/error_body.hpp"
#include "runtime/http/server.hpp"

namespace opea::test {

namespace net = boost::asio;
namespace http = opea::runtime::http;
using json = nlohmann::json;
using writer_ptr = std::shared_ptr<http::response_writer>;

namespace {

std::optional<long> to_number(std::string_view s) {
  long value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

caf::error spec_error(std::string_view spec, std::string why) {
  return runtime::make_error(runtime::errc::bad_request, std::string{spec}, std::move(why));
}

void reply_error(const writer_ptr& w, int status, std::string message) {
  w->reply_json(status, http::error_body(status, std::move(message), "invalid_request_error"));
}

/// Parses the body as JSON; answers 400 and returns nullopt if it is not.
std::optional<json> parse_body(const std::string& body, const writer_ptr& w) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    reply_error(w, 400, "request body is not valid JSON");
    return std::nullopt;
  }
  return j;
}

std::string text_of(const json& j) {
  if (j.is_object()) {
    auto i = j.find("text");
    if (i != j.end() && i->is_string()) return i->get<std::string>();
  }
  return {};
}

}  // namespace

caf::expected<route_spec> route_spec::parse(std::string_view spec) {
  if (spec.empty() || spec.front() != '/')
    return spec_error(spec, "route spec must start with '/': PATH:BEHAVIOUR[:ARG]");
  auto colon = spec.find(':');
  if (colon == std::string_view::npos)
    return spec_error(spec, "missing behaviour: PATH:BEHAVIOUR[:ARG]");
  route_spec result;
  result.path = std::string{spec.substr(0, colon)};
  auto rest = spec.substr(colon + 1);
  auto colon2 = rest.find(':');
  result.behaviour = std::string{rest.substr(0, colon2)};
  bool has_arg = colon2 != std::string_view::npos;
  if (has_arg) result.arg = std::string{rest.substr(colon2 + 1)};
  auto& b = result.behaviour;
  auto need_number = [&](long lo, long hi) -> caf::error {
    auto n = to_number(result.arg);
    if (!has_arg || !n || *n < lo || *n > hi)
      return spec_error(spec, "behaviour '" + b + "' needs a number in [" + std::to_string(lo) +
                                  ", " + std::to_string(hi) + "]");
    return caf::error{};
  };
  if (b == "append") {
    if (!has_arg) return spec_error(spec, "behaviour 'append' needs the text to append");
  } else if (b == "status") {
    if (auto err = need_number(100, 599)) return err;
  } else if (b == "rendezvous") {
    if (auto err = need_number(1, 100000)) return err;
  } else if (b == "delay") {
    if (auto err = need_number(0, 3600000)) return err;
  } else if (b == "sse") {
    if (auto err = need_number(0, 1000000)) return err;
  } else if (b == "echo" || b == "blacklist" || b == "badjson" || b == "hang" || b == "drop") {
    if (has_arg) return spec_error(spec, "behaviour '" + b + "' takes no argument");
  } else {
    return spec_error(spec, "unknown behaviour '" + b +
                                "' (append, echo, blacklist, status, badjson, hang, drop, "
                                "rendezvous, delay, sse)");
  }
  return result;
}

struct test_service::impl {
  struct held {
    uint64_t id;
    writer_ptr writer;
    std::string text;
    std::string path;
    long n;
    std::unique_ptr<net::steady_timer> timer;
  };

  explicit impl(test_service_config c)
      : cfg(std::move(c)), srv(make_server_config(cfg)), guard(net::make_work_guard(timers)) {}

  static http::server_config make_server_config(const test_service_config& c) {
    http::server_config sc;
    sc.host = c.host;
    sc.port = c.port;
    sc.io_threads = c.io_threads;
    return sc;
  }

  void install_routes() {
    srv.add_route("/stats", {"GET"}, [this](http::request&&, writer_ptr w) {
      w->reply_json(200, json{{"requests", requests.load()},
                              {"connections", srv.connections_accepted()},
                              {"in_flight", in_flight.load()},
                              {"max_in_flight", max_in_flight.load()}});
    });
    for (auto& spec : cfg.routes) {
      srv.add_route(spec.path, {"POST"}, [this, spec](http::request&& req, writer_ptr w) {
        requests.fetch_add(1);
        handle(spec, std::move(req), std::move(w));
      });
    }
  }

  void handle(const route_spec& spec, http::request&& req, writer_ptr w) {
    auto& b = spec.behaviour;
    if (b == "status") {
      auto code = static_cast<int>(*to_number(spec.arg));
      w->reply_json(code, http::error_body(code, "configured status " + spec.arg, "test_error"));
      return;
    }
    if (b == "badjson") {
      w->reply(200, "application/json", "not json{");
      return;
    }
    if (b == "drop") {
      w->drop();
      return;
    }
    if (b == "hang") {
      // The connection keeps the writer alive until the client leaves.
      w->on_close([w] {});
      return;
    }
    auto input = parse_body(req.body, w);
    if (!input) return;
    if (b == "append") {
      w->reply_json(200, json{{"text", text_of(*input) + spec.arg}});
    } else if (b == "echo") {
      w->reply_json(200, *input);
    } else if (b == "blacklist") {
      auto text = text_of(*input) + "OPEA Project!";
      json black = json::array();
      if (text.find("Hi") != std::string::npos)
        black = json::array();
      else if (text.find("Bye") != std::string::npos)
        black = json::array({".*"});
      else
        black = json::array({"s2"});
      w->reply_json(200, json{{"text", text}, {"downstream_black_list", black}});
    } else if (b == "delay") {
      auto ms = *to_number(spec.arg);
      // Calls held at once, and the most ever held (GET /stats).
      auto now = in_flight.fetch_add(1) + 1;
      for (auto seen = max_in_flight.load(); now > seen && !max_in_flight.compare_exchange_weak(seen, now);) {
      }
      net::post(timers, [this, ms, w, body = std::move(*input)]() mutable {
        auto timer = std::make_shared<net::steady_timer>(timers);
        timer->expires_after(std::chrono::milliseconds{ms});
        timer->async_wait([this, timer, w, body = std::move(body)](boost::system::error_code) {
          in_flight.fetch_sub(1);
          w->reply_json(200, body);
        });
      });
    } else if (b == "rendezvous") {
      auto n = *to_number(spec.arg);
      net::post(timers, [this, n, w, path = spec.path, text = text_of(*input)]() mutable {
        rendezvous(n, std::move(w), std::move(path), std::move(text));
      });
    } else if (b == "sse") {
      auto n = *to_number(spec.arg);
      w->begin_stream(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
      for (long i = 0; i < n; ++i)
        w->write_chunk("data: {\"index\":" + std::to_string(i) + "}\n\n");
      w->write_chunk("data: [DONE]\n\n");
      w->end_stream();
    }
  }

  /// Runs on the timer thread, which owns `waiting`.
  void rendezvous(long n, writer_ptr w, std::string path, std::string text) {
    auto id = ++next_id;
    waiting.push_back(held{id, std::move(w), std::move(text), std::move(path), n, nullptr});
    if (static_cast<long>(waiting.size()) >= n) {
      auto batch = std::move(waiting);
      waiting.clear();
      for (auto& h : batch) {
        if (h.timer) h.timer->cancel();
        h.writer->reply_json(200, json{{"text", h.text + h.path}, {"waited", h.n}});
      }
      return;
    }
    auto& entry = waiting.back();
    entry.timer = std::make_unique<net::steady_timer>(timers);
    entry.timer->expires_after(std::chrono::seconds{5});
    entry.timer->async_wait([this, id](boost::system::error_code ec) {
      if (ec) return;
      for (auto i = waiting.begin(); i != waiting.end(); ++i) {
        if (i->id == id) {
          auto h = std::move(*i);
          waiting.erase(i);
          h.writer->reply_json(500, json{{"error", "rendezvous timeout"}});
          // The timer whose handler runs now dies after this handler.
          net::post(timers, [t = std::shared_ptr<net::steady_timer>(std::move(h.timer))] {});
          return;
        }
      }
    });
  }

  test_service_config cfg;
  http::server srv;
  net::io_context timers;
  net::executor_work_guard<net::io_context::executor_type> guard;
  std::thread timer_thread;
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> in_flight{0};
  std::atomic<uint64_t> max_in_flight{0};
  std::vector<held> waiting;
  uint64_t next_id = 0;
  bool running = false;
};

test_service::test_service(test_service_config cfg)
    : impl_(std::make_unique<impl>(std::move(cfg))) {}

test_service::~test_service() {
  stop();
}

caf::expected<uint16_t> test_service::start() {
  impl_->install_routes();
  auto port = impl_->srv.start();
  if (!port) return port;
  impl_->running = true;
  impl_->timer_thread = std::thread{[this] { impl_->timers.run(); }};
  return port;
}

void test_service::stop() {
  if (!impl_->running) return;
  impl_->running = false;
  impl_->srv.stop();
  impl_->guard.reset();
  impl_->timers.stop();
  impl_->timer_thread.join();
  impl_->waiting.clear();
}

uint16_t test_service::port() const {
  return impl_->srv.port();
}

uint64_t test_service::requests() const {
  return impl_->requests.load();
}

uint64_t test_service::connections() const {
  return impl_->srv.connections_accepted();
}

}  // namespace opea::test
