#include "runtime/http/client.hpp"

#include <utility>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <limits>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "monitoring/log.hpp"
#include "runtime/errors.hpp"
#include "runtime/scheduler.hpp"

namespace opea::runtime::http {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using header_vector = std::vector<std::pair<std::string, std::string>>;

std::string client_response::header(std::string_view name) const {
  for (auto& [key, value] : headers)
    if (boost::beast::iequals(key, boost::beast::string_view{name.data(), name.size()}))
      return value;
  return {};
}

namespace detail {

class client_op;

/// A connection used by either the pool or exactly one operation.
///
/// Shared ownership because an operation may let go of its connection (abort,
/// retry, failure) while a read or write that Beast started on `socket` and
/// `buffer` is still pending: every completion handler of an I/O operation on
/// the connection holds it too, so the socket and the buffer live until the
/// last such handler ran. Closing the socket only makes those operations
/// complete early (with operation_aborted); it never frees what they write to.
struct pooled_conn {
  explicit pooled_conn(net::io_context& ioc) : socket(ioc) {}
  tcp::socket socket;
  boost::beast::flat_buffer buffer;
  /// When the connection last went back to the pool.
  std::chrono::steady_clock::time_point idle_since;
};

/// A connection back in the pool for less than this is taken without
/// checking that the server still has it open (one system call less per
/// exchange under load); if the server did close it, the exchange is
/// retried once on a fresh connection as for any stale connection.
constexpr std::chrono::milliseconds fresh_idle{500};

/// State shared by the client and its operations. `mtx` protects `idle`,
/// `ops` and `shutting_down`; the rest is immutable or atomic.
struct client_state {
  explicit client_state(client_config c)
      : own_ioc(c.loops.empty() ? std::make_unique<net::io_context>() : nullptr),
        ioc(c.loops.empty() ? *own_ioc : *c.loops.front()),
        cfg(std::move(c)),
        guard(net::make_work_guard(ioc)),
        idle(std::max<size_t>(1, cfg.loops.size())) {}
  /// Null when others run the loops (`client_config::loops`).
  std::unique_ptr<net::io_context> own_ioc;
  /// The own loop, or the first of `cfg.loops`.
  net::io_context& ioc;
  /// Turn for exchanges started on a thread that runs none of the loops.
  std::atomic<size_t> next{0};

  /// The loop of an exchange started on this thread: the thread's own if it
  /// is one of `cfg.loops` (so the exchange stays on the thread), else the
  /// next in turn; and its index (the pool is kept per loop).
  std::pair<net::io_context*, size_t> pick_loop() {
    auto& loops = cfg.loops;
    if (loops.empty()) return {&ioc, 0};
    if (auto* mine = runtime::current_io())
      for (size_t i = 0; i < loops.size(); ++i)
        if (loops[i] == mine) return {mine, i};
    auto i = next.fetch_add(1, std::memory_order_relaxed) % loops.size();
    return {loops[i], i};
  }
  client_config cfg;
  net::executor_work_guard<net::io_context::executor_type> guard;
  std::atomic<uint64_t> opened{0};
  std::mutex mtx;
  bool shutting_down = false;
  /// Idle connections per loop (index as in `cfg.loops`; one for the own
  /// loop), then per host:port.
  std::vector<std::unordered_map<std::string, std::vector<std::shared_ptr<pooled_conn>>>> idle;
  std::unordered_map<client_op*, std::weak_ptr<client_op>> ops;

  /// Takes the most recently used idle connection of loop `loop` to `key` that still
  /// looks open, or returns null.
  std::shared_ptr<pooled_conn> checkout(size_t loop, const std::string& key) {
    std::lock_guard<std::mutex> lock{mtx};
    auto& pool = idle[loop];
    auto i = pool.find(key);
    if (i == pool.end()) return nullptr;
    auto& vec = i->second;
    while (!vec.empty()) {
      auto conn = std::move(vec.back());
      vec.pop_back();
      if (conn->buffer.size() != 0) continue;
      if (std::chrono::steady_clock::now() - conn->idle_since < fresh_idle || looks_open(*conn))
        return conn;
    }
    return nullptr;
  }

