#include "runtime/http/server.hpp"

#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/http/error_body.hpp"

using namespace opea::runtime::http;
using json = nlohmann::json;

namespace {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

/// A blocking HTTP/1.1 peer on one TCP connection (test side only).
class raw_client {
 public:
  explicit raw_client(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port});
  }

  void send(const std::string& bytes) { net::write(socket_, net::buffer(bytes)); }

  bhttp::response<bhttp::string_body> read() {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(boost::none);
    bhttp::read(socket_, buffer_, parser);
    return parser.release();
  }

  bhttp::response<bhttp::string_body> roundtrip(const std::string& bytes) {
    send(bytes);
    return read();
  }

  /// Returns true if the server closed the connection (EOF, nothing more).
  bool at_eof() {
    if (buffer_.size() > 0) return false;
    char c;
    boost::system::error_code ec;
    socket_.read_some(net::buffer(&c, 1), ec);
    return ec == net::error::eof || ec == net::error::connection_reset;
  }

  tcp::socket& socket() { return socket_; }

  boost::beast::flat_buffer& buffer() { return buffer_; }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

std::string get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
}

std::string post(const std::string& path, const std::string& body, const std::string& extra = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + extra + "\r\n" + body;
}

/// A started server with a few routes.
struct fixture {
  explicit fixture(server_config cfg = {}) : srv(adjust(std::move(cfg))) {
    srv.add_route("/hello", {"GET"}, [](request&&, std::shared_ptr<response_writer> w) {
      w->reply(200, "text/plain", "hello world");
    });
    srv.add_route("/echo", {"POST", "PUT"}, [](request&& req, std::shared_ptr<response_writer> w) {
      w->reply_json(200, json{{"method", req.method},
                              {"path", req.path},
                              {"query", req.query},
                              {"body", req.body},
                              {"x-test", req.header("X-TEST")}});
    });
    srv.add_route("/throw", {"GET"}, [](request&&, std::shared_ptr<response_writer>) {
      throw std::runtime_error("boom");
    });
    srv.add_route("/drop", {"GET"}, [](request&&, std::shared_ptr<response_writer>) {});
    srv.set_observer([this](const exchange& ex) {
      std::lock_guard<std::mutex> guard{mtx};
      observed.emplace_back(ex.req.path, ex.status);
    });
  }

  static server_config adjust(server_config cfg) {
    cfg.host = "127.0.0.1";
    return cfg;
  }

  uint16_t start() {
    auto port = srv.start();
    REQUIRE(port);
    return *port;
  }

  std::vector<std::pair<std::string, int>> observations() {
    std::lock_guard<std::mutex> guard{mtx};
    return observed;
  }

  std::mutex mtx;
  std::vector<std::pair<std::string, int>> observed;
  server srv;
};

json error_json(int status, const std::string& message,
                const std::string& type = "invalid_request_error") {
  return error_body(status, message, type);
}

}  // namespace

TEST_CASE("error_body has OpenAI's error shape", "[http]") {
  CHECK(error_body(404, "no route", "invalid_request_error") ==
        json::parse(R"({"error":{"message":"no route",
                           "type":"invalid_request_error",
                           "param":null,"code":404}})"));
}

