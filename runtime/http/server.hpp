#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "monitoring/tracing/tracer.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace opea::runtime::http {

/// Header list in wire order; names keep the case the peer sent.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// Configuration of an HTTP server.
struct server_config {
  /// Address to bind (numeric or a resolvable name). Default: "0.0.0.0".
  std::string host = "0.0.0.0";
  /// Port to bind; 0 picks an ephemeral port (read it from `start()`). Default: 0.
  uint16_t port = 0;
  /// Number of threads running the I/O loop and the handlers. Default: 1.
  /// Ignored with `loops`.
  size_t io_threads = 1;
  /// Event loops that others run (for example the CAF scheduler's
  /// workers, see `runtime::configure_scheduler`), or none: the server then
  /// starts no thread of its own, listens on the first loop and gives each
  /// accepted connection to the next loop in turn; its handlers run on
  /// whichever thread runs the connection's loop, and `stop` waits until its
  /// connections are gone (so it must not be called from a thread that runs
  /// a loop, nor after they stopped). The loops must outlive the server.
  /// Default: none (the server's own io_context on `io_threads` threads).
  std::vector<boost::asio::io_context*> loops{};
  /// Largest accepted request body; larger bodies get 413. Default: 1 MiB.
  size_t max_body_bytes = 1 << 20;
  /// Largest accepted request line plus headers; larger get 431. Default: 16 KiB.
  size_t max_header_bytes = 16 << 10;
  /// A connection with no request in progress and no bytes received for this
  /// long is closed. Responses in progress (including streams) never time out.
  /// Default: 60 s.
  std::chrono::seconds idle_timeout{60};
  /// A server span per request (OpenTelemetry's HTTP server conventions:
  /// named "METHOD /route", http.request.method, url.path, client.address,
  /// http.response.status_code, error status on 5xx), a child of the
  /// request's W3C `traceparent` (kept with its `tracestate`) or the root of
  /// a new trace when it has none or an invalid one. The handler sees the
  /// span's own context in the `traceparent` header, so what it calls is a
  /// child of it. Must outlive the server. Default: null (no spans).
  const monitoring::tracer* tracer = nullptr;
};

/// One parsed HTTP request, owned by the handler.
struct request {
  /// Method as sent, e.g. "POST".
  std::string method;
  /// Request target as sent, e.g. "/v1/chat?x=1".
  std::string target;
  /// Target up to the first '?', e.g. "/v1/chat".
  std::string path;
  /// Target after the first '?' (without it), e.g. "x=1"; empty if none.
  std::string query;
  /// All header fields in wire order.
  header_list headers;
  /// The complete body (already de-chunked).
  std::string body;
  /// Peer IP address, e.g. "127.0.0.1".
  std::string remote_address;

  /// Returns the value of the first header named `name` (case-insensitive),
  /// or "" if there is none.
  std::string header(std::string_view name) const;
};

namespace detail {
class connection;
struct server_state;
}  // namespace detail

/// Produces the response to one request.
///
/// Thread-safe: every member function may be called from any thread; calls
/// are forwarded to the connection's strand and applied there in the order in
/// which one thread made them. Once the connection is gone (client left or
/// server stopped) all calls are ignored.
///
/// A response is either one `reply` or `begin_stream`, any number of
/// `write_chunk`, then `end_stream`. Calls that break this order are ignored.
/// If the last reference is dropped before a response was started, the
/// client gets 500; if it is dropped mid-stream, the connection is closed.
class response_writer {
 public:
  response_writer(const response_writer&) = delete;
  response_writer& operator=(const response_writer&) = delete;
  ~response_writer();

  /// Sends a complete response with `Content-Length`. Only the first
  /// response-starting call (`reply`, `reply_json`, `begin_stream`) counts.
  /// `extra_headers` must not contain framing headers (Content-Length,
  /// Transfer-Encoding, Connection, Content-Type); such entries and entries
  /// containing CR/LF are dropped.
  void reply(int status, std::string content_type, std::string body,
             header_list extra_headers = {});

  /// `reply(status, "application/json", body.dump())`.
  void reply_json(int status, const nlohmann::json& body);

  /// Sends the status line and headers of a streamed response using chunked
  /// transfer encoding (for HTTP/1.0 clients: raw body, then close).
  void begin_stream(int status, std::string content_type, header_list extra_headers = {});

