#include "runtime/http/server.hpp"

#include <utility>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "monitoring/log.hpp"
#include "runtime/errors.hpp"
#include "runtime/http/error_body.hpp"

namespace opea::runtime::http {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

/// Bytes of pipelined input buffered while a response is in progress before
/// reading pauses (back-pressure against clients that flood requests).
constexpr size_t pipeline_limit = 64 << 10;

/// Size of one read from the socket.
constexpr size_t read_size = 16 << 10;

/// Bodies up to this size are copied behind the headers (one send buffer);
/// larger bodies are sent as a second buffer without copying.
constexpr size_t coalesce_limit = 16 << 10;

/// How long a connection we decided to close drains its input (so that the
/// client reads our final response instead of a reset).
constexpr std::chrono::seconds linger_time{2};

bool iequals(std::string_view a, std::string_view b) {
  return boost::beast::iequals(boost::beast::string_view{a.data(), a.size()},
                               boost::beast::string_view{b.data(), b.size()});
}

std::string_view to_sv(boost::beast::string_view s) {
  return {s.data(), s.size()};
}

bool is_framing_header(std::string_view name) {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
         iequals(name, "connection") || iequals(name, "content-type");
}

bool has_crlf(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

/// Appends "HTTP/1.1 <status> <reason>\r\nServer: ...\r\nContent-Type: ...\r\n"
/// plus the valid extra headers.
void append_head(std::string& out, int status, std::string_view content_type,
                 const header_list& extra) {
  auto st = bhttp::int_to_status(static_cast<unsigned>(status));
  std::string_view reason = st == bhttp::status::unknown ? std::string_view{"Unknown"}
                                                         : to_sv(bhttp::obsolete_reason(st));
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason;
  out += "\r\nServer: opea-cpp\r\nContent-Type: ";
  if (has_crlf(content_type) || content_type.empty())
    out += "application/octet-stream";
  else
    out += content_type;
  out += "\r\n";
  for (auto& [name, value] : extra) {
    if (name.empty() || is_framing_header(name) || has_crlf(name) || has_crlf(value) ||
        name.find(':') != std::string::npos)
      continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
}

int sanitize_status(int status) {
  return status < 100 || status > 999 ? 500 : status;
}

}  // namespace

// -- request ------------------------------------------------------------------

std::string request::header(std::string_view name) const {
  for (auto& [key, value] : headers)
    if (iequals(key, name)) return value;
  return {};
}

namespace detail {

using strand_type = net::strand<net::io_context::executor_type>;
using socket_type = net::basic_stream_socket<tcp, strand_type>;
using acceptor_type = net::basic_socket_acceptor<tcp, strand_type>;

struct route {
  std::vector<std::string> methods;
  std::string allow;
  handler fn;
};

/// The part of the server that connections share. Immutable after `start`
/// except for the atomics and the mutex-protected connection registry.
struct shared_config {
  server_config cfg;
  /// Set by `stop`: requests parsed from now on are not dispatched.
  std::atomic<bool> stopping{false};
  std::unordered_map<std::string, route> routes;
  handler fallback;
  observer obs;
  /// Whether `obs` reads the exchange's request and trace ids.
  bool obs_ids = false;
  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> requests{0};
  std::mutex conns_mtx;
  /// Notified when the last connection goes (`stop` with an external loop).
  std::condition_variable conns_cv;
  std::unordered_map<connection*, std::weak_ptr<connection>> conns;
};

/// Everything a server owns. The io_context is destroyed last so that
/// handlers still queued when it goes release their connections first.
struct server_state {
  explicit server_state(server_config cfg)
      : own_ioc(cfg.loops.empty() ? std::make_unique<net::io_context>() : nullptr),
        ioc(cfg.loops.empty() ? *own_ioc : *cfg.loops.front()),
        acceptor(net::make_strand(ioc)) {
    shared = std::make_shared<shared_config>();
    shared->cfg = std::move(cfg);
  }
  bool external() const { return own_ioc == nullptr; }
  /// The loop of the next accepted connection: the next of `cfg.loops` in
  /// turn, or the own one.
  net::io_context& next_loop() {
    auto& loops = shared->cfg.loops;
    if (loops.empty()) return ioc;
    return *loops[next++ % loops.size()];
  }
  std::unique_ptr<net::io_context> own_ioc;
  net::io_context& ioc;
  std::shared_ptr<shared_config> shared;
  acceptor_type acceptor;
  std::atomic<uint16_t> port{0};
  /// Connections accepted so far (the accept loop's turn; on its strand).
  size_t next = 0;
  /// With an external loop: whether an accept is pending (guarded by
  /// `accept_mtx`); `stop` waits for its handler.
  std::mutex accept_mtx;
  std::condition_variable accept_cv;
  bool accepting = false;
};

/// One accepted TCP connection. Not thread-safe: every member function runs
/// on the connection's strand (or, in `shutdown_now`, while no I/O thread
/// runs); `closed_` is the only member read from other threads.
class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(socket_type socket, std::shared_ptr<shared_config> shared)
      : socket_(std::move(socket)), shared_(std::move(shared)), timer_(socket_.get_executor()) {}

  ~connection() {
    std::lock_guard<std::mutex> guard{shared_->conns_mtx};
    shared_->conns.erase(this);
    if (shared_->conns.empty()) shared_->conns_cv.notify_all();
  }

  strand_type executor() { return socket_.get_executor(); }

  void start() {
    {
      std::lock_guard<std::mutex> guard{shared_->conns_mtx};
      shared_->conns.emplace(this, weak_from_this());
    }
    boost::system::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
    socket_.set_option(tcp::no_delay{true}, ec);
    last_activity_ = clock_type::now();
    arm_timer(shared_->cfg.idle_timeout);
    do_read();
  }

  /// Closes the connection from `server::stop` (no I/O thread is running,
  /// or on the strand).
  void shutdown_now() {
    if (active_) abort_response(499);
    close_socket();
  }

  // -- called through response_writer (on the strand) -------------------------

  void do_reply(uint64_t id, int status, std::string content_type, std::string body,
                header_list extra) {
    if (!accepts(id) || status_ != 0) return;
    status_ = sanitize_status(status);
    std::string out;
    out.reserve(160 + content_type.size() + (body.size() <= coalesce_limit ? body.size() : 0));
    append_head(out, status_, content_type, extra);
    out += "Content-Length: ";
    out += std::to_string(body.size());
    out += "\r\n";
    append_connection_header(out);
    out += "\r\n";
    final_queued_ = true;
    bytes_out_ += out.size() + body.size();
    note_request_id(extra);
    notify_observer(status_);
    if (body.size() <= coalesce_limit) {
      out += body;
      enqueue(std::move(out));
    } else {
      pending_.emplace_back(std::move(out));
      enqueue(std::move(body));
    }
  }

  void do_begin_stream(uint64_t id, int status, std::string content_type, header_list extra) {
    if (!accepts(id) || status_ != 0) return;
    status_ = sanitize_status(status);
    streaming_ = true;
    std::string out;
    out.reserve(192);
    append_head(out, status_, content_type, extra);
    if (http10_) {
      // HTTP/1.0 has no chunked encoding: the end of the body is the close.
      keep_alive_ = false;
      chunked_ = false;
    } else {
      chunked_ = true;
      out += "Transfer-Encoding: chunked\r\n";
    }
    append_connection_header(out);
    out += "\r\n";
    bytes_out_ += out.size();
    note_request_id(extra);
    enqueue(std::move(out));
  }

  void do_chunk(uint64_t id, std::string data) {
    if (!accepts(id) || !streaming_ || final_queued_ || data.empty()) return;
    if (!chunked_) {
      bytes_out_ += data.size();
      enqueue(std::move(data));
      return;
    }
    char prefix[24];
    int len = std::snprintf(prefix, sizeof(prefix), "%zx\r\n", data.size());
    bytes_out_ += static_cast<size_t>(len) + data.size() + 2;
    if (data.size() <= coalesce_limit) {
      std::string out;
      out.reserve(static_cast<size_t>(len) + data.size() + 2);
      out.append(prefix, static_cast<size_t>(len));
      out += data;
      out += "\r\n";
      enqueue(std::move(out));
    } else {
      pending_.emplace_back(prefix, static_cast<size_t>(len));
      pending_.emplace_back(std::move(data));
      enqueue("\r\n");
    }
  }

  void do_end_stream(uint64_t id) {
    if (!accepts(id) || !streaming_ || final_queued_) return;
    final_queued_ = true;
    if (chunked_) bytes_out_ += 5;
    notify_observer(status_);
    if (chunked_) pending_.emplace_back("0\r\n\r\n");
    after_queue();
  }

  void do_on_close(uint64_t id, std::function<void()> f) {
    if (id == id_ && active_ && !dead_) {
      on_close_.emplace_back(std::move(f));
      return;
    }
    // Either the response already completed (drop) or this connection died
    // before completing it (call now).
    if (id == id_ && aborted_) invoke_safely(f);
  }

  /// The writer of response `id` was dropped before finishing it.
  void do_abandon(uint64_t id, bool streaming) {
    if (!accepts(id)) return;
    if (!streaming && status_ == 0) {
      monitoring::log(monitoring::log_component::http)
          .error(
              "http server: handler for {} dropped its response writer "
              "without replying request_id={}",
              obs_req_.path.empty() ? std::string{"request"} : obs_req_.path,
              client_request_id_.empty() ? std::string_view{"-"} : client_request_id_);
      internal_error(500, "the handler did not produce a response", "server_error");
      return;
    }
    if (status_ != 0 && final_queued_) return;
    abort_response(status_ != 0 ? status_ : 500);
    close_socket();
  }

  /// The handler closes the connection instead of answering request `id`.
  void do_drop(uint64_t id) {
    if (!accepts(id)) return;
    abort_response(499);
    close_socket();
  }

  std::atomic<bool> closed_{false};

 private:
  bool accepts(uint64_t id) const { return active_ && id == id_ && !dead_; }

  void append_connection_header(std::string& out) const {
    if (!keep_alive_)
      out += "Connection: close\r\n";
    else if (http10_)
      out += "Connection: keep-alive\r\n";
  }

  static void invoke_safely(const std::function<void()>& f) {
    if (!f) return;
    try {
      f();
    } catch (const std::exception& e) {
      monitoring::log(monitoring::log_component::http)
          .error("http server: on_close callback threw: {}", e.what());
    } catch (...) {
      monitoring::log(monitoring::log_component::http)
          .error("http server: on_close callback threw");
    }
  }

  // -- timer ------------------------------------------------------------------

  void arm_timer(clock_type::duration d) {
    timer_.expires_after(d);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->on_timer();
    });
  }

