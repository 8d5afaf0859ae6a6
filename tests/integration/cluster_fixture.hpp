#pragma once

// Real processes on loopback for integration tests: opea-test-service
// microservices and opea-node, each on an ephemeral port read from its
// "listening on HOST:PORT" line, plus a synchronous HTTP helper.

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "runtime/http/server.hpp"
#include "tests/support/process.hpp"

namespace opea::itest {

using json = nlohmann::json;
using namespace std::chrono_literals;

/// Port from the child's "listening on HOST:PORT" line (REQUIREs it within 10 s).
inline uint16_t wait_for_port(test::child_process& p) {
  static const std::regex listening{"^listening on .*:([0-9]+)$"};
  auto line = p.wait_for_line(listening, 10s);
  REQUIRE(line);
  std::smatch m;
  std::regex_search(*line, m, listening);
  return static_cast<uint16_t>(std::stoi(m[1]));
}

/// An opea-test-service process serving `routes` (PATH:BEHAVIOUR[:ARG]).
struct service_process {
  std::unique_ptr<test::child_process> proc;
  uint16_t port = 0;

  explicit service_process(const std::vector<std::string>& routes) {
    std::vector<std::string> args{"--host", "127.0.0.1", "--port", "0"};
    for (auto& r : routes) {
      args.push_back("--route");
      args.push_back(r);
    }
    proc = std::make_unique<test::child_process>(OPEA_TEST_SERVICE_BINARY, args);
    port = wait_for_port(*proc);
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
};

/// A unique temporary directory, removed with the object.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "opea-itest-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    auto p = path / name;
    std::ofstream{p} << text;
    return p.string();
  }
};

/// An opea-node process started on `yaml` (written to a temp file) with --http-port 0.
struct node_process {
  temp_dir dir;
  std::unique_ptr<test::child_process> proc;
  uint16_t port = 0;

  explicit node_process(const std::string& yaml, const std::string& file = "node.yaml") {
    auto path = dir.write(file, yaml);
    proc = std::make_unique<test::child_process>(
        OPEA_NODE_BINARY, std::vector<std::string>{"--config", path, "--http-port", "0",
                                                   "--data-dir", (dir.path / "data").string()});
    port = wait_for_port(*proc);
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
};

/// One synchronous HTTP call on a shared client, without Catch macros, so it
/// may run on any thread (Catch's INFO/REQUIRE are not thread-safe).
inline caf::expected<runtime::http::client_response> fetch(
    const std::string& method, const std::string& url, const std::string& body = {},
    runtime::http::header_list headers = {}) {
  static runtime::http::client client;
  runtime::http::client_request req;
  req.method = method;
  req.url = url;
  req.body = body;
  req.headers = std::move(headers);
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  req.timeout = 20s;
  std::promise<caf::expected<runtime::http::client_response>> done;
  client.async_request(
      req, [&](caf::expected<runtime::http::client_response> r) { done.set_value(std::move(r)); });
  return done.get_future().get();
}

/// `fetch` on the test's thread, REQUIRing a transport success.
inline runtime::http::client_response call(const std::string& method, const std::string& url,
                                           const std::string& body = {},
                                           runtime::http::header_list headers = {}) {
  auto res = fetch(method, url, body, std::move(headers));
  INFO(method << " " << url << ": " << (res ? "" : runtime::describe(res.error())));
  REQUIRE(res);
  return std::move(*res);
}

inline runtime::http::client_response post(const std::string& url, const json& body) {
  return call("POST", url, body.dump());
}

inline json body_of(const runtime::http::client_response& r) {
  auto j = json::parse(r.body, nullptr, false);
  INFO("body: " << r.body);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

/// The value of one exact series line in a Prometheus text exposition, or -1.
inline double metric_value(const std::string& text, const std::string& series) {
  auto pos = text.find("\n" + series + " ");
  if (pos == std::string::npos) return -1;
  return std::stod(text.substr(pos + series.size() + 2));
}

/// A TCP port that was free a moment ago (cluster ports must be known to
/// every member before they start, so port 0 cannot be used for them).
inline uint16_t free_port() {
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::acceptor acc{ioc, {net::ip::make_address("127.0.0.1"), 0}};
  return acc.local_endpoint().port();
}

/// Bounded poll (20 s) of GET `base`/v1/cluster until exactly `want`
/// members are up; returns the last view (FAILs with it otherwise).
inline json wait_members_up(const std::string& base, size_t want) {
  json view;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    view = body_of(call("GET", base + "/v1/cluster"));
    size_t up = 0;
    for (const auto& m : view["members"]) up += m["state"] == "up" ? 1 : 0;
    if (up == want) return view;
    std::this_thread::yield();
  }
  INFO(view.dump());
  FAIL("members did not come up");
  return view;
}

/// Sends `total` requests on one asynchronous client, keeping `in_flight`
/// open: `make(i)` builds request i, `on_result` sees each outcome (called
/// under a lock, in completion order), and `midway` (if set) runs once, on
/// this thread, after a third of them completed. REQUIREs progress within
/// 60 s at every step.
inline void drive_load(
    size_t total, size_t in_flight,
    const std::function<runtime::http::client_request(size_t)>& make,
    const std::function<void(const caf::expected<runtime::http::client_response>&)>& on_result,
    const std::function<void()>& midway = {}) {
  runtime::http::client client;
  std::mutex mtx;
  std::condition_variable cv;
  size_t sent = 0, done = 0;
  std::function<void()> send_one = [&] {
    client.async_request(make(sent), [&](caf::expected<runtime::http::client_response> r) {
      std::lock_guard<std::mutex> lock{mtx};
      on_result(r);
      ++done;
      if (sent < total) {
        send_one();
        ++sent;
      }
      cv.notify_all();
    });
  };
  {
    std::lock_guard<std::mutex> lock{mtx};
    while (sent < in_flight && sent < total) {
      send_one();
      ++sent;
    }
  }
  bool fired = !midway;
  std::unique_lock<std::mutex> lock{mtx};
  while (done < total) {
    REQUIRE(cv.wait_for(lock, 60s, [&] { return done == total || (!fired && done >= total / 3); }));
    if (!fired && done >= total / 3) {
      fired = true;
      lock.unlock();
      midway();
      lock.lock();
    }
  }
}

}  // namespace opea::itest