TEST_CASE("server routes by exact path and method", "[http]") {
  fixture f;
  auto port = f.start();
  CHECK(f.srv.port() == port);
  raw_client c{port};

  SECTION("200 with Content-Type, Content-Length and Server") {
    auto res = c.roundtrip(get("/hello"));
    CHECK(res.result_int() == 200);
    CHECK(res.body() == "hello world");
    CHECK(res[bhttp::field::content_type] == "text/plain");
    CHECK(res[bhttp::field::content_length] == "11");
    CHECK(res[bhttp::field::server] == "opea-cpp");
  }
  SECTION("request fields reach the handler") {
    auto res = c.roundtrip(post("/echo?a=1&b=2", "payload", "x-Test: yes\r\n"));
    CHECK(res.result_int() == 200);
    CHECK(res[bhttp::field::content_type] == "application/json");
    CHECK(json::parse(res.body()) == json{{"method", "POST"},
                                          {"path", "/echo"},
                                          {"query", "a=1&b=2"},
                                          {"body", "payload"},
                                          {"x-test", "yes"}});
  }
  SECTION("unknown path: 404") {
    auto res = c.roundtrip(get("/x"));
    CHECK(res.result_int() == 404);
    CHECK(json::parse(res.body()) == error_json(404, "no route for GET /x"));
  }
  SECTION("wrong method: 405 naming the allowed methods") {
    auto res = c.roundtrip(get("/echo"));
    CHECK(res.result_int() == 405);
    CHECK(res[bhttp::field::allow] == "POST, PUT");
    CHECK(json::parse(res.body()) == error_json(405,
                                                "method GET not allowed for /echo (allowed: "
                                                "POST, PUT)"));
  }
  SECTION("errors keep the connection alive") {
    CHECK(c.roundtrip(get("/x")).result_int() == 404);
    CHECK(c.roundtrip(get("/hello")).result_int() == 200);
    CHECK(f.srv.connections_accepted() == 1);
  }
}

TEST_CASE("server enforces size limits", "[http]") {
  server_config cfg;
  cfg.max_body_bytes = 1024;
  cfg.max_header_bytes = 1024;
  fixture f{cfg};
  auto port = f.start();
  raw_client c{port};

  SECTION("body over max_body_bytes: 413 naming the limit, then close") {
    auto res = c.roundtrip(post("/echo", std::string(2000, 'x')));
    CHECK(res.result_int() == 413);
    CHECK(json::parse(res.body()) == error_json(413, "request body too large (limit 1024 bytes)"));
    CHECK(res[bhttp::field::connection] == "close");
    CHECK(c.at_eof());
  }
  SECTION("body at the limit is accepted") {
    auto res = c.roundtrip(post("/echo", std::string(1024, 'x')));
    CHECK(res.result_int() == 200);
  }
  SECTION("chunked body over the limit: 413") {
    std::string chunk(800, 'y');
    std::string req =
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
        "chunked\r\n\r\n320\r\n" +
        chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n";
    CHECK(c.roundtrip(req).result_int() == 413);
  }
  SECTION("headers over max_header_bytes: 431") {
    auto res = c.roundtrip(get("/hello", "X-Big: " + std::string(2000, 'h') + "\r\n"));
    CHECK(res.result_int() == 431);
    CHECK(json::parse(res.body()) ==
          error_json(431, "request header fields too large (limit 1024 bytes)"));
  }
}

TEST_CASE("server answers malformed HTTP with 400 and keeps running", "[http]") {
  fixture f;
  auto port = f.start();
  {
    raw_client c{port};
    auto res = c.roundtrip("GET /hello HTTP/1.1\r\nBad Header Line\r\n\r\n");
    CHECK(res.result_int() == 400);
    auto body = json::parse(res.body());
    CHECK(body["error"]["code"] == 400);
    CHECK(body["error"]["type"] == "invalid_request_error");
    CHECK(body["error"]["message"].get<std::string>().rfind("malformed HTTP request: ", 0) == 0);
    CHECK(c.at_eof());
  }
  {
    raw_client c{port};
    CHECK(c.roundtrip("\x01\x02 nonsense\r\n\r\n").result_int() == 400);
  }
  {
    raw_client c{port};
    auto res = c.roundtrip("POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n");
    CHECK(res.result_int() == 400);
  }
  raw_client c{port};
  CHECK(c.roundtrip(get("/hello")).result_int() == 200);
}