  void on_timer() {
    if (dead_) return;
    auto now = clock_type::now();
    clock_type::duration limit = shared_->cfg.idle_timeout;
    if (closing_)
      limit = std::min<clock_type::duration>(limit, linger_time);
    else if (active_) {
      // Responses in progress never time out here; look again later.
      arm_timer(limit);
      return;
    }
    auto idle = now - last_activity_;
    if (idle >= limit) {
      close_socket();
      return;
    }
    arm_timer(limit - idle);
  }

  // -- reading ----------------------------------------------------------------

  /// Reads into `read_chunk_`, never into `buffer_`: the parser consumes
  /// `buffer_` while a read is pending (a response completes and the next
  /// pipelined request is parsed), and consuming all of a flat_buffer
  /// rewinds it, so a read targeting it would land where nobody looks.
  void do_read() {
    if (reading_ || dead_ || read_eof_) return;
    if (active_ && buffer_.size() >= pipeline_limit) return;  // Resumed by complete_response.
    reading_ = true;
    socket_.async_read_some(net::buffer(read_chunk_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              self->on_read(ec, n);
                            });
  }

  void on_read(boost::system::error_code ec, size_t n) {
    reading_ = false;
    if (dead_) return;
    if (ec) {
      read_eof_ = true;
      if (active_) abort_response(499);
      close_socket();
      return;
    }
    last_activity_ = clock_type::now();
    if (closing_) {
      buffer_.consume(buffer_.size());
    } else {
      buffer_.commit(net::buffer_copy(buffer_.prepare(n), net::buffer(read_chunk_.data(), n)));
    }
    if (!closing_ && !active_) {
      parse();
    }
    do_read();
  }

