#pragma once

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

#include <atomic>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "monitoring/tracing/tracer.hpp"
#include "runtime/service/url.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace opea::runtime::http {

/// The one URL type (`runtime/service/url.hpp`), as the client's callers name it.
using runtime::url;

/// One outbound request.
struct client_request {
  /// Default: "POST".
  std::string method = "POST";
  /// Absolute http URL.
  std::string url;
  /// Extra headers. Host, Content-Length, Transfer-Encoding and Connection
  /// are set by the client and ignored here; entries containing CR/LF are
  /// dropped. Default `Content-Type` for a non-empty body: application/json.
  std::vector<std::pair<std::string, std::string>> headers;
  /// Request body, sent with Content-Length.
  std::string body;
  /// `async_request`: deadline for the whole exchange (connect, send, full
  /// response). `async_stream`: deadline until the response headers, then the
  /// longest silence allowed between two pieces of body. Default: 30 s.
  std::chrono::milliseconds timeout{30000};
};

/// A complete response. Any status (including 4xx/5xx) is a response, not an
/// error: the caller decides what a status means.
struct client_response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// Returns the first header named `name` (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

/// Configuration of a client.
struct client_config {
  /// Threads running the client's io_context (and the callbacks). Default: 1.
  /// Ignored with `loops`.
  size_t io_threads = 1;
  /// Event loops that others run (for example the CAF scheduler's
  /// workers, see `runtime::configure_scheduler`), or none: the client then
  /// starts no thread; an exchange runs on the loop of the thread that
  /// starts it when that thread runs one of them (`runtime::current_io`),
  /// else on the next in turn, with idle connections pooled per loop; its
  /// callbacks run on whichever thread runs that loop, and the destructor
  /// does not wait for the requests it fails. The loops must outlive every
  /// request. Default: none (the client's own io_context on `io_threads`
  /// threads).
  std::vector<boost::asio::io_context*> loops{};
  /// Idle keep-alive connections kept per host:port (per loop with `loops`).
  /// Default: 64.
  size_t max_idle_per_host = 64;
  /// Largest response body `async_request` accepts (streams are unlimited);
  /// larger bodies fail with `errc::bad_response`. Default: 64 MiB.
  size_t max_response_bytes = 64 << 20;
  /// A client span per request that carries a valid W3C `traceparent`
  /// header (a call made for a traced request): a child of it, named after
  /// the method, with http.request.method, server.address, server.port,
  /// url.full (without the query), http.response.status_code and an error
  /// status on a failure or a 5xx; the request goes out with the span's own
  /// traceparent. Must outlive the client. Default: null (no spans).
  const monitoring::tracer* tracer = nullptr;
};

namespace detail {
class client_op;
struct client_state;
}  // namespace detail

class client;

/// Handle of one exchange (`client::async_request` or `client::async_stream`):
/// the caller's way to stop it before the server ends the response, e.g. when
/// the downstream client left.
///
/// Thread-safe: `abort` and `aborted` may be called from any thread, any
/// number of times, including from the stream's own callbacks; `aborted_`
/// (atomic) makes the first call the only one that acts. The handle does not
/// keep the exchange or the client alive.
class stream_handle {
 public:
  stream_handle(const stream_handle&) = delete;
  stream_handle& operator=(const stream_handle&) = delete;

  /// Stops the exchange: closes its connection (never returned to the pool,
  /// so the server sees the disconnect) and completes the stream with
  /// `errc::cancelled`, detail "aborted by caller". Once `abort` returns, no
  /// further `on_headers` or `on_chunk` starts (one running on an I/O thread
  /// at that moment finishes). `done` still runs exactly once: with the abort
  /// error, or with the stream's own outcome if it was completing already.
  /// Does not block; the close happens on the client's I/O thread. A no-op
  /// after the stream completed, after the client was destroyed, and on every
  /// call but the first.
  void abort();

  /// True once `abort` was called (whether or not it still had an effect).
  bool aborted() const { return aborted_.load(std::memory_order_acquire); }

 private:
  friend class client;

  stream_handle(std::weak_ptr<detail::client_state> state, std::weak_ptr<detail::client_op> op);

  std::atomic<bool> aborted_{false};
  // Weak: an exchange that completed, or a destroyed client, is no-one's to abort.
  std::weak_ptr<detail::client_state> state_;
  std::weak_ptr<detail::client_op> op_;
};

/// Asynchronous HTTP/1.1 client with a keep-alive connection pool per
/// host:port, running on its own io_context (used by actors to call TEI, TGI,
/// vLLM and OPEA microservices).
///
/// Thread-safe: `async_request`, `async_stream` and the returned handles'
/// `abort` may be called from any thread. Callbacks run on one of the client's I/O threads; they
/// must not block and should not throw (exceptions are logged and swallowed).
///
/// Errors are `runtime::errc` values whose subject is the URL:
/// `http_connect` (refused, reset, DNS), `http_timeout` (deadline passed),
/// `bad_response` (unparsable HTTP, body too large), `bad_request` (bad URL),
/// `cancelled` (an exchange stopped by `stream_handle::abort`).
/// A pooled connection that the server closed while it was idle is retried
/// once on a fresh connection when no byte of the response had arrived.
///
/// Destroying the client fails every request in flight with `http_connect`
/// ("client shut down"), runs those callbacks, and joins the I/O threads; do
/// not destroy it from one of its own callbacks.
class client {
 public:
  explicit client(client_config cfg = {});

  client(const client&) = delete;
  client& operator=(const client&) = delete;

  ~client();

  /// Sends `req` and calls `done` once with the complete response or an error.
  /// The returned handle (never null) aborts the exchange (`done` then gets
  /// `errc::cancelled`, the connection is closed); ignoring it is fine.
  std::shared_ptr<stream_handle> async_request(
      client_request req, std::function<void(caf::expected<client_response>)> done);

  /// Sends `req` and streams the response: `on_headers` once with the status
  /// and headers, then `on_chunk` for each piece of body as it arrives
  /// (de-chunked; pieces do not follow the sender's chunk boundaries), then
  /// `done` once with an empty error on success. On failure `done` gets the
  /// error (`on_headers` may or may not have run before). The returned handle
  /// (never null) aborts the exchange; ignoring it is fine.
  std::shared_ptr<stream_handle> async_stream(
      client_request req,
      std::function<void(int status,
                         const std::vector<std::pair<std::string, std::string>>& headers)>
          on_headers,
      std::function<void(std::string_view)> on_chunk, std::function<void(caf::error)> done);

  /// Number of TCP connections opened so far.
  uint64_t connections_opened() const;

 private:
  std::shared_ptr<detail::client_state> state_;
  std::vector<std::thread> threads_;
};

}  // namespace opea::runtime::http