  void checkin(size_t loop, const std::string& key, std::shared_ptr<pooled_conn> conn) {
    std::lock_guard<std::mutex> lock{mtx};
    if (shutting_down) return;
    auto& vec = idle[loop][key];
    if (vec.size() >= cfg.max_idle_per_host) return;  // Closed by the destructor.
    conn->idle_since = std::chrono::steady_clock::now();
    vec.emplace_back(std::move(conn));
  }

  /// An idle connection must have nothing to read: a readable socket means
  /// the server closed it (EOF) or sent garbage.
  static bool looks_open(pooled_conn& conn) {
    char byte;
    auto n = ::recv(conn.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
};

/// One request/response exchange. Not thread-safe: runs on its strand, except
/// `launch`, `request_abort` and `cancel`'s posting, which only touch
/// `st_.mtx`-protected state or the atomic `abort_requested_`.
class client_op : public std::enable_shared_from_this<client_op> {
 public:
  using done_fn = std::function<void(caf::expected<client_response>)>;
  using headers_fn = std::function<void(int, const header_vector&)>;
  using chunk_fn = std::function<void(std::string_view)>;
  using stream_done_fn = std::function<void(caf::error)>;

  client_op(std::shared_ptr<client_state> st, std::pair<net::io_context*, size_t> loop, url u,
            client_request req)
      : st_(*st),
        // With an external loop the state must outlive every handler of
        // this operation, which may run after the client is gone.
        keep_(st->own_ioc == nullptr ? std::move(st) : nullptr),
        loop_(*loop.first),
        url_(std::move(u)),
        url_text_(std::move(req.url)),
        key_(url_.authority()),
        loop_index_(loop.second),
        timeout_(req.timeout),
        strand_(net::make_strand(loop_)),
        timer_(strand_) {
    is_head_ = req.method == "HEAD";
    serialize(req);
  }

  void set_buffered(done_fn done) { done_ = std::move(done); }

  void set_stream(headers_fn h, chunk_fn c, stream_done_fn d) {
    streaming_ = true;
    on_headers_ = std::move(h);
    on_chunk_ = std::move(c);
    stream_done_ = std::move(d);
  }

  /// Registers and starts the operation (from any thread).
  void launch() {
    {
      std::lock_guard<std::mutex> lock{st_.mtx};
      if (!st_.shutting_down) {
        st_.ops.emplace(this, weak_from_this());
        registered_ = true;
      }
    }
    net::post(strand_, [self = shared_from_this()] {
      if (!self->registered_ || self->cancelled_) {
        self->fail(errc::http_connect, "client shut down");
        return;
      }
      if (self->stopped_by_abort()) return;
      self->arm_timer();
      self->acquire();
    });
  }

  /// Aborts the operation (client destruction).
  void cancel() {
    if (finished_) return;
    cancelled_ = true;
    if (resolver_) resolver_->cancel();
    if (conn_) {
      boost::system::error_code ec;
      conn_->socket.close(ec);
    }
    timer_.cancel();
  }

  /// Asks the operation to stop with errc::cancelled "aborted by caller"
  /// (from any thread). From now on the strand runs no further callback but
  /// `done`; the posted handler closes the connection even while the
  /// operation waits for the server.
  void request_abort() {
    abort_requested_.store(true, std::memory_order_release);
    net::post(strand_, [self = shared_from_this()] { self->stopped_by_abort(); });
  }

  net::strand<net::io_context::executor_type>& strand() { return strand_; }

 private:
  void serialize(const client_request& req) {
    auto& w = wire_;
    w.reserve(256 + req.body.size());
    w += req.method.empty() ? std::string{"GET"} : req.method;
    w += ' ';
    w += url_.target;
    w += " HTTP/1.1\r\nHost: ";
    if (url_.host.find(':') != std::string::npos) {
      w += '[';
      w += url_.host;
      w += ']';
    } else {
      w += url_.host;
    }
    if (url_.port != 80) {
      w += ':';
      w += std::to_string(url_.port);
    }
    w += "\r\n";
    bool has_type = false;
    bool has_agent = false;
    for (auto& [name, value] : req.headers) {
      using boost::beast::iequals;
      if (name.empty() || iequals(name, "host") || iequals(name, "content-length") ||
          iequals(name, "transfer-encoding") || iequals(name, "connection") ||
          name.find_first_of("\r\n:") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos)
        continue;
      has_type = has_type || iequals(name, "content-type");
      has_agent = has_agent || iequals(name, "user-agent");
      w += name;
      w += ": ";
      w += value;
      w += "\r\n";
    }
    if (!has_agent) w += "User-Agent: opea-cpp\r\n";
    if (!req.body.empty() && !has_type) w += "Content-Type: application/json\r\n";
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
      w += "Content-Length: ";
      w += std::to_string(req.body.size());
      w += "\r\n";
    }
    w += "\r\n";
    w += req.body;
  }

  template <class F>
  auto bind(F&& f) {
    return net::bind_executor(strand_, std::forward<F>(f));
  }

  void arm_timer() {
    timer_.expires_after(timeout_);
    timer_.async_wait(bind([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->on_timeout();
    }));
  }

  void on_timeout() {
    if (finished_) return;
    timed_out_ = true;
    if (resolver_) resolver_->cancel();
    if (conn_) {
      boost::system::error_code ec;
      conn_->socket.close(ec);
    }
  }

  void acquire() {
    conn_ = st_.checkout(loop_index_, key_);
    if (conn_) {
      reused_ = true;
      write();
      return;
    }
    connect();
  }

  void connect() {
    reused_ = false;
    conn_ = std::make_shared<pooled_conn>(loop_);
    st_.opened.fetch_add(1, std::memory_order_relaxed);
    boost::system::error_code ec;
    auto addr = net::ip::make_address(url_.host, ec);
    if (!ec) {
      conn_->socket.async_connect(
          tcp::endpoint{addr, url_.port},
          bind([self = shared_from_this(), conn = conn_](boost::system::error_code ec) {
            self->on_connect(ec);
          }));
      return;
    }
    resolver_.emplace(strand_);
    resolver_->async_resolve(url_.host, std::to_string(url_.port),
                             bind([self = shared_from_this()](boost::system::error_code ec,
                                                              tcp::resolver::results_type results) {
                               self->on_resolve(ec, std::move(results));
                             }));
  }

  void on_resolve(boost::system::error_code ec, tcp::resolver::results_type results) {
    if (finished_ || stopped_by_abort()) return;
    if (ec) {
      if (!interrupted())
        fail(errc::http_connect, "cannot resolve host '" + url_.host + "': " + ec.message());
      return;
    }
    net::async_connect(
        conn_->socket, results,
        bind([self = shared_from_this(), conn = conn_](
                 boost::system::error_code ec, const tcp::endpoint&) { self->on_connect(ec); }));
  }

  void on_connect(boost::system::error_code ec) {
    if (finished_ || stopped_by_abort()) return;
    if (ec) {
      if (!interrupted()) fail(errc::http_connect, "connect failed: " + ec.message());
      return;
    }
    conn_->socket.set_option(tcp::no_delay{true}, ec);
    write();
  }

  void write() {
    net::async_write(conn_->socket, net::buffer(wire_),
                     bind([self = shared_from_this(), conn = conn_](
                              boost::system::error_code ec, size_t) { self->on_write(ec); }));
  }

  void on_write(boost::system::error_code ec) {
    if (finished_ || stopped_by_abort()) return;
    if (ec) {
      if (interrupted()) return;
      if (can_retry()) {
        retry();
        return;
      }
      fail(errc::http_connect, "send failed: " + ec.message());
      return;
    }
    read_header();
  }

  void read_header() {
    parser_.emplace();
    if (streaming_)
      // Not boost::none: in Boost 1.74 that makes every body with a
      // Content-Length exceed the limit.
      parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    else
      parser_->body_limit(static_cast<std::uint64_t>(st_.cfg.max_response_bytes));
    parser_->header_limit(64 << 10);
    if (is_head_) parser_->skip(true);
    bhttp::async_read_header(
        conn_->socket, conn_->buffer, *parser_,
        bind([self = shared_from_this(), conn = conn_](boost::system::error_code ec, size_t) {
          self->on_header(ec);
        }));
  }

  void on_header(boost::system::error_code ec) {
    if (finished_ || stopped_by_abort()) return;
    if (ec) {
      if (interrupted()) return;
      if (can_retry() && nothing_received(ec)) {
        retry();
        return;
      }
      fail_read(ec);
      return;
    }
    auto& msg = parser_->get();
    response_.status = static_cast<int>(msg.result_int());
    response_.headers.reserve(8);
    for (auto& field : msg)
      response_.headers.emplace_back(std::string{field.name_string()}, std::string{field.value()});
    if (streaming_) {
      arm_timer();  // From now on the timeout bounds silence between pieces.
      if (on_headers_) guarded([&] { on_headers_(response_.status, response_.headers); });
      if (finished_ || stopped_by_abort()) return;
    }
    read_body();
  }

  void read_body() {
    // Body bytes that came with the header (a small answer's all of them)
    // are parsed here: a read would find them buffered and only post its
    // completion through the loop.
    while (!parser_->is_done() && conn_->buffer.size() > 0) {
      auto& body = parser_->get().body();
      body.data = chunk_.data();
      body.size = chunk_.size();
      boost::system::error_code ec;
      auto used = parser_->put(conn_->buffer.data(), ec);
      conn_->buffer.consume(used);
      if (ec == bhttp::error::need_buffer || ec == bhttp::error::need_more) ec = {};
      if (ec) {
        fail_read(ec);
        return;
      }
      if (!take_body_piece()) return;
      if (used == 0) break;  // the rest has to be read
    }
    if (parser_->is_done()) {
      succeed();
      return;
    }
    auto& body = parser_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    bhttp::async_read_some(conn_->socket, conn_->buffer, *parser_,
                           bind([self = shared_from_this(), conn = conn_](
                                    boost::system::error_code ec, size_t) { self->on_body(ec); }));
  }

  void on_body(boost::system::error_code ec) {
    if (finished_ || stopped_by_abort()) return;
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      if (!interrupted()) fail_read(ec);
      return;
    }
    if (take_body_piece()) read_body();
  }