  void parse() {
    while (!active_ && !closing_ && !dead_) {
      if (!parser_) {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(shared_->cfg.max_header_bytes));
        parser_->body_limit(static_cast<std::uint64_t>(shared_->cfg.max_body_bytes));
        parser_->eager(true);
        header_seen_ = false;
      }
      if (buffer_.size() == 0) return;
      boost::system::error_code ec;
      auto used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec && ec != bhttp::error::need_more) {
        protocol_error(ec);
        return;
      }
      if (!header_seen_ && parser_->is_header_done()) {
        header_seen_ = true;
        if (!parser_->is_done()) {
          auto expect = parser_->get()[bhttp::field::expect];
          if (iequals(to_sv(expect), "100-continue")) enqueue("HTTP/1.1 100 Continue\r\n\r\n");
        }
      }
      if (parser_->is_done()) {
        dispatch();
        continue;
      }
      if (ec == bhttp::error::need_more || used == 0) return;
    }
  }

  void protocol_error(boost::system::error_code ec) {
    auto& cfg = shared_->cfg;
    begin_response();  // With an empty request view unless the header parsed.
    if (parser_ && parser_->is_header_done()) {
      auto& msg = parser_->get();
      obs_req_.method = std::string{msg.method_string()};
      obs_req_.target = std::string{msg.target()};
      obs_req_.path = obs_req_.target.substr(0, obs_req_.target.find('?'));
    }
    parser_.reset();
    keep_alive_ = false;
    if (ec == bhttp::error::header_limit)
      internal_error(431,
                     "request header fields too large (limit " +
                         std::to_string(cfg.max_header_bytes) + " bytes)",
                     "invalid_request_error");
    else if (ec == bhttp::error::body_limit)
      internal_error(
          413, "request body too large (limit " + std::to_string(cfg.max_body_bytes) + " bytes)",
          "invalid_request_error");
    else
      internal_error(400, "malformed HTTP request: " + ec.message(), "invalid_request_error");
  }

  void begin_response() {
    active_ = true;
    aborted_ = false;
    ++id_;
    status_ = 0;
    streaming_ = false;
    chunked_ = false;
    final_queued_ = false;
    observed_ = false;
    keep_alive_ = true;
    http10_ = false;
    started_ = clock_type::now();
    obs_req_ = request{};
    bytes_in_ = 0;
    bytes_out_ = 0;
    obs_request_id_.clear();
    obs_traceparent_.clear();
    client_request_id_.clear();
    span_ = monitoring::span{};
    hold_ = shared_from_this();
  }

  void internal_error(int status, std::string message, const char* type) {
    auto body = error_body(status, std::move(message), type);
    do_reply(id_, status, "application/json",
             body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), {});
  }

  void internal_error(int status, std::string message, const char* type, header_list extra) {
    auto body = error_body(status, std::move(message), type);
    do_reply(id_, status, "application/json",
             body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), std::move(extra));
  }

  void dispatch() {
    auto msg = parser_->release();
    parser_.reset();
    shared_->requests.fetch_add(1, std::memory_order_relaxed);
    begin_response();
    keep_alive_ = msg.keep_alive();
    http10_ = msg.version() < 11;
    request req;
    req.method = std::string{msg.method_string()};
    req.target = std::string{msg.target()};
    auto qpos = req.target.find('?');
    if (qpos == std::string::npos) {
      req.path = req.target;
    } else {
      req.path = req.target.substr(0, qpos);
      req.query = req.target.substr(qpos + 1);
    }
    req.headers.reserve(8);
    for (auto& field : msg)
      req.headers.emplace_back(std::string{field.name_string()}, std::string{field.value()});
    req.body = std::move(msg.body());
    req.remote_address = remote_;
    if (shared_->obs) {
      obs_req_.method = req.method;
      obs_req_.target = req.target;
      obs_req_.path = req.path;
      obs_req_.query = req.query;
      obs_req_.remote_address = remote_;
      bytes_in_ = req.body.size();
      if (shared_->obs_ids) obs_traceparent_ = req.header("traceparent");
    }
    if (shared_->cfg.tracer != nullptr && shared_->cfg.tracer->enabled()) start_span(req);
    if (shared_->stopping.load(std::memory_order_acquire)) {
      internal_error(503, "server shutting down", "server_error");
      close_socket();
      return;
    }
    const handler* fn = nullptr;
    auto i = shared_->routes.find(req.path);
    if (i == shared_->routes.end()) {
      if (!shared_->fallback) {
        internal_error(404, "no route for " + req.method + " " + req.path, "invalid_request_error");
        return;
      }
      fn = &shared_->fallback;
    } else {
      auto& methods = i->second.methods;
      if (std::find(methods.begin(), methods.end(), req.method) == methods.end()) {
        internal_error(405,
                       "method " + req.method + " not allowed for " + req.path +
                           " (allowed: " + i->second.allow + ")",
                       "invalid_request_error", {{"Allow", i->second.allow}});
        return;
      }
      fn = &i->second.fn;
    }
    note_client_request_id(req.headers);
    std::shared_ptr<response_writer> writer{new response_writer(weak_from_this(), id_)};
    writer_ = writer;
    try {
      (*fn)(std::move(req), writer);
    } catch (const std::exception& e) {
      handler_threw(*writer, e.what());
    } catch (...) {
      handler_threw(*writer, "unknown exception");
    }
  }

  /// Opens the request's server span and hands its context to the handler
  /// as the request's traceparent.
  void start_span(request& req) {
    auto parent =
        monitoring::span_context::parse(req.header("traceparent"), req.header("tracestate"));
    bool known = shared_->routes.count(req.path) != 0;
    span_ = shared_->cfg.tracer->start_span(known ? req.method + " " + req.path : req.method,
                                            monitoring::span_kind::server,
                                            parent ? *parent : monitoring::span_context{});
    if (span_.is_recording()) {
      span_.set_attribute("http.request.method", req.method);
      span_.set_attribute("url.path", req.path);
      if (known) span_.set_attribute("http.route", req.path);
      span_.set_attribute("client.address", remote_);
      span_.set_attribute("network.protocol.version", http10_ ? "1.0" : "1.1");
    }
    // The handler (and what it calls) sees this span as the parent; an
    // invalid traceparent's tracestate means nothing.
    auto ours = span_.traceparent();
    bool replaced = false;
    for (auto& [name, value] : req.headers) {
      if (boost::beast::iequals(name, "traceparent")) {
        value = replaced ? std::string{} : ours;
        replaced = true;
      } else if (!parent && boost::beast::iequals(name, "tracestate")) {
        value.clear();
      }
    }
    if (!replaced) req.headers.emplace_back("traceparent", std::move(ours));
  }

  /// Ends the request's server span with the response's status.
  void end_span(int status) {
    if (!span_.is_recording()) return;
    span_.set_attribute("http.response.status_code", status);
    if (status >= 500) {
      span_.set_attribute("error.type", std::to_string(status));
      span_.set_status(monitoring::status_code::error);
    }
    span_.end();
  }

  void handler_threw(response_writer& writer, const char* what) {
    monitoring::log(monitoring::log_component::http)
        .error("http server: handler for {} {} threw: {} request_id={}", obs_req_.method,
               obs_req_.path, what,
               client_request_id_.empty() ? std::string_view{"-"} : client_request_id_);
    uint8_t expected = 0;
    if (writer.phase_.compare_exchange_strong(expected, 2)) {
      internal_error(500, std::string{"internal error: "} + what, "server_error");
    } else if (expected == 1) {
      writer.phase_.store(2);
      do_abandon(writer.id_, true);
    }
  }

  // -- writing ----------------------------------------------------------------

  void enqueue(std::string data) {
    pending_.emplace_back(std::move(data));
    after_queue();
  }

  void after_queue() {
    if (writing_ || dead_) return;
    if (!pending_.empty())
      flush();
    else if (final_queued_ && active_)
      complete_response();
  }

  void flush() {
    writing_ = true;
    inflight_.swap(pending_);
    auto on_done = [self = shared_from_this()](boost::system::error_code ec, size_t) {
      self->on_write(ec);
    };
    if (inflight_.size() == 1) {
      net::async_write(socket_, net::buffer(inflight_.front()), std::move(on_done));
      return;
    }
    buffers_.clear();
    for (auto& s : inflight_) buffers_.emplace_back(net::buffer(s));
    net::async_write(socket_, buffers_, std::move(on_done));
  }

  void on_write(boost::system::error_code ec) {
    writing_ = false;
    inflight_.clear();
    if (dead_) return;
    if (ec) {
      if (active_) abort_response(499);
      close_socket();
      return;
    }
    last_activity_ = clock_type::now();
    after_queue();
  }

  void complete_response() {
    active_ = false;
    on_close_.clear();
    writer_.reset();
    auto self = std::move(hold_);
    if (!keep_alive_) {
      graceful_close();
      return;
    }
    parse();
    do_read();
  }

  /// Keeps the client's X-Request-Id (when it is a printable token of at
  /// most 128 bytes) for the log lines of a handler that throws or drops its
  /// writer: the handler owns the request by then. The string keeps its
  /// capacity from request to request: no allocation per request.
  void note_client_request_id(const header_list& headers) {
    for (const auto& [name, value] : headers) {
      if (!boost::beast::iequals(name, "x-request-id")) continue;
      bool printable = value.size() <= 128 && std::all_of(value.begin(), value.end(), [](char c) {
                         return c > 0x20 && c < 0x7f;
                       });
      if (printable) client_request_id_.assign(value);
      return;
    }
  }

  /// Keeps the response's X-Request-Id for the observer.
  void note_request_id(const header_list& headers) {
    if (!shared_->obs_ids) return;
    for (const auto& [name, value] : headers)
      if (boost::beast::iequals(name, "x-request-id")) obs_request_id_ = value;
  }

  /// Reports the response to the observer, once.
  void notify_observer(int status) {
    end_span(status);
    if (observed_ || !shared_->obs) return;
    observed_ = true;
    auto secs = std::chrono::duration<double>(clock_type::now() - started_);
    try {
      shared_->obs(exchange{obs_req_, status, secs.count(), bytes_in_, bytes_out_, obs_request_id_,
                            obs_traceparent_});
    } catch (const std::exception& e) {
      monitoring::log(monitoring::log_component::http)
          .error("http server: observer threw: {}", e.what());
    } catch (...) {
      monitoring::log(monitoring::log_component::http).error("http server: observer threw");
    }
  }

  /// Ends the response in progress without completing it.
  void abort_response(int status) {
    active_ = false;
    aborted_ = true;
    closed_.store(true);
    if (auto w = writer_.lock()) w->aborted_.store(true);
    writer_.reset();
    auto callbacks = std::move(on_close_);
    on_close_.clear();
    // Count the response before telling anyone it is gone, so that whoever
    // reacts to on_close already sees it in the metrics.
    notify_observer(status);
    for (auto& f : callbacks) invoke_safely(f);
    auto self = std::move(hold_);
  }

  /// Stops reading requests, half-closes and drains input until the peer
  /// closes (or `linger_time` passes), so that it reads our last response.
  void graceful_close() {
    closing_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      close_socket();
      return;
    }
    buffer_.consume(buffer_.size());
    do_read();
  }

  void close_socket() {
    if (dead_) return;
    dead_ = true;
    closed_.store(true);
    boost::system::error_code ec;
    socket_.close(ec);
    timer_.cancel();
    auto self = std::move(hold_);
  }

  socket_type socket_;
  std::shared_ptr<shared_config> shared_;
  net::steady_timer timer_;
  std::string remote_;
  /// Input received but not parsed yet (pipelined requests wait here).
  boost::beast::flat_buffer buffer_;
  /// Target of the pending socket read (see `do_read`).
  std::array<char, read_size> read_chunk_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool header_seen_ = false;
  bool reading_ = false;
  bool read_eof_ = false;
  bool closing_ = false;
  bool dead_ = false;
  clock_type::time_point last_activity_;

  // The response in progress (at most one; pipelined requests wait).
  bool active_ = false;
  bool aborted_ = false;
  uint64_t id_ = 0;
  int status_ = 0;
  bool streaming_ = false;
  bool chunked_ = false;
  bool final_queued_ = false;
  bool observed_ = false;
  bool keep_alive_ = true;
  bool http10_ = false;
  clock_type::time_point started_;
  request obs_req_;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
  std::string obs_request_id_;
  std::string obs_traceparent_;
  /// The client's X-Request-Id of the request in progress ("" if none).
  std::string client_request_id_;
  /// The request's server span (not recording without a tracer).
  monitoring::span span_;
  std::vector<std::function<void()>> on_close_;
  std::weak_ptr<response_writer> writer_;
  std::shared_ptr<connection> hold_;

  // Output.
  bool writing_ = false;
  std::vector<std::string> pending_;
  std::vector<std::string> inflight_;
  std::vector<net::const_buffer> buffers_;
};

}  // namespace detail

