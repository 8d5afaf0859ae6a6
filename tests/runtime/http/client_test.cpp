#include "runtime/http/client.hpp"

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/errors.hpp"
#include "runtime/http/server.hpp"

using namespace opea::runtime;
using namespace opea::runtime::http;
using json = nlohmann::json;

namespace {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

/// Runs `async_request` and blocks the test thread for the result.
caf::expected<client_response> fetch(client& c, client_request req) {
  std::promise<caf::expected<client_response>> result;
  c.async_request(std::move(req),
                  [&](caf::expected<client_response> res) { result.set_value(std::move(res)); });
  return result.get_future().get();
}

client_request make(std::string method, std::string url, std::string body = {}) {
  client_request req;
  req.method = std::move(method);
  req.url = std::move(url);
  req.body = std::move(body);
  return req;
}

/// A server with the routes the client tests need.
struct service {
  service() : srv(config()) {
    srv.add_route("/echo", {"POST", "GET"}, [](request&& req, std::shared_ptr<response_writer> w) {
      w->reply(200, "text/plain", req.body,
               {{"X-Method", req.method}, {"X-Content-Type", req.header("content-type")}});
    });
    srv.add_route("/unavailable", {"GET"}, [](request&&, std::shared_ptr<response_writer> w) {
      w->reply(503, "application/json", R"({"busy":true})");
    });
    srv.add_route("/never", {"GET"}, [](request&&, std::shared_ptr<response_writer> w) {
      w->on_close([w] {});  // Held until the client leaves.
    });
    srv.add_route("/stream", {"GET"}, [this](request&&, std::shared_ptr<response_writer> w) {
      stream_writer.set_value(std::move(w));
    });
    auto port = srv.start();
    REQUIRE(port);
    base = "http://127.0.0.1:" + std::to_string(*port);
  }

  static server_config config() {
    server_config cfg;
    cfg.host = "127.0.0.1";
    return cfg;
  }

  server srv;
  std::string base;
  std::promise<std::shared_ptr<response_writer>> stream_writer;
};

/// A scripted TCP server on loopback: `script` runs on its own thread with
/// the acceptor and does whatever the test needs, byte by byte.
class raw_server {
 public:
  template <class F>
  explicit raw_server(F script)
      : acceptor_(ioc_, tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}) {
    port = acceptor_.local_endpoint().port();
    thread_ = std::thread{[this, script] { script(acceptor_); }};
  }

  ~raw_server() { thread_.join(); }

  uint16_t port;