  /// Hands on what the parser put in `chunk_` (a streamed piece, or part of
  /// the buffered body); false if the operation ended meanwhile.
  bool take_body_piece() {
    auto got = chunk_.size() - parser_->get().body().size;
    if (got == 0) return true;
    if (!streaming_) {
      response_.body.append(chunk_.data(), got);
      return true;
    }
    arm_timer();
    if (on_chunk_) guarded([&] { on_chunk_(std::string_view{chunk_.data(), got}); });
    return !finished_ && !stopped_by_abort();
  }

  /// Whether an error is the result of our own timeout or cancellation;
  /// if so, reports it and returns true.
  bool interrupted() {
    if (timed_out_) {
      fail(errc::http_timeout,
           (streaming_ && response_.status != 0 ? "no data within " : "no response within ") +
               std::to_string(timeout_.count()) + " ms");
      return true;
    }
    if (cancelled_) {
      fail(errc::http_connect, "client shut down");
      return true;
    }
    return false;
  }

  /// If the caller aborted, completes the operation with the abort error
  /// (once) and returns true. Closing the socket makes every pending
  /// operation complete with an error that `finished_` then ignores; until
  /// then its handler keeps the connection (socket, buffer) and, through
  /// `self`, the parser and `chunk_` alive.
  bool stopped_by_abort() {
    if (!abort_requested_.load(std::memory_order_acquire)) return false;
    fail(errc::cancelled, "aborted by caller");
    return true;
  }