// -- response_writer ----------------------------------------------------------

response_writer::response_writer(std::weak_ptr<detail::connection> conn, uint64_t id)
    : conn_(std::move(conn)), id_(id) {}

response_writer::~response_writer() {
  auto phase = phase_.load();
  if (phase == 2) return;
  if (auto c = conn_.lock()) {
    auto id = id_;
    net::dispatch(c->executor(), [c, id, phase] { c->do_abandon(id, phase == 1); });
  }
}

void response_writer::reply(int status, std::string content_type, std::string body,
                            header_list extra_headers) {
  uint8_t expected = 0;
  if (!phase_.compare_exchange_strong(expected, 2)) return;
  if (auto c = conn_.lock()) {
    auto id = id_;
    net::dispatch(c->executor(), [c, id, status, ct = std::move(content_type), b = std::move(body),
                                  h = std::move(extra_headers)]() mutable {
      c->do_reply(id, status, std::move(ct), std::move(b), std::move(h));
    });
  }
}

void response_writer::reply_json(int status, const nlohmann::json& body) {
  reply(status, "application/json",
        body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void response_writer::begin_stream(int status, std::string content_type,
                                   header_list extra_headers) {
  uint8_t expected = 0;
  if (!phase_.compare_exchange_strong(expected, 1)) return;
  if (auto c = conn_.lock()) {
    auto id = id_;
    net::dispatch(c->executor(), [c, id, status, ct = std::move(content_type),
                                  h = std::move(extra_headers)]() mutable {
      c->do_begin_stream(id, status, std::move(ct), std::move(h));
    });
  }
}

void response_writer::write_chunk(std::string data) {
  if (phase_.load() != 1) return;
  if (auto c = conn_.lock()) {
    auto id = id_;
    net::dispatch(c->executor(),
                  [c, id, d = std::move(data)]() mutable { c->do_chunk(id, std::move(d)); });
  }
}

void response_writer::end_stream() {
  uint8_t expected = 1;
  if (!phase_.compare_exchange_strong(expected, 2)) return;
  if (auto c = conn_.lock()) {
    auto id = id_;
    net::dispatch(c->executor(), [c, id] { c->do_end_stream(id); });
  }
}

void response_writer::drop() {
  uint8_t expected = 0;
  if (!phase_.compare_exchange_strong(expected, 2)) return;
  if (auto c = conn_.lock()) {
    auto id = id_;
    net::dispatch(c->executor(), [c, id] { c->do_drop(id); });
  }
}

bool response_writer::closed() const {
  if (aborted_.load()) return true;
  auto c = conn_.lock();
  return !c || c->closed_.load();
}

void response_writer::on_close(std::function<void()> f) {
  if (!f) return;
  if (auto c = conn_.lock()) {
    auto id = id_;
    net::dispatch(c->executor(),
                  [c, id, f = std::move(f)]() mutable { c->do_on_close(id, std::move(f)); });
    return;
  }
  // The connection is gone: call back only if it aborted our response.
  if (aborted_.load()) f();
}

// -- server -------------------------------------------------------------------

server::server(server_config cfg)
    : state_(std::make_unique<detail::server_state>(std::move(cfg))) {}

server::~server() {
  stop();
}

void server::add_route(std::string path, std::vector<std::string> methods, handler h) {
  auto& r = state_->shared->routes[std::move(path)];
  for (auto& m : methods) {
    if (std::find(r.methods.begin(), r.methods.end(), m) != r.methods.end()) continue;
    if (!r.allow.empty()) r.allow += ", ";
    r.allow += m;
    r.methods.emplace_back(std::move(m));
  }
  r.fn = std::move(h);
}

void server::set_fallback(handler h) {
  state_->shared->fallback = std::move(h);
}

void server::set_observer(observer f, bool with_ids) {
  state_->shared->obs = std::move(f);
  state_->shared->obs_ids = with_ids;
}

namespace {

void accept_loop(detail::server_state* st) {
  st->acceptor.async_accept(net::make_strand(st->next_loop()), [st](boost::system::error_code ec,
                                                                    detail::socket_type socket) {
    if (ec == net::error::operation_aborted || !st->acceptor.is_open()) {
      std::lock_guard<std::mutex> guard{st->accept_mtx};
      st->accepting = false;
      st->accept_cv.notify_all();
      return;
    }
    if (ec) {
      monitoring::log(monitoring::log_component::http)
          .warn("http server: accept failed: {}", ec.message());
    } else {
      st->shared->connections.fetch_add(1, std::memory_order_relaxed);
      std::make_shared<detail::connection>(std::move(socket), st->shared)->start();
    }
    accept_loop(st);
  });
}

/// The connections still open.
std::vector<std::shared_ptr<detail::connection>> live_connections(detail::shared_config& shared) {
  std::vector<std::shared_ptr<detail::connection>> conns;
  std::lock_guard<std::mutex> guard{shared.conns_mtx};
  for (auto& [ptr, weak] : shared.conns)
    if (auto c = weak.lock()) conns.emplace_back(std::move(c));
  return conns;
}

void run_io(net::io_context& ioc, const char* who) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      monitoring::log(monitoring::log_component::http)
          .error("{}: exception escaped an I/O handler: {}", who, e.what());
    } catch (...) {
      monitoring::log(monitoring::log_component::http)
          .error("{}: exception escaped an I/O handler", who);
    }
  }
}

}  // namespace

