#pragma once

// An HTTP upstream in the test process that holds requests unanswered, and
// raw clients that can leave mid-request: for tests of clients that leave and
// of what the node closes upstream.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "runtime/http/server.hpp"

namespace opea::itest {

/// An HTTP server in this process whose POST route `path` holds every
/// request that `answer` (when set) does not answer itself (it returns true
/// when it did): `first` (when set) starts the held answer, then the writer is
/// kept. Counts the requests held and those whose connection the node closed.
class holding_upstream {
 public:
  using writer = runtime::http::response_writer;
  using starter = std::function<void(writer&)>;
  using answerer = std::function<bool(const runtime::http::request&, writer&)>;

  explicit holding_upstream(const std::string& path, starter first = {}, answerer answer = {}) {
    server_.add_route(
        path, {"POST"},
        [this, first, answer](runtime::http::request&& req, std::shared_ptr<writer> out) {
          if (answer && answer(req, *out)) return;
          if (first) first(*out);
          out->on_close([this] {
            std::lock_guard<std::mutex> lock{mu_};
            ++closed_;
            cv_.notify_all();
          });
          std::lock_guard<std::mutex> lock{mu_};
          ++opened_;
          held_.push_back(std::move(out));
          cv_.notify_all();
        });
    if (auto p = server_.start()) port = *p;
  }

  ~holding_upstream() {
    {
      std::lock_guard<std::mutex> lock{mu_};
      held_.clear();
    }
    server_.stop();
  }

  holding_upstream(const holding_upstream&) = delete;
  holding_upstream& operator=(const holding_upstream&) = delete;

  /// Waits until `n` requests are held; false after `within`.
  bool opened(int n, std::chrono::milliseconds within) {
    std::unique_lock<std::mutex> lock{mu_};
    return cv_.wait_for(lock, within, [&] { return opened_ == n; });
  }

  /// Waits until `n` held connections were closed; false after `within`.
  bool closed(int n, std::chrono::milliseconds within) {
    std::unique_lock<std::mutex> lock{mu_};
    return cv_.wait_for(lock, within, [&] { return closed_ == n; });
  }

  /// The bound port; 0 if the server did not start.
  uint16_t port = 0;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int opened_ = 0;
  int closed_ = 0;
  std::vector<std::shared_ptr<writer>> held_;
  runtime::http::server server_{{"127.0.0.1", 0}};
};

/// `n` raw TCP clients of 127.0.0.1:`port`, each having sent `POST path`
/// with the JSON `body` (and nothing else: they can leave mid-request).
inline std::vector<boost::asio::ip::tcp::socket> raw_posts(boost::asio::io_context& ioc,
                                                           uint16_t port, const std::string& path,
                                                           const std::string& body, int n) {
  std::string req = "POST " + path +
                    " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  std::vector<boost::asio::ip::tcp::socket> socks;
  for (int i = 0; i < n; ++i) {
    socks.emplace_back(ioc);
    socks.back().connect({boost::asio::ip::make_address("127.0.0.1"), port});
    boost::asio::write(socks.back(), boost::asio::buffer(req));
  }
  return socks;
}

}  // namespace opea::itest
