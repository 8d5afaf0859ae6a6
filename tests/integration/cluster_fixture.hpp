#pragma once

// Real processes on loopback for integration tests: opea-test-service
// microservices and opea-node, each on an ephemeral port read from its
// "listening on HOST:PORT" line, plus a synchronous HTTP helper.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
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

/// Port from the child's "listening on HOST:PORT" line (REQUIREs it within
/// 20 s; a node starts in well under a second, but a CI box running two
/// suites may be slow; on failure, shows what became of the child).
inline uint16_t wait_for_port(test::child_process& p) {
  static const std::regex listening{"^listening on .*:([0-9]+)$"};
  auto line = p.wait_for_line(listening, 20s);
  if (!line) FAIL("no \"listening on\" line within 20 s; " << p.describe());
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

/// How many other members are up by the log of a cluster member: each
/// member's last "cluster SELF: member NAME joined" or "... left" line
/// decides (nodes/README.md, "Lines tests wait for"; logged at info and
/// warn).
inline size_t members_up_in(const std::vector<std::string>& log) {
  static const std::regex event{"cluster [^ ]+: member ([^ ]+) (joined|left)"};
  std::map<std::string, bool> up;
  std::smatch m;
  for (const auto& line : log)
    if (std::regex_search(line, m, event)) up[m[1]] = m[2] == "joined";
  size_t n = 0;
  for (const auto& kv : up) n += kv.second ? 1 : 0;
  return n;
}

/// Waits until the log of the cluster member `member` (a process at
/// log_level info or finer) says exactly `want` other members are up, then
/// returns its GET `base`/v1/cluster (the directory logs a change after it
/// published it there). REQUIREs it within 20 s.
inline json wait_members_up(test::child_process& member, const std::string& base, size_t want) {
  bool reached = member.wait_until(
      [&](const std::vector<std::string>& log) { return members_up_in(log) == want; }, 20s);
  auto view = body_of(call("GET", base + "/v1/cluster"));
  INFO("want " << want << " members up; /v1/cluster: " << view.dump());
  REQUIRE(reached);
  return view;
}

/// Waits until the log of the node `node` (a process at log_level debug)
/// has `n` lines "megaservice 'MEGASERVICE': request done: STATUS request_id=ID
/// ..." (any status when `status` is empty; in JSON lines the id is a field),
/// each logged once its request was counted and is no longer pending.
/// REQUIREs them within 20 s.
inline void wait_requests_done(test::child_process& node, const std::string& megaservice, size_t n,
                               std::optional<int> status = std::nullopt) {
  const std::regex done{"megaservice '" + megaservice + "': request done: " +
                        (status ? std::to_string(*status) : std::string{"[0-9]+"}) + "[ \"]"};
  bool reached = node.wait_until(
      [&](const std::vector<std::string>& log) {
        return static_cast<size_t>(std::count_if(log.begin(), log.end(), [&](const std::string& l) {
                 return std::regex_search(l, done);
               })) == n;
      },
      20s);
  std::string seen;
  if (!reached)
    for (const auto& line : node.lines())
      if (line.find("megaservice '") != std::string::npos) seen += "\n" + line;
  INFO(n << " requests of '" << megaservice << "' done with "
         << (status ? std::to_string(*status) : std::string{"any status"}) << "; seen:" << seen);
  REQUIRE(reached);
}

/// Members of one cluster file, each a real opea-node process started with
/// --node NAME, --http-port 0 and a data directory of its own.
struct cluster_members {
  temp_dir dir;
  std::string config;
  std::map<std::string, std::unique_ptr<test::child_process>> procs;
  std::map<std::string, uint16_t> http;

  explicit cluster_members(const std::string& yaml) : config(dir.write("cluster.yaml", yaml)) {}

  /// Starts member `name`, with `env` added to its environment.
  void start(const std::string& name, test::child_process::env_list env = {}) {
    auto p = std::make_unique<test::child_process>(
        OPEA_NODE_BINARY,
        std::vector<std::string>{"--config", config, "--node", name, "--http-port", "0",
                                 "--data-dir", (dir.path / name).string()},
        std::move(env));
    http[name] = wait_for_port(*p);
    procs[name] = std::move(p);
  }

  void kill(const std::string& name) {
    procs.at(name)->kill(SIGKILL);
    procs.at(name)->wait();
    procs.erase(name);
  }

  std::string url(const std::string& name, const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(http.at(name)) + path;
  }

  /// `name`'s view once its log says exactly `want` other members are up
  /// (the file must set log_level info or finer).
  json wait_members_up(const std::string& name, size_t want) {
    return itest::wait_members_up(*procs.at(name), url(name, ""), want);
  }
};

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
