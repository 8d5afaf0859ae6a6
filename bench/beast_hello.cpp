// opea-bench-beast-hello: the ceiling of the HTTP benchmarks. A minimal raw
// Boost.Beast asynchronous HTTP/1.1 keep-alive server (deliberately NOT
// runtime/http/server) that answers every request with 200 "Hello, world!".
//
//   opea-bench-beast-hello [--port N] [--threads N] [--host A]
//
// Prints "listening on HOST:PORT" once ready; exits on SIGINT/SIGTERM.

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

class session : public std::enable_shared_from_this<session> {
 public:
  explicit session(tcp::socket&& socket) : stream_(std::move(socket)) {}

  void run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

 private:
  void read() {
    req_ = {};
    http::async_read(
        stream_, buffer_, req_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      close();
      return;
    }
    res_ = {};
    res_.version(req_.version());
    res_.result(http::status::ok);
    res_.set(http::field::server, "beast-hello");
    res_.set(http::field::content_type, "text/plain");
    res_.keep_alive(req_.keep_alive());
    res_.body() = "Hello, world!";
    res_.prepare_payload();
    http::async_write(
        stream_, res_,
        [self = shared_from_this()](beast::error_code ec2, std::size_t) { self->on_write(ec2); });
  }

  void on_write(beast::error_code ec) {
    if (ec || !res_.keep_alive()) {
      close();
      return;
    }
    read();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(net::io_context& ioc, tcp::endpoint ep) : ioc_(ioc), acceptor_(net::make_strand(ioc)) {
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  void accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           [self = shared_from_this()](beast::error_code ec, tcp::socket s) {
                             if (!ec) {
                               s.set_option(tcp::no_delay(true));
                               std::make_shared<session>(std::move(s))->run();
                             }
                             if (ec != net::error::operation_aborted) self->accept();
                           });
  }

  void close() {
    beast::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  net::io_context& ioc_;
  tcp::acceptor acceptor_;
};

void usage() {
  std::cerr << "usage: opea-bench-beast-hello [--host ADDR] [--port N] [--threads N]\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned long port = 0;
  unsigned long threads = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) {
      usage();
      return 2;
    }
    if (arg == "--port") {
      port = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--threads") {
      threads = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--host") {
      host = argv[++i];
    } else {
      usage();
      return 2;
    }
  }
  if (threads < 1 || port > 65535) {
    usage();
    return 2;
  }
  net::io_context ioc{static_cast<int>(threads)};
  std::shared_ptr<listener> lst;
  try {
    lst = std::make_shared<listener>(
        ioc, tcp::endpoint{net::ip::make_address(host), static_cast<unsigned short>(port)});
  } catch (const std::exception& e) {
    std::cerr << "opea-bench-beast-hello: cannot listen on " << host << ":" << port << ": "
              << e.what() << "\n";
    return 1;
  }
  lst->accept();
  net::signal_set signals{ioc, SIGINT, SIGTERM};
  signals.async_wait([&](beast::error_code, int) {
    lst->close();
    ioc.stop();
  });
  std::cout << "listening on " << host << ":" << lst->port() << std::endl;
  std::vector<std::thread> pool;
  for (unsigned long t = 1; t < threads; ++t) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  return 0;
}