  bool can_retry() const { return reused_ && !retried_ && !timed_out_ && !cancelled_; }

  static bool nothing_received(boost::system::error_code ec) {
    return ec == bhttp::error::end_of_stream || ec == net::error::eof ||
           ec == net::error::connection_reset || ec == net::error::broken_pipe ||
           ec == net::error::connection_aborted;
  }

  void retry() {
    retried_ = true;
    monitoring::log(monitoring::log_component::http)
        .debug(
            "http client: pooled connection to {} was closed; retrying "
            "on a fresh one",
            key_);
    drop_connection();
    connect();
  }

  void fail_read(boost::system::error_code ec) {
    if (ec == bhttp::error::body_limit)
      fail(errc::bad_response,
           "response body exceeds " + std::to_string(st_.cfg.max_response_bytes) + " bytes");
    else if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
             ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
      fail(errc::bad_response, "malformed HTTP response: " + ec.message());
    else
      fail(errc::http_connect, "connection lost before the response completed: " + ec.message());
  }

  void succeed() {
    if (stopped_by_abort()) return;  // Never pool a connection the caller gave up.
    bool keep = parser_->keep_alive() && conn_->buffer.size() == 0;
    parser_.reset();
    if (keep)
      st_.checkin(loop_index_, key_, std::move(conn_));
    else
      drop_connection();
    finish();
    if (streaming_) {
      auto done = std::move(stream_done_);
      release_callbacks();
      if (done) guarded([&] { done(caf::error{}); });
    } else {
      auto done = std::move(done_);
      release_callbacks();
      if (done) guarded([&] { done(std::move(response_)); });
    }
  }