  /// Sends `data` as one chunk, right away, after all previous chunks.
  /// Empty strings are skipped (an empty chunk would end the stream).
  void write_chunk(std::string data);

  /// Ends a streamed response.
  void end_stream();

  /// Closes the connection without any response (as a server that crashed
  /// or reset would); the client sees the connection end. Only before a
  /// response started; the observer sees 499.
  void drop();

  /// Returns whether the client went away (or the server stopped) before the
  /// response completed.
  bool closed() const;

  /// Registers `f`, called once on the connection's I/O thread if the client
  /// disconnects (or the server stops) before the response completed; called
  /// right away (on the I/O thread) if that already happened. Use it to cancel
  /// upstream work. Dropped once the response completes.
  void on_close(std::function<void()> f);

 private:
  friend class detail::connection;

  response_writer(std::weak_ptr<detail::connection> conn, uint64_t id);

  /// 0 = nothing sent yet, 1 = streaming, 2 = response complete.
  std::atomic<uint8_t> phase_{0};
  /// Set by the connection when the response was aborted (client left or
  /// server stopped) before it completed.
  std::atomic<bool> aborted_{false};
  std::weak_ptr<detail::connection> conn_;
  uint64_t id_;
};

/// Handles one request; runs on an I/O thread, so it must not block. It may
/// keep `writer` and answer later from any thread.
using handler = std::function<void(request&&, std::shared_ptr<response_writer>)>;

/// A route as a gateway serves it: OPEA's `add_route(path, handler, methods)`.
struct route {
  std::string path;
  /// Default: POST.
  std::vector<std::string> methods{"POST"};
  handler h;
};

/// One finished exchange, as the observer sees it.
struct exchange {
  /// The request view: method, target, path, query and remote_address;
  /// headers and body are empty.
  const request& req;
  /// The final status (499 for a response aborted because the client left or
  /// the server stopped).
  int status = 0;
  /// Seconds since the request was parsed.
  double seconds = 0;
  /// Bytes of the request body.
  uint64_t bytes_in = 0;
  /// Bytes of the response queued for sending (status line, headers, body
  /// and chunk framing).
  uint64_t bytes_out = 0;
  /// The response's X-Request-Id header ("" when it has none, or when the
  /// observer was set without `with_ids`).
  std::string_view request_id;
  /// The request's traceparent header (likewise).
  std::string_view traceparent;
};

/// Called once per response (including built-in 4xx errors) when its last
/// byte is queued for sending; so when a client has read a response, it has
/// been observed. Runs on the I/O thread: keep it cheap.
using observer = std::function<void(const exchange&)>;

/// Asynchronous HTTP/1.1 server on Boost.Beast: keep-alive, pipelined requests
/// (answered in order, one at a time), chunked streaming responses, and JSON
/// errors in OpenAI's shape (see `error_body`).
///
/// Thread-safety: configure (`add_route`, `set_fallback`, `set_observer`)
/// before `start`; afterwards only `stop`, `port` and the counters may be
/// called, from any thread. A server is started at most once.
class server {
 public:
  explicit server(server_config cfg);

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Stops the server (see `stop`).
  ~server();

  /// Routes requests whose path equals `path` exactly and whose method is in
  /// `methods` to `h`. Other methods on that path get 405 with `Allow`.
  void add_route(std::string path, std::vector<std::string> methods, handler h);

  /// Handles requests whose path matches no route (instead of answering 404).
  void set_fallback(handler h);

  /// Sets the per-response hook, e.g. for metrics. With `with_ids`, the
  /// exchange carries the request and trace ids, copied for every request
  /// (an access log); without, nothing is copied for it.
  void set_observer(observer f, bool with_ids = false);

  /// Binds, listens and starts `io_threads` threads. Returns the bound port.
  [[nodiscard]] caf::expected<uint16_t> start();

  /// Closes the listener and every connection, fires pending `on_close`
  /// callbacks and joins the I/O threads. Idempotent. Must not be called from
  /// a handler or callback (it joins the I/O threads). Writers that outlive
  /// the server become no-ops.
  void stop();

  /// The bound port, or 0 before `start`.
  uint16_t port() const;

  /// Number of TCP connections accepted so far.
  uint64_t connections_accepted() const;

  /// Number of requests parsed and dispatched so far (including those
  /// answered with 404/405).
  uint64_t requests_received() const;

 private:
  void stop_external();

  std::unique_ptr<detail::server_state> state_;
  std::vector<std::thread> threads_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace opea::runtime::http
