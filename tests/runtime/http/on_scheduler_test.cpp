// The HTTP server and client on the CAF scheduler's workers
// (`configure_scheduler` with event loops, `server_config::loops`,
// `client_config::loops`): handlers run on CAF's threads and may send to actors
// that answer through the writer, `stop` waits for the connections, and a
// client destroyed with a request in flight fails it there.

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cctype>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "runtime/http/server.hpp"
#include "runtime/scheduler.hpp"

using namespace opea::runtime;
using namespace opea::runtime::http;

namespace {

using shout_atom = caf::atom_constant<caf::atom("oshout")>;
using writer_ptr = std::shared_ptr<response_writer>;

/// Answers the request it is handed through its writer, upper-cased.
caf::behavior shouter(caf::event_based_actor*) {
  return {[](shout_atom, std::string body, writer_ptr w) {
    for (auto& c : body) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    w->reply(200, "text/plain", std::move(body));
  }};
}

/// An actor system with two workers, the first `io_workers` of which run
/// a loop each, and the loops (which outlive the system).
struct io_node {
  std::vector<std::unique_ptr<boost::asio::io_context>> owned;
  std::vector<boost::asio::io_context*> loops;
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  explicit io_node(size_t io_workers = 1) {
    for (size_t i = 0; i < io_workers; ++i) {
      owned.push_back(std::make_unique<boost::asio::io_context>());
      loops.push_back(owned.back().get());
    }
    configure_scheduler(cfg, scheduler_policy::spinning, 2, loops);
    sys.emplace(cfg);
  }
};

caf::expected<client_response> fetch(client& c, client_request req) {
  std::promise<caf::expected<client_response>> result;
  c.async_request(std::move(req),
                  [&](caf::expected<client_response> res) { result.set_value(std::move(res)); });
  return result.get_future().get();
}

client_request post(const std::string& url, std::string body) {
  client_request req;
  req.method = "POST";
  req.url = url;
  req.body = std::move(body);
  return req;
}

}  // namespace

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(writer_ptr)

TEST_CASE("a server and a client on the scheduler's workers answer through actors", "[http]") {
  auto io_workers = GENERATE(size_t{1}, size_t{2});
  INFO("io_workers " << io_workers);
  io_node node{io_workers};
  auto main_thread = std::this_thread::get_id();
  auto actor = node.sys->spawn(shouter);
  server_config scfg;
  scfg.host = "127.0.0.1";
  scfg.loops = node.loops;
  server srv{scfg};
  std::atomic<bool> handler_on_main{false};
  srv.add_route("/shout", {"POST"}, [&](request&& req, writer_ptr w) {
    if (std::this_thread::get_id() == main_thread) handler_on_main = true;
    caf::anon_send(actor, shout_atom::value, std::move(req.body), std::move(w));
  });
  auto port = srv.start();
  REQUIRE(port);
  auto base = "http://127.0.0.1:" + std::to_string(*port);
  client_config ccfg;
  ccfg.loops = node.loops;
  {
    client c{ccfg};
    for (int i = 0; i < 50; ++i) {
      auto res = fetch(c, post(base + "/shout", "hello " + std::to_string(i)));
      REQUIRE(res);
      CHECK(res->status == 200);
      CHECK(res->body == "HELLO " + std::to_string(i));
    }
    // Started on a thread that runs no loop, the requests take the loops in
    // turn, each with its own pool: one keep-alive connection per loop for
    // all 50 requests; they stay open in the pools while the server stops:
    // stop closes them and returns.
    CHECK(c.connections_opened() == io_workers);
    CHECK(srv.connections_accepted() == io_workers);
    srv.stop();
    auto after = fetch(c, post(base + "/shout", "late"));
    REQUIRE_FALSE(after);
    CHECK(code_of(after.error()) == errc::http_connect);
  }
  CHECK_FALSE(handler_on_main);
  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
}

TEST_CASE("the gateway keeps serving while its I/O worker runs a long job", "[http]") {
  // /block's handler (on the I/O worker) sends to an actor that waits until
  // /release was served; the actor runs next on the same worker (its slot),
  // so /release is only read if another worker takes the loop over.
  io_node node;
  auto released = std::make_shared<std::promise<void>>();
  auto entered = std::make_shared<std::promise<void>>();
  auto blocker = node.sys->spawn([released, entered](caf::event_based_actor*) -> caf::behavior {
    return {[released, entered](shout_atom, std::string body, writer_ptr w) {
      entered->set_value();
      released->get_future().wait();
      w->reply(200, "text/plain", "released after " + body);
    }};
  });
  server_config scfg;
  scfg.host = "127.0.0.1";
  scfg.loops = node.loops;
  server srv{scfg};
  srv.add_route("/block", {"POST"}, [&](request&& req, writer_ptr w) {
    caf::anon_send(blocker, shout_atom::value, std::move(req.body), std::move(w));
  });
  srv.add_route("/release", {"POST"}, [&](request&&, writer_ptr w) {
    released->set_value();
    w->reply(200, "text/plain", "ok");
  });
  auto port = srv.start();
  REQUIRE(port);
  auto base = "http://127.0.0.1:" + std::to_string(*port);
  client c;  // Its own thread: this test is about the server's loop.
  std::promise<caf::expected<client_response>> blocked;
  auto req = post(base + "/block", "a long job");
  req.timeout = std::chrono::seconds{20};
  c.async_request(std::move(req),
                  [&](caf::expected<client_response> res) { blocked.set_value(std::move(res)); });
  entered->get_future().wait();  // The job runs: only then ask for /release.
  auto release = post(base + "/release", "");
  release.timeout = std::chrono::seconds{20};
  auto res = fetch(c, std::move(release));
  REQUIRE(res);
  CHECK(res->body == "ok");
  auto first = blocked.get_future().get();
  REQUIRE(first);
  CHECK(first->body == "released after a long job");
  srv.stop();
  caf::anon_send_exit(blocker, caf::exit_reason::user_shutdown);
}

TEST_CASE("a client on the scheduler's workers fails a request in flight when destroyed",
          "[http]") {
  io_node node;
  server_config scfg;
  scfg.host = "127.0.0.1";
  scfg.loops = node.loops;
  server srv{scfg};
  std::promise<void> arrived;
  srv.add_route("/never", {"POST"}, [&](request&&, writer_ptr w) {
    w->on_close([w] {});  // Held until the client leaves.
    arrived.set_value();
  });
  auto port = srv.start();
  REQUIRE(port);
  std::promise<caf::expected<client_response>> result;
  {
    client_config ccfg;
    ccfg.loops = node.loops;
    client c{ccfg};
    c.async_request(post("http://127.0.0.1:" + std::to_string(*port) + "/never", "x"),
                    [&](caf::expected<client_response> res) { result.set_value(std::move(res)); });
    arrived.get_future().get();
  }
  // The destructor does not wait: the request fails on a worker afterwards.
  auto res = result.get_future().get();
  REQUIRE_FALSE(res);
  CHECK(code_of(res.error()) == errc::http_connect);
  CHECK(describe(res.error()).find("client shut down") != std::string::npos);
  srv.stop();
}