  void fail(errc code, std::string detail) {
    if (finished_) return;
    drop_connection();
    finish();
    auto err = make_error(code, url_text_, std::move(detail));
    if (streaming_) {
      auto done = std::move(stream_done_);
      release_callbacks();
      if (done) guarded([&] { done(std::move(err)); });
    } else {
      auto done = std::move(done_);
      release_callbacks();
      if (done) guarded([&] { done(std::move(err)); });
    }
  }

  /// Drops the caller's callbacks (and what they captured) once the
  /// operation completed: pending I/O handlers may keep the operation alive
  /// a little longer, the caller's objects need not live that long.
  void release_callbacks() {
    done_ = nullptr;
    on_headers_ = nullptr;
    on_chunk_ = nullptr;
    stream_done_ = nullptr;
  }

  void finish() {
    finished_ = true;
    timer_.cancel();
    if (resolver_) resolver_->cancel();
    if (registered_) {
      std::lock_guard<std::mutex> lock{st_.mtx};
      st_.ops.erase(this);
    }
  }

  /// Closes the connection and lets go of it. A read or write still pending
  /// on it completes with operation_aborted; its handler holds the last
  /// reference.
  void drop_connection() {
    if (conn_) {
      boost::system::error_code ec;
      conn_->socket.close(ec);
      conn_.reset();
    }
  }

  template <class F>
  void guarded(F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      monitoring::log(monitoring::log_component::http)
          .error("http client: callback for {} threw: {} request_id={}",
                 monitoring::redact_target(url_text_), e.what(), request_id_sent());
    } catch (...) {
      monitoring::log(monitoring::log_component::http)
          .error("http client: callback for {} threw request_id={}",
                 monitoring::redact_target(url_text_), request_id_sent());
    }
  }

  /// The X-Request-Id this exchange sent, read back from its serialized
  /// head (only on the error path: nothing is kept per request), or "-".
  std::string_view request_id_sent() const {
    std::string_view head{wire_};
    head = head.substr(0, head.find("\r\n\r\n"));
    constexpr std::string_view name = "x-request-id:";
    for (auto eol = head.find("\r\n"); eol != std::string_view::npos;) {
      auto start = eol + 2;
      eol = head.find("\r\n", start);
      auto line = head.substr(start, eol == std::string_view::npos ? eol : eol - start);
      auto field = line.substr(0, name.size());
      if (line.size() > name.size() &&
          boost::beast::iequals(boost::beast::string_view{field.data(), field.size()},
                                boost::beast::string_view{name.data(), name.size()})) {
        auto value = line.substr(name.size());
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (!value.empty() && value.find(' ') == std::string_view::npos) return value;
      }
    }
    return "-";
  }

