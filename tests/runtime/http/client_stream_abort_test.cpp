// stream_handle::abort: a streamed exchange stopped by the caller closes its
// connection (the server sees the disconnect), completes once with
// errc::cancelled and leaves the connection pool usable.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "runtime/http/server.hpp"

using namespace opea::runtime;
using namespace opea::runtime::http;

namespace {

/// Upper bound of every wait; the waits end as soon as the event happens.
constexpr std::chrono::seconds patience{10};

template <class T>
T await(std::future<T>& f) {
  REQUIRE(f.wait_for(patience) == std::future_status::ready);
  return f.get();
}

/// What the callbacks of one stream saw, guarded by `mtx`.
struct stream_record {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<std::string> pieces;
  int status = 0;
  int done_calls = 0;
  caf::error err;

  /// Waits (bounded) until `pred` holds under the lock.
  bool wait(std::function<bool()> pred) {
    std::unique_lock<std::mutex> lock{mtx};
    return cv.wait_for(lock, patience, pred);
  }

  size_t piece_count() {
    std::lock_guard<std::mutex> lock{mtx};
    return pieces.size();
  }
};

/// Starts a stream whose callbacks fill `rec`; `on_piece` runs after each
/// piece is recorded (on the client's I/O thread).
std::shared_ptr<stream_handle> start_stream(client& c, const std::string& url,
                                            std::shared_ptr<stream_record> rec,
                                            std::function<void()> on_piece = {}) {
  client_request req;
  req.method = "GET";
  req.url = url;
  return c.async_stream(
      std::move(req),
      [rec](int status, const std::vector<std::pair<std::string, std::string>>&) {
        std::lock_guard<std::mutex> lock{rec->mtx};
        rec->status = status;
        rec->cv.notify_all();
      },
      [rec, on_piece](std::string_view piece) {
        {
          std::lock_guard<std::mutex> lock{rec->mtx};
          rec->pieces.emplace_back(piece);
          rec->cv.notify_all();
        }
        if (on_piece) on_piece();
      },
      [rec](caf::error err) {
        std::lock_guard<std::mutex> lock{rec->mtx};
        ++rec->done_calls;
        rec->err = std::move(err);
        rec->cv.notify_all();
      });
}

caf::expected<client_response> fetch(client& c, const std::string& url) {
  std::promise<caf::expected<client_response>> result;
  auto f = result.get_future();
  client_request req;
  req.method = "GET";
  req.url = url;
  c.async_request(std::move(req),
                  [&](caf::expected<client_response> res) { result.set_value(std::move(res)); });
  return await(f);
}

/// More body than the client reads at once (16 KiB), so several chunk
/// callbacks would follow the first one.
constexpr size_t flood_bytes = 256 << 10;

/// A loopback server whose /hold route starts a stream, sends "one", and
/// then waits for the client to leave; /flood does the same with
/// `flood_bytes` of 'x'; /quiet never answers; /short streams "a", "b" and
/// ends; /echo answers "pong".
struct holding_service {
  holding_service() : srv(config()) {
    srv.add_route("/hold", {"GET"}, [this](request&&, std::shared_ptr<response_writer> w) {
      w->on_close([this] { closed.set_value(); });
      w->begin_stream(200, "text/event-stream");
      w->write_chunk("one");
      writer.set_value(std::move(w));
    });
    srv.add_route("/flood", {"GET"}, [this](request&&, std::shared_ptr<response_writer> w) {
      w->on_close([this] { closed.set_value(); });
      w->begin_stream(200, "text/plain");
      w->write_chunk(std::string(flood_bytes, 'x'));
      writer.set_value(std::move(w));
    });
    srv.add_route("/quiet", {"GET"}, [this](request&&, std::shared_ptr<response_writer> w) {
      w->on_close([this] { closed.set_value(); });
      writer.set_value(std::move(w));
    });
    srv.add_route("/short", {"GET"}, [](request&&, std::shared_ptr<response_writer> w) {
      w->begin_stream(200, "text/plain");
      w->write_chunk("a");
      w->write_chunk("b");
      w->end_stream();
    });
    srv.add_route("/echo", {"GET"}, [](request&&, std::shared_ptr<response_writer> w) {
      w->reply(200, "text/plain", "pong");
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

  /// Set (once) on the I/O thread when the client disconnects mid-response.
  std::promise<void> closed;
  std::promise<std::shared_ptr<response_writer>> writer;
  server srv;
  std::string base;
};

}  // namespace

TEST_CASE("aborting a stream closes its connection and completes it once with cancelled",
          "[http][abort]") {
  holding_service s;
  auto closed = s.closed.get_future();
  auto writer = s.writer.get_future();
  auto c = std::make_unique<client>();
  auto rec = std::make_shared<stream_record>();
  auto h = start_stream(*c, s.base + "/hold", rec);
  REQUIRE(h);
  REQUIRE(rec->wait([&] { return rec->pieces.size() == 1; }));
  CHECK_FALSE(h->aborted());

  h->abort();
  CHECK(h->aborted());
  REQUIRE(rec->wait([&] { return rec->done_calls == 1; }));
  {
    std::lock_guard<std::mutex> lock{rec->mtx};
    CHECK(code_of(rec->err) == errc::cancelled);
    CHECK(detail_of(rec->err) == "aborted by caller");
    CHECK(subject_of(rec->err) == s.base + "/hold");
  }
  // The server sees the disconnect, so a model server would stop generating.
  REQUIRE(closed.wait_for(patience) == std::future_status::ready);
  auto w = await(writer);
  CHECK(w->closed());
  w->write_chunk("two");  // Ignored: the connection is gone.
  h->abort();             // Idempotent.

  // The aborted connection was not pooled: the next request opens a new one.
  auto res = fetch(*c, s.base + "/echo");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "pong");
  CHECK(c->connections_opened() == 2);
  CHECK(s.srv.connections_accepted() == 2);

  c.reset();  // Joins the I/O thread: every callback has run.
  std::lock_guard<std::mutex> lock{rec->mtx};
  CHECK(rec->status == 200);
  CHECK(rec->pieces == std::vector<std::string>{"one"});
  CHECK(rec->done_calls == 1);
}

TEST_CASE("a stream aborted from its chunk callback gets no further chunk", "[http][abort]") {
  holding_service s;
  auto closed = s.closed.get_future();
  auto writer = s.writer.get_future();
  auto c = std::make_unique<client>();
  auto rec = std::make_shared<stream_record>();
  // The callback needs the handle, which exists once async_stream returned.
  std::promise<std::shared_ptr<stream_handle>> handle;
  auto handle_ready = handle.get_future().share();
  auto h = start_stream(*c, s.base + "/flood", rec, [handle_ready] {
    // No Catch2 assertion here (I/O thread): without the handle no abort
    // happens and the wait for `done` below fails.
    if (handle_ready.wait_for(patience) == std::future_status::ready) handle_ready.get()->abort();
  });
  handle.set_value(h);
  REQUIRE(rec->wait([&] { return rec->done_calls == 1; }));
  {
    std::lock_guard<std::mutex> lock{rec->mtx};
    CHECK(code_of(rec->err) == errc::cancelled);
    CHECK(detail_of(rec->err) == "aborted by caller");
  }
  REQUIRE(closed.wait_for(patience) == std::future_status::ready);
  CHECK(await(writer)->closed());
  c.reset();
  std::lock_guard<std::mutex> lock{rec->mtx};
  REQUIRE(rec->pieces.size() == 1);
  CHECK(rec->pieces[0].size() < flood_bytes);
  CHECK(rec->pieces[0] == std::string(rec->pieces[0].size(), 'x'));
  CHECK(rec->done_calls == 1);
}

TEST_CASE("aborting a stream before the response headers closes the connection", "[http][abort]") {
  holding_service s;
  auto closed = s.closed.get_future();
  auto writer = s.writer.get_future();
  client c;
  auto rec = std::make_shared<stream_record>();
  auto h = start_stream(c, s.base + "/quiet", rec);
  // Once the server holds the request, the client is waiting for headers.
  auto w = await(writer);
  h->abort();
  REQUIRE(rec->wait([&] { return rec->done_calls == 1; }));
  REQUIRE(closed.wait_for(patience) == std::future_status::ready);
  CHECK(w->closed());
  std::lock_guard<std::mutex> lock{rec->mtx};
  CHECK(code_of(rec->err) == errc::cancelled);
  CHECK(rec->status == 0);
  CHECK(rec->pieces.empty());
}

TEST_CASE("aborting a completed stream changes nothing and keeps its connection pooled",
          "[http][abort]") {
  holding_service s;
  auto c = std::make_unique<client>();
  auto rec = std::make_shared<stream_record>();
  auto h = start_stream(*c, s.base + "/short", rec);
  REQUIRE(rec->wait([&] { return rec->done_calls == 1; }));
  h->abort();
  CHECK(h->aborted());
  auto res = fetch(*c, s.base + "/echo");
  REQUIRE(res);
  CHECK(res->body == "pong");
  CHECK(c->connections_opened() == 1);  // The stream's connection was reused.
  c.reset();
  std::lock_guard<std::mutex> lock{rec->mtx};
  CHECK(rec->done_calls == 1);
  CHECK_FALSE(rec->err);
  std::string body;
  for (const auto& p : rec->pieces) body += p;
  CHECK(body == "ab");
}

TEST_CASE("a stream that cannot start returns a handle whose abort is a no-op", "[http][abort]") {
  client c;
  auto rec = std::make_shared<stream_record>();
  auto h = start_stream(c, "ftp://example.com/x", rec);
  REQUIRE(h);
  h->abort();
  REQUIRE(rec->wait([&] { return rec->done_calls == 1; }));
  std::lock_guard<std::mutex> lock{rec->mtx};
  CHECK(code_of(rec->err) == errc::bad_request);
}

TEST_CASE("aborting a stream after its client was destroyed is a no-op", "[http][abort]") {
  holding_service s;
  auto rec = std::make_shared<stream_record>();
  std::shared_ptr<stream_handle> h;
  {
    client c;
    h = start_stream(c, s.base + "/hold", rec);
    REQUIRE(rec->wait([&] { return rec->pieces.size() == 1; }));
  }
  h->abort();
  std::lock_guard<std::mutex> lock{rec->mtx};
  CHECK(rec->done_calls == 1);
  CHECK(code_of(rec->err) == errc::http_connect);
  CHECK(detail_of(rec->err) == "client shut down");
}

TEST_CASE("aborting streams while their reads are pending never touches a freed connection",
          "[http][abort]") {
  // Regression: abort used to free the connection (socket and read buffer)
  // while a read was still pending on it; the read then completed into freed
  // memory (heap-use-after-free under AddressSanitizer). Each round aborts
  // with a read pending, either waiting for the headers (/quiet) or for more
  // body while the server is sending some (/drip), so the read completes
  // with data or with operation_aborted after the abort.
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<std::shared_ptr<response_writer>> writers;  // Keeps every response open.
  int disconnects = 0;
  auto hold = [&](std::shared_ptr<response_writer> w) {
    w->on_close([&] {
      std::lock_guard<std::mutex> lock{mtx};
      ++disconnects;
      cv.notify_all();
    });
    std::lock_guard<std::mutex> lock{mtx};
    writers.emplace_back(std::move(w));
    cv.notify_all();
  };
  server srv{holding_service::config()};
  srv.add_route("/quiet", {"GET"}, [&](request&&, std::shared_ptr<response_writer> w) { hold(w); });
  srv.add_route("/drip", {"GET"}, [&](request&&, std::shared_ptr<response_writer> w) {
    w->begin_stream(200, "text/plain");
    w->write_chunk("one");
    hold(w);
  });
  auto port = srv.start();
  REQUIRE(port);
  auto base = "http://127.0.0.1:" + std::to_string(*port);
  auto wait_for = [&](std::function<bool()> pred) {
    std::unique_lock<std::mutex> lock{mtx};
    return cv.wait_for(lock, patience, pred);
  };

  constexpr size_t rounds = 16;
  auto c = std::make_unique<client>();
  for (size_t i = 0; i < rounds; ++i) {
    bool before_headers = i % 2 == 0;
    auto rec = std::make_shared<stream_record>();
    auto h = start_stream(*c, base + (before_headers ? "/quiet" : "/drip"), rec);
    // The server holds the request: the client's read is pending now.
    REQUIRE(wait_for([&] { return writers.size() == i + 1; }));
    if (before_headers) {
      h->abort();
    } else {
      REQUIRE(rec->wait([&] { return rec->pieces.size() == 1; }));
      std::shared_ptr<response_writer> w;
      {
        std::lock_guard<std::mutex> lock{mtx};
        w = writers.back();
      }
      w->write_chunk(std::string(64 << 10, 'x'));  // Arrives while the abort runs.
      h->abort();
    }
    REQUIRE(rec->wait([&] { return rec->done_calls == 1; }));
    std::lock_guard<std::mutex> lock{rec->mtx};
    CHECK(code_of(rec->err) == errc::cancelled);
    CHECK(detail_of(rec->err) == "aborted by caller");
    CHECK(rec->status == (before_headers ? 0 : 200));
  }
  // Every aborted connection was closed, none pooled.
  REQUIRE(wait_for([&] { return disconnects == static_cast<int>(rounds); }));
  CHECK(c->connections_opened() == rounds);
  c.reset();  // Joins the I/O thread: every pending read has completed.
  CHECK(srv.connections_accepted() == rounds);
}