TEST_CASE("server turns a throwing handler into 500 and keeps running", "[http]") {
  fixture f;
  auto port = f.start();
  raw_client c{port};
  auto res = c.roundtrip(get("/throw"));
  CHECK(res.result_int() == 500);
  CHECK(json::parse(res.body()) == error_json(500, "internal error: boom", "server_error"));
  CHECK(c.roundtrip(get("/hello")).body() == "hello world");
  SECTION("a handler that drops its writer also yields 500") {
    auto res2 = c.roundtrip(get("/drop"));
    CHECK(res2.result_int() == 500);
    CHECK(json::parse(res2.body()) ==
          error_json(500, "the handler did not produce a response", "server_error"));
  }
}

TEST_CASE("server keeps connections alive", "[http]") {
  fixture f;
  auto port = f.start();
  raw_client c{port};

  SECTION("100 sequential requests share one connection") {
    for (int i = 0; i < 100; ++i) {
      auto res = c.roundtrip(post("/echo", std::to_string(i)));
      REQUIRE(res.result_int() == 200);
      REQUIRE(json::parse(res.body())["body"] == std::to_string(i));
      REQUIRE(res.keep_alive());
    }
    CHECK(f.srv.connections_accepted() == 1);
    CHECK(f.srv.requests_received() == 100);
    auto obs = f.observations();
    REQUIRE(obs.size() == 100);
    CHECK(obs.front() == std::make_pair(std::string{"/echo"}, 200));
  }
  SECTION("pipelined requests are answered in order") {
    c.send(post("/echo", "one") + get("/x") + post("/echo", "three"));
    CHECK(json::parse(c.read().body())["body"] == "one");
    CHECK(c.read().result_int() == 404);
    CHECK(json::parse(c.read().body())["body"] == "three");
    CHECK(f.srv.connections_accepted() == 1);
  }
  SECTION("Connection: close is honored") {
    auto res = c.roundtrip(get("/hello", "Connection: close\r\n"));
    CHECK(res.result_int() == 200);
    CHECK(res[bhttp::field::connection] == "close");
    CHECK(c.at_eof());
  }
  SECTION("HTTP/1.0 without keep-alive closes") {
    auto res = c.roundtrip("GET /hello HTTP/1.0\r\n\r\n");
    CHECK(res.body() == "hello world");
    CHECK(c.at_eof());
  }
}