  client_state& st_;
  std::shared_ptr<client_state> keep_;
  /// The loop this exchange runs on, and its connection comes from.
  net::io_context& loop_;
  url url_;
  std::string url_text_;
  /// host:port, the pool's key on this loop.
  std::string key_;
  size_t loop_index_;
  std::chrono::milliseconds timeout_;
  net::strand<net::io_context::executor_type> strand_;
  net::steady_timer timer_;
  /// Only for a host name (not for an address), made when it is needed.
  std::optional<tcp::resolver> resolver_;
  std::string wire_;
  bool is_head_ = false;
  bool streaming_ = false;
  bool registered_ = false;
  bool reused_ = false;
  bool retried_ = false;
  bool timed_out_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
  /// Set by `request_abort` from any thread, read on the strand.
  std::atomic<bool> abort_requested_{false};
  /// The connection in use; null before `acquire` and once dropped or
  /// returned to the pool. Pending I/O handlers hold their own reference.
  std::shared_ptr<pooled_conn> conn_;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser_;
  std::array<char, 16 << 10> chunk_;
  client_response response_;
  done_fn done_;
  headers_fn on_headers_;
  chunk_fn on_chunk_;
  stream_done_fn stream_done_;
};

}  // namespace detail

// -- stream_handle ------------------------------------------------------------

stream_handle::stream_handle(std::weak_ptr<detail::client_state> state,
                             std::weak_ptr<detail::client_op> op)
    : state_(std::move(state)), op_(std::move(op)) {}

void stream_handle::abort() {
  if (aborted_.exchange(true, std::memory_order_acq_rel)) return;
  // Holding the state keeps the io_context alive while we post to it, even if
  // the client is being destroyed on another thread right now.
  auto st = state_.lock();
  if (!st) return;
  if (auto op = op_.lock()) op->request_abort();
}

// -- client -------------------------------------------------------------------

client::client(client_config cfg) : state_(std::make_shared<detail::client_state>(std::move(cfg))) {
  if (state_->own_ioc == nullptr) return;  // Others run the loop.
  auto n = std::max<size_t>(1, state_->cfg.io_threads);
  for (size_t i = 0; i < n; ++i)
    threads_.emplace_back([st = state_.get()] {
      for (;;) {
        try {
          st->ioc.run();
          return;
        } catch (const std::exception& e) {
          monitoring::log(monitoring::log_component::http)
              .error("http client: exception escaped an I/O handler: {}", e.what());
        } catch (...) {
          monitoring::log(monitoring::log_component::http)
              .error("http client: exception escaped an I/O handler");
        }
      }
    });
}

client::~client() {
  std::vector<std::shared_ptr<detail::client_op>> ops;
  {
    std::lock_guard<std::mutex> lock{state_->mtx};
    state_->shutting_down = true;
    for (auto& [ptr, weak] : state_->ops)
      if (auto op = weak.lock()) ops.emplace_back(std::move(op));
  }
  for (auto& op : ops) net::post(op->strand(), [op] { op->cancel(); });
  ops.clear();
  state_->guard.reset();
  // With an external loop the operations end on its threads, later; each
  // holds the state until then.
  for (auto& t : threads_) t.join();
  std::lock_guard<std::mutex> lock{state_->mtx};
  state_->idle.clear();
}

namespace {

template <class OnError>
std::shared_ptr<detail::client_op> make_op(const std::shared_ptr<detail::client_state>& state,
                                           client_request& req, OnError on_error) {
  auto u = url::parse(req.url);
  if (!u) {
    net::post(state->ioc, [on_error = std::move(on_error), err = std::move(u.error())]() mutable {
      on_error(std::move(err));
    });
    return nullptr;
  }
  // Not make_shared: a stream_handle's weak_ptr would keep the whole
  // operation's memory (its 16 KiB read buffer included) after it ended.
  return std::shared_ptr<detail::client_op>{
      new detail::client_op(state, state->pick_loop(), std::move(*u), std::move(req))};
}

}  // namespace

