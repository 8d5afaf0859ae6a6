#pragma once

// Real processes on loopback for integration tests: opea-test-service
// microservices and opea-node, each on an ephemeral port read from its
// "listening on HOST:PORT" line, plus a synchronous HTTP helper.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <regex>
#include <string>
#include <vector>

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

/// One synchronous HTTP call on a shared client (REQUIREs a transport success).
inline runtime::http::client_response call(const std::string& method, const std::string& url,
                                           const std::string& body = {},
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
  auto res = done.get_future().get();
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

}  // namespace opea::itest