 private:
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

std::string read_request(tcp::socket& s, boost::beast::flat_buffer& buf) {
  bhttp::request<bhttp::string_body> req;
  bhttp::read(s, buf, req);
  return req.body();
}

void write_response(tcp::socket& s, const std::string& body) {
  net::write(s, net::buffer("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                            "\r\n\r\n" + body));
}

}  // namespace

TEST_CASE("client returns responses of any status", "[http]") {
  service s;
  client c;

  SECTION("200 with body, headers and default content type") {
    auto res = fetch(c, make("POST", s.base + "/echo", R"({"a":1})"));
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body == R"({"a":1})");
    CHECK(res->header("x-method") == "POST");
    CHECK(res->header("X-Content-Type") == "application/json");
    CHECK(res->header("server") == "opea-cpp");
  }
  SECTION("non-2xx is a response, not an error") {
    auto res = fetch(c, make("GET", s.base + "/unavailable"));
    REQUIRE(res);
    CHECK(res->status == 503);
    CHECK(res->body == R"({"busy":true})");
  }
  SECTION("404 from the server is a response too") {
    auto res = fetch(c, make("GET", s.base + "/missing"));
    REQUIRE(res);
    CHECK(res->status == 404);
  }
  SECTION("a bad URL fails with bad_request") {
    auto res = fetch(c, make("GET", "https://127.0.0.1/x"));
    REQUIRE_FALSE(res);
    CHECK(code_of(res.error()) == errc::bad_request);
  }
}

TEST_CASE("client reports a refused connection as http_connect", "[http]") {
  uint16_t port;
  {
    net::io_context ioc;
    tcp::acceptor a{ioc, tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
    port = a.local_endpoint().port();
  }  // Closed: nothing listens on `port` now.
  client c;
  auto target = "http://127.0.0.1:" + std::to_string(port) + "/x";
  auto res = fetch(c, make("GET", target));
  REQUIRE_FALSE(res);
  CHECK(code_of(res.error()) == errc::http_connect);
  CHECK(subject_of(res.error()) == target);
  CHECK(describe(res.error()).find("onnection refused") != std::string::npos);
}

TEST_CASE("client times out on a server that never answers", "[http]") {
  service s;
  client c;
  auto req = make("GET", s.base + "/never");
  req.timeout = std::chrono::milliseconds{200};
  auto res = fetch(c, req);
  REQUIRE_FALSE(res);
  CHECK(code_of(res.error()) == errc::http_timeout);
  CHECK(describe(res.error()).find("no response within 200 ms") != std::string::npos);
  // The client is still usable afterwards.
  auto ok = fetch(c, make("POST", s.base + "/echo", "x"));
  REQUIRE(ok);
  CHECK(ok->body == "x");
}

TEST_CASE("client reuses keep-alive connections", "[http]") {
  service s;
  client c;
  for (int i = 0; i < 10; ++i) {
    auto res = fetch(c, make("POST", s.base + "/echo", std::to_string(i)));
    REQUIRE(res);
    CHECK(res->body == std::to_string(i));
  }
  CHECK(c.connections_opened() == 1);
  CHECK(s.srv.connections_accepted() == 1);
}

TEST_CASE("client retries once when the server closed a pooled connection", "[http]") {
  std::atomic<int> accepted{0};
  raw_server raw{[&](tcp::acceptor& acceptor) {
    boost::beast::flat_buffer buf1;
    auto first = acceptor.accept();
    ++accepted;
    read_request(first, buf1);
    write_response(first, "first");
    // The next request arrives on the pooled connection; the server closes
    // it without answering, as a server closing an idle connection would.
    read_request(first, buf1);
    first.close();
    boost::beast::flat_buffer buf2;
    auto second = acceptor.accept();
    ++accepted;
    CHECK(read_request(second, buf2) == "again");
    write_response(second, "second");
    boost::system::error_code ec;
    bhttp::request<bhttp::string_body> ignored;
    bhttp::read(second, buf2, ignored, ec);  // Until the client closes.
  }};
  auto base = "http://127.0.0.1:" + std::to_string(raw.port);
  {
    client c;
    auto one = fetch(c, make("POST", base + "/a", "once"));
    REQUIRE(one);
    CHECK(one->body == "first");
    auto two = fetch(c, make("POST", base + "/a", "again"));
    REQUIRE(two);
    CHECK(two->body == "second");
    CHECK(c.connections_opened() == 2);
  }
  CHECK(accepted == 2);
}

TEST_CASE("client reports garbage as bad_response", "[http]") {
  raw_server raw{[](tcp::acceptor& acceptor) {
    boost::beast::flat_buffer buf;
    auto s = acceptor.accept();
    read_request(s, buf);
    net::write(s, net::buffer(std::string{"HELLO THERE\r\n\r\n"}));
    boost::system::error_code ec;
    bhttp::request<bhttp::string_body> ignored;
    bhttp::read(s, buf, ignored, ec);
  }};
  client c;
  auto res = fetch(c, make("GET", "http://127.0.0.1:" + std::to_string(raw.port) + "/"));
  REQUIRE_FALSE(res);
  CHECK(code_of(res.error()) == errc::bad_response);
}

TEST_CASE("client completes 200 concurrent requests", "[http]") {
  service s;
  client c;
  constexpr int n = 200;
  std::mutex mtx;
  std::vector<std::string> bodies(n);
  std::atomic<int> errors{0};
  std::atomic<int> left{n};
  std::promise<void> all_done;
  for (int i = 0; i < n; ++i) {
    c.async_request(make("POST", s.base + "/echo", "request " + std::to_string(i)),
                    [&, i](caf::expected<client_response> res) {
                      if (res) {
                        std::lock_guard<std::mutex> guard{mtx};
                        bodies[static_cast<size_t>(i)] = res->body;
                      } else {
                        ++errors;
                      }
                      if (--left == 0) all_done.set_value();
                    });
  }
  REQUIRE(all_done.get_future().wait_for(std::chrono::seconds{30}) == std::future_status::ready);
  CHECK(errors == 0);
  for (int i = 0; i < n; ++i)
    CHECK(bodies[static_cast<size_t>(i)] == "request " + std::to_string(i));
  CHECK(c.connections_opened() <= static_cast<uint64_t>(n));
}

TEST_CASE("client streams body pieces as they arrive", "[http]") {
  service s;
  client c;
  std::promise<int> status;
  std::promise<std::string> first_piece;
  std::promise<caf::error> finished;
  std::string rest;
  bool first = true;
  auto req = make("GET", s.base + "/stream");
  c.async_stream(
      req,
      [&](int st, const std::vector<std::pair<std::string, std::string>>&) {
        status.set_value(st);
      },
      [&](std::string_view piece) {
        if (first) {
          first = false;
          first_piece.set_value(std::string{piece});
        } else {
          rest += piece;
        }
      },
      [&](caf::error err) { finished.set_value(std::move(err)); });
  auto w = s.stream_writer.get_future().get();
  w->begin_stream(200, "text/event-stream");
  w->write_chunk("data: 1\n\n");
  CHECK(status.get_future().get() == 200);
  // The first piece arrives before the server writes the second one.
  CHECK(first_piece.get_future().get() == "data: 1\n\n");
  w->write_chunk("data: 2\n\n");
  w->end_stream();
  auto err = finished.get_future().get();
  CHECK_FALSE(err);
  CHECK(rest == "data: 2\n\n");
}

TEST_CASE("client fails requests in flight when destroyed", "[http]") {
  service s;
  std::promise<caf::expected<client_response>> result;
  {
    client c;
    c.async_request(make("GET", s.base + "/never"),
                    [&](caf::expected<client_response> res) { result.set_value(std::move(res)); });
  }
  auto res = result.get_future().get();
  REQUIRE_FALSE(res);
  CHECK(code_of(res.error()) == errc::http_connect);
}

TEST_CASE("client parses a body that came with the header, chunked or not, and one in pieces",
          "[http]") {
  const std::string chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  raw_server raw{[&](tcp::acceptor& acceptor) {
    boost::beast::flat_buffer buf;
    auto s = acceptor.accept();
    // 1: header and chunked body in one write.
    read_request(s, buf);
    net::write(s, net::buffer(chunked));
    // 2: header and half the body, then the rest (one read or two,
    // whichever the kernel makes of it: the answer is the same).
    read_request(s, buf);
    net::write(s, net::buffer(std::string{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234"}));
    net::write(s, net::buffer(std::string{"56789"}));
    // 3: a body that ends with the connection (no length, not chunked).
    read_request(s, buf);
    net::write(s, net::buffer(std::string{"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil eof"}));
    s.shutdown(tcp::socket::shutdown_both);
  }};
  client c;
  auto url = "http://127.0.0.1:" + std::to_string(raw.port) + "/";
  auto one = fetch(c, make("GET", url));
  REQUIRE(one);
  CHECK(one->status == 200);
  CHECK(one->body == "hello world");
  auto two = fetch(c, make("GET", url));
  REQUIRE(two);
  CHECK(two->body == "0123456789");
  auto three = fetch(c, make("GET", url));
  REQUIRE(three);
  CHECK(three->body == "until eof");
  CHECK(c.connections_opened() == 1);
}

TEST_CASE("client refuses a body over max_response_bytes that came with the header", "[http]") {
  raw_server raw{[](tcp::acceptor& acceptor) {
    boost::beast::flat_buffer buf;
    auto s = acceptor.accept();
    read_request(s, buf);
    write_response(s, std::string(64, 'x'));
    boost::system::error_code ec;
    bhttp::request<bhttp::string_body> ignored;
    bhttp::read(s, buf, ignored, ec);  // until the client closes
  }};
  client_config cfg;
  cfg.max_response_bytes = 16;
  client c{cfg};
  auto res = fetch(c, make("GET", "http://127.0.0.1:" + std::to_string(raw.port) + "/"));
  REQUIRE_FALSE(res);
  CHECK(code_of(res.error()) == errc::bad_response);
  CHECK(detail_of(res.error()) == "response body exceeds 16 bytes");
}