namespace {

/// The client span of `req` (see client_config::tracer), or null; `req`'s
/// traceparent becomes the span's.
std::shared_ptr<monitoring::span> start_client_span(const client_config& cfg, client_request& req) {
  if (cfg.tracer == nullptr || !cfg.tracer->enabled()) return nullptr;
  std::string* traceparent = nullptr;
  std::string tracestate;
  for (auto& [name, value] : req.headers) {
    if (boost::beast::iequals(name, "traceparent") && traceparent == nullptr) traceparent = &value;
    if (boost::beast::iequals(name, "tracestate")) tracestate = value;
  }
  if (traceparent == nullptr) return nullptr;
  auto parent = monitoring::span_context::parse(*traceparent, tracestate);
  if (!parent) return nullptr;
  auto span = std::make_shared<monitoring::span>(
      cfg.tracer->start_span(req.method, monitoring::span_kind::client, *parent));
  *traceparent = span->traceparent();
  if (span->is_recording()) {
    span->set_attribute("http.request.method", req.method);
    if (auto u = runtime::url::parse(req.url)) {
      span->set_attribute("server.address", u->host);
      span->set_attribute("server.port", u->port);
      auto path = u->target.substr(0, u->target.find('?'));
      span->set_attribute("url.full",
                          u->scheme + "://" + u->host + ":" + std::to_string(u->port) + path);
    }
  }
  return span;
}

/// Ends a client span with the exchange's outcome.
void end_client_span(monitoring::span& span, int status, const caf::error& err) {
  if (!span.is_recording()) return;
  if (status != 0) span.set_attribute("http.response.status_code", status);
  if (err) {
    span.set_attribute("error.type", std::string{to_string(code_of(err))});
    span.set_status(monitoring::status_code::error, describe(err));
  } else if (status >= 500) {
    span.set_attribute("error.type", std::to_string(status));
    span.set_status(monitoring::status_code::error);
  }
  span.end();
}

}  // namespace

std::shared_ptr<stream_handle> client::async_request(
    client_request req, std::function<void(caf::expected<client_response>)> done) {
  if (auto span = start_client_span(state_->cfg, req))
    done = [span, done = std::move(done)](caf::expected<client_response> res) {
      end_client_span(*span, res ? res->status : 0, res ? caf::error{} : res.error());
      if (done) done(std::move(res));
    };
  auto op = make_op(state_, req, [done](caf::error err) {
    if (done) done(std::move(err));
  });
  std::shared_ptr<stream_handle> handle{new stream_handle(state_, op)};
  if (!op) return handle;
  op->set_buffered(std::move(done));
  op->launch();
  return handle;
}

std::shared_ptr<stream_handle> client::async_stream(
    client_request req,
    std::function<void(int, const std::vector<std::pair<std::string, std::string>>&)> on_headers,
    std::function<void(std::string_view)> on_chunk, std::function<void(caf::error)> done) {
  if (auto span = start_client_span(state_->cfg, req)) {
    auto status = std::make_shared<int>(0);
    on_headers = [status, on_headers = std::move(on_headers)](
                     int code, const std::vector<std::pair<std::string, std::string>>& headers) {
      *status = code;
      if (on_headers) on_headers(code, headers);
    };
    done = [span, status, done = std::move(done)](caf::error err) {
      end_client_span(*span, *status, err);
      if (done) done(std::move(err));
    };
  }
  auto op = make_op(state_, req, [done](caf::error err) {
    if (done) done(std::move(err));
  });
  // A request that fails before it starts (bad URL) has nothing to abort.
  std::shared_ptr<stream_handle> handle{new stream_handle(state_, op)};
  if (!op) return handle;
  op->set_stream(std::move(on_headers), std::move(on_chunk), std::move(done));
  op->launch();
  return handle;
}

uint64_t client::connections_opened() const {
  return state_->opened.load();
}

}  // namespace opea::runtime::http