caf::expected<uint16_t> server::start() {
  auto& st = *state_;
  auto& cfg = st.shared->cfg;
  auto subject = cfg.host + ":" + std::to_string(cfg.port);
  if (started_) return make_error(errc::http_connect, subject, "server already started");
  boost::system::error_code ec;
  tcp::endpoint ep;
  auto addr = net::ip::make_address(cfg.host, ec);
  if (!ec) {
    ep = tcp::endpoint{addr, cfg.port};
  } else {
    tcp::resolver resolver{st.ioc};
    auto results = resolver.resolve(cfg.host, std::to_string(cfg.port), ec);
    if (ec || results.empty())
      return make_error(errc::http_connect, subject, "cannot resolve host: " + ec.message());
    ep = results.begin()->endpoint();
  }
  st.acceptor.open(ep.protocol(), ec);
  if (!ec) st.acceptor.set_option(net::socket_base::reuse_address{true}, ec);
  if (!ec) st.acceptor.bind(ep, ec);
  if (!ec) st.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    st.acceptor.close(ignored);
    return make_error(errc::http_connect, subject, "cannot listen: " + ec.message());
  }
  auto port = st.acceptor.local_endpoint(ec).port();
  st.port = port;
  started_ = true;
  st.accepting = true;
  accept_loop(&st);
  if (st.external()) return port;
  auto n = std::max<size_t>(1, cfg.io_threads);
  for (size_t i = 0; i < n; ++i) threads_.emplace_back([&st] { run_io(st.ioc, "http server"); });
  return port;
}