TEST_CASE("a request pipelined behind a response in progress arrives intact", "[http]") {
  // Regression: the server read the next request into its flat_buffer while
  // a response was in progress; finishing that response parsed (and
  // consumed) what had arrived, which rewound the buffer under the pending
  // read, so the bytes read next landed behind where the parser looked and
  // the request's body came out as a copy of its own header.
  fixture f;
  std::promise<std::shared_ptr<response_writer>> got_writer;
  f.srv.add_route("/later", {"GET"}, [&](request&&, std::shared_ptr<response_writer> w) {
    got_writer.set_value(std::move(w));
  });
  auto port = f.start();
  raw_client c{port};
  // The second request's header arrives while /later is being answered; its
  // body is sent only once the server asked for it (100 Continue), i.e.
  // after the server finished the first response and parsed that header.
  std::string body = "the body of the pipelined request";
  c.send(get("/later") + "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n\r\n");
  auto writer = got_writer.get_future();
  REQUIRE(writer.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
  writer.get()->reply(200, "text/plain", "first");
  auto first = c.read();
  CHECK(first.result_int() == 200);
  CHECK(first.body() == "first");
  CHECK(c.read().result_int() == 100);
  c.send(body);
  auto second = c.read();
  REQUIRE(second.result_int() == 200);
  CHECK(json::parse(second.body())["body"] == body);
  CHECK(f.srv.connections_accepted() == 1);
}

TEST_CASE("server streams chunks as they are written", "[http]") {
  fixture f;
  std::promise<std::shared_ptr<response_writer>> got_writer;
  f.srv.add_route("/stream", {"POST"}, [&](request&&, std::shared_ptr<response_writer> w) {
    got_writer.set_value(std::move(w));
  });
  auto port = f.start();
  raw_client c{port};
  c.send(post("/stream", "{}"));
  // The test thread, not the I/O thread, drives the writer: this also checks
  // that the writer is thread-safe.
  auto w = got_writer.get_future().get();
  w->begin_stream(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
  w->write_chunk("data: 1\n\n");

  bhttp::response_parser<bhttp::buffer_body> parser;
  bhttp::read_header(c.socket(), c.buffer(), parser);
  CHECK(parser.get().result_int() == 200);
  CHECK(parser.get()[bhttp::field::transfer_encoding] == "chunked");
  CHECK(parser.get()[bhttp::field::content_type] == "text/event-stream");
  CHECK(parser.get()["Cache-Control"] == "no-cache");
  std::string received;
  auto read_until = [&](size_t n) {
    char buf[512];
    while (received.size() < n && !parser.is_done()) {
      parser.get().body().data = buf;
      parser.get().body().size = sizeof(buf);
      boost::system::error_code ec;
      bhttp::read_some(c.socket(), c.buffer(), parser, ec);
      if (ec && ec != bhttp::error::need_buffer) FAIL("read failed: " << ec.message());
      received.append(buf, sizeof(buf) - parser.get().body().size);
    }
  };
  // The first chunk arrives while the handler still holds the stream open.
  read_until(9);
  CHECK(received == "data: 1\n\n");
  CHECK_FALSE(w->closed());
  w->write_chunk("");
  w->write_chunk("data: 2\n\n");
  w->write_chunk(std::string(40000, 'z'));
  w->end_stream();
  w->write_chunk("ignored after end");
  read_until(100000);
  CHECK(parser.is_done());
  CHECK(received == "data: 1\n\ndata: 2\n\n" + std::string(40000, 'z'));
  // The connection stays usable after the stream.
  CHECK(c.roundtrip(get("/hello")).body() == "hello world");
  auto obs = f.observations();
  REQUIRE(obs.size() == 2);
  CHECK(obs[0] == std::make_pair(std::string{"/stream"}, 200));
}

TEST_CASE("server reports a client that leaves mid-response", "[http]") {
  fixture f;
  std::promise<std::shared_ptr<response_writer>> got_writer;
  std::promise<void> closed;
  f.srv.add_route("/slow", {"GET"}, [&](request&&, std::shared_ptr<response_writer> w) {
    w->on_close([&] { closed.set_value(); });
    got_writer.set_value(std::move(w));
  });
  auto port = f.start();
  auto w = [&] {
    raw_client c{port};
    c.send(get("/slow"));
    return got_writer.get_future().get();
  }();  // The client disconnects here.
  REQUIRE(closed.get_future().wait_for(std::chrono::seconds{10}) == std::future_status::ready);
  CHECK(w->closed());
  w->reply(200, "text/plain", "too late");  // Ignored, no crash.
  auto obs = f.observations();
  REQUIRE(obs.size() == 1);
  CHECK(obs[0] == std::make_pair(std::string{"/slow"}, 499));
  // Registering after the disconnect calls back right away.
  std::atomic<bool> late{false};
  std::promise<void> late_done;
  w->on_close([&] {
    late = true;
    late_done.set_value();
  });
  REQUIRE(late_done.get_future().wait_for(std::chrono::seconds{10}) == std::future_status::ready);
  CHECK(late);
}

TEST_CASE("server stop fires on_close of pending responses", "[http]") {
  fixture f;
  std::promise<void> in_handler;
  std::atomic<int> closed{0};
  f.srv.add_route("/pending", {"GET"}, [&](request&&, std::shared_ptr<response_writer> w) {
    w->on_close([&closed, w] { ++closed; });
    in_handler.set_value();
  });
  auto port = f.start();
  raw_client c{port};
  c.send(get("/pending"));
  in_handler.get_future().wait();
  f.srv.stop();
  CHECK(closed == 1);
  CHECK(c.at_eof());
}