void server::stop() {
  if (!started_ || stopped_) {
    stopped_ = true;
    return;
  }
  stopped_ = true;
  auto& st = *state_;
  st.shared->stopping.store(true, std::memory_order_release);
  if (st.external()) {
    stop_external();
    return;
  }
  st.ioc.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // No I/O thread runs now: close everything from here, then run the
  // io_context once more so that cancelled operations release their
  // connections.
  boost::system::error_code ec;
  st.acceptor.close(ec);
  auto conns = live_connections(*st.shared);
  for (auto& c : conns) c->shutdown_now();
  conns.clear();
  st.ioc.restart();
  run_io(st.ioc, "http server");
}

void server::stop_external() {
  // Others run the loops: close the listener on its strand and wait until
  // the accept loop ended (an accept that completed before the close has
  // registered its connection by then), then close every connection on its
  // strand and wait until they are gone (none of them runs a handler of
  // ours afterwards).
  auto& st = *state_;
  net::post(st.acceptor.get_executor(), [&st] {
    boost::system::error_code ec;
    st.acceptor.close(ec);
  });
  {
    std::unique_lock<std::mutex> guard{st.accept_mtx};
    st.accept_cv.wait(guard, [&st] { return !st.accepting; });
  }
  auto conns = live_connections(*st.shared);
  for (auto& c : conns) net::post(c->executor(), [c] { c->shutdown_now(); });
  conns.clear();
  std::unique_lock<std::mutex> guard{st.shared->conns_mtx};
  st.shared->conns_cv.wait(guard, [&st] { return st.shared->conns.empty(); });
}

uint16_t server::port() const {
  return state_->port.load();
}

uint64_t server::connections_accepted() const {
  return state_->shared->connections.load();
}

uint64_t server::requests_received() const {
  return state_->shared->requests.load();
}

}  // namespace opea::runtime::http
