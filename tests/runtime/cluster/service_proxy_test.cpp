// The cluster proxy and endpoint in one process: replica choice, failover
// when a replica's actor goes down (as when its node dies), errors crossing
// the wire, streaming, and envelopes from a newer node passing through a
// real BASP link with their unknown fields intact.

#include <future>
#include <mutex>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <catch2/catch.hpp>

#include "monitoring/metrics_registry.hpp"
#include "runtime/cluster/remote_protocol.hpp"
#include "runtime/cluster/service_endpoint.hpp"
#include "runtime/service/service_proxy.hpp"
#include "runtime/errors.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "opea_test/v2/envelope.pb.h"
#include "tests/support/collecting_sink.hpp"

using namespace opea::runtime;
using namespace std::chrono_literals;

namespace {

struct fixture {
  caf::actor_system_config cfg;
  // Declared before the actor system: outlives every actor that counts in it.
  opea::monitoring::metrics_registry metrics{"test"};
  std::unique_ptr<caf::actor_system> sys;
  std::vector<std::unique_ptr<megaservice>> hosts;
  fixture() {
    cfg.set("scheduler.max-threads", 2);
    cfg.set("logger.console", caf::atom("none"));
    sys = std::make_unique<caf::actor_system>(cfg);
  }
  /// An endpoint hosting a service that answers {"by": tag, "echo": input}.
  caf::actor endpoint(const std::string& tag, bool fail = false) {
    service_orchestrator o;
    o.add(micro_service::local("svc", [tag, fail](const json& in, const request_context& ctx) {
      if (fail) return caf::expected<json>{make_error(errc::service_failed, "svc", "boom " + tag)};
      if (ctx.sink) ctx.sink->write("piece-" + tag);
      return caf::expected<json>{json{{"by", tag}, {"echo", in}}};
    }));
    megaservice_options opts;
    opts.name = "hosted." + tag;
    hosts.push_back(std::make_unique<megaservice>(*sys, o, opts, metrics));
    std::shared_ptr<const megaservice> host{hosts.back().get(), [](const megaservice*) {}};
    // Endpoints reach proxies as plain handles (as from the directory).
    return caf::actor_cast<caf::actor>(
        sys->spawn(service_endpoint, std::string{"svc"}, host, &metrics));
  }
  service_proxy_actor proxy(bool idempotent, replica_choice choice = replica_choice::round_robin) {
    service_proxy_options opts;
    opts.service = "svc";
    opts.idempotent = idempotent;
    opts.choice = choice;
    opts.distributed = true;
    return sys->spawn(service_proxy, opts);
  }
  caf::expected<json> call(const service_actor& p, json input, stream_sink_ptr sink = nullptr) {
    auto ctx = std::make_shared<request_context>();
    ctx->request_id = "r1";
    ctx->deadline = clock_type::now() + 10s;
    ctx->sink = std::move(sink);
    caf::scoped_actor self{*sys};
    caf::expected<json> out = json{};
    self->request(p, 10s, invoke_atom::value,
                  json_ptr{std::make_shared<const json>(std::move(input))},
                  request_context_ptr{ctx})
        .receive([&](json_ptr res) { out = *res; }, [&](caf::error& err) { out = std::move(err); });
    return out;
  }
  ~fixture() {
    for (auto& h : hosts) h->stop();
  }
};

}  // namespace

TEST_CASE_METHOD(fixture, "a proxy without replicas answers service_unavailable",
                 "[cluster][proxy]") {
  auto p = proxy(true);
  auto res = call(p, {{"x", 1}});
  REQUIRE_FALSE(res);
  REQUIRE(code_of(res.error()) == errc::service_unavailable);
  REQUIRE(describe(res.error()) ==
          "service 'svc' is unavailable: no live replica (its nodes are down or not joined yet)");
}

TEST_CASE_METHOD(fixture, "round robin alternates replicas; outputs and integers are exact",
                 "[cluster][proxy]") {
  auto p = proxy(true);
  caf::anon_send(p, replica_up_atom::value, std::string{"a"}, endpoint("a"));
  caf::anon_send(p, replica_up_atom::value, std::string{"b"}, endpoint("b"));
  std::vector<std::string> by;
  for (int i = 0; i < 4; ++i) {
    auto res = call(p, {{"n", 9007199254740993LL}, {"i", i}});
    REQUIRE(res);
    REQUIRE((*res)["echo"] == json{{"n", 9007199254740993LL}, {"i", i}});
    by.push_back((*res)["by"]);
  }
  REQUIRE(by == std::vector<std::string>{"a", "b", "a", "b"});
}

TEST_CASE_METHOD(fixture, "a replica's error crosses the wire with its code and detail",
                 "[cluster][proxy]") {
  auto p = proxy(true);
  caf::anon_send(p, replica_up_atom::value, std::string{"a"}, endpoint("a", true));
  auto res = call(p, {{"x", 1}});
  REQUIRE_FALSE(res);
  REQUIRE(code_of(res.error()) == errc::service_failed);
  REQUIRE(describe(res.error()) == "service 'svc' failed: boom a");
}

TEST_CASE_METHOD(fixture, "streamed pieces reach the caller's sink before the output",
                 "[cluster][proxy]") {
  auto p = proxy(true);
  caf::anon_send(p, replica_up_atom::value, std::string{"a"}, endpoint("a"));
  auto sink = std::make_shared<opea::test::collecting_sink>();
  auto res = call(p, {{"x", 1}}, sink);
  REQUIRE(res);
  REQUIRE(sink->pieces() == std::vector<std::string>{"piece-a"});
}

TEST_CASE_METHOD(fixture, "a replica that goes down leaves the proxy; later calls go elsewhere",
                 "[cluster][proxy]") {
  auto p = proxy(false);
  auto a = endpoint("a");
  caf::anon_send(p, replica_up_atom::value, std::string{"a"}, a);
  caf::anon_send(p, replica_up_atom::value, std::string{"b"}, endpoint("b"));
  caf::anon_send_exit(a, caf::exit_reason::kill);
  // The down message reaches the proxy before the next call's dispatch or
  // during it; either way no call may reach a dead replica: all go to b.
  for (int i = 0; i < 4; ++i) {
    auto res = call(p, {{"i", i}});
    if (!res) {
      // A call dispatched to a before its down message arrived.
      REQUIRE(code_of(res.error()) == errc::node_down);
      REQUIRE(describe(res.error()) ==
              "service 'svc': node 'a' left the cluster while the call was in flight (not "
              "retried: the service is not idempotent)");
      continue;
    }
    REQUIRE((*res)["by"] == "b");
  }
  SECTION("replica_down removes a node's replica by name") {
    caf::anon_send(p, replica_down_atom::value, std::string{"b"});
    auto res = call(p, {{"x", 1}});
    REQUIRE_FALSE(res);
    REQUIRE(code_of(res.error()) == errc::service_unavailable);
  }
}

TEST_CASE("an envelope from a newer node passes a BASP link with its unknown fields",
          "[cluster][proxy]") {
  // Two actor systems in this process talk over a real middleman link on
  // loopback: "old" hosts the endpoint and knows only opea.v1.Envelope; the
  // "newer" side speaks opea_test.v2.Envelope (tests/proto), the same fields
  // plus three that v1 lacks, and expects them back intact in the reply.
  auto make_cfg = [] {
    auto cfg = std::make_unique<caf::actor_system_config>();
    cfg->load<caf::io::middleman>();
    cfg->set("scheduler.max-threads", 1);
    cfg->set("logger.console", caf::atom("none"));
    return cfg;
  };
  auto old_cfg = make_cfg();
  auto new_cfg = make_cfg();
  opea::monitoring::metrics_registry metrics{"old"};  // outlives both systems' actors
  caf::actor_system old_sys{*old_cfg};
  caf::actor_system new_sys{*new_cfg};
  service_orchestrator o;
  o.add(micro_service::local("svc", [](const json& in, const request_context&) {
    return caf::expected<json>{json{{"seen", in}}};
  }));
  megaservice host{old_sys, o, {"hosted.svc"}, metrics};
  std::shared_ptr<const megaservice> shared{&host, [](const megaservice*) {}};
  auto ep = old_sys.spawn(service_endpoint, std::string{"svc"}, shared, &metrics);
  auto port = old_sys.middleman().publish(ep, 0, "127.0.0.1");
  REQUIRE(port);
  // Typed: the endpoint's interface is checked when the link is made.
  auto remote = new_sys.middleman().remote_actor<endpoint_actor>("127.0.0.1", *port);
  REQUIRE(remote);

  opea_test::v2::Envelope call;
  call.set_request_id("req-7");
  call.set_service("svc");
  call.set_json_text(R"({"q":"hi"})");
  call.mutable_trace()->set_traceparent(
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  call.set_tenant("acme");
  call.mutable_routing()->set_region("eu-west");
  call.mutable_routing()->set_priority(7);
  call.add_tags("gold");
  call.add_tags("beta");
  auto bytes = call.SerializeAsString();
  caf::scoped_actor self{new_sys};
  self->send(*remote, rinvoke_atom::value, uint64_t{1}, bytes, false);
  std::string reply;
  self->receive([&](rreply_atom, uint64_t id, const std::string& r) {
    REQUIRE(id == 1);
    reply = r;
  });
  // The newer node reads its own fields back from the older node's reply.
  opea_test::v2::Envelope env;
  REQUIRE(env.ParseFromString(reply));
  REQUIRE(env.request_id() == "req-7");
  REQUIRE(json::parse(env.json_text()) == json{{"seen", {{"q", "hi"}}}});
  REQUIRE(env.tenant() == "acme");
  REQUIRE(env.routing().region() == "eu-west");
  REQUIRE(env.routing().priority() == 7);
  REQUIRE(std::vector<std::string>(env.tags().begin(), env.tags().end()) ==
          std::vector<std::string>{"gold", "beta"});
  // To the older schema they are unknown fields 15, 16, 17 (17 twice: repeated).
  opea::v1::Envelope as_v1;
  REQUIRE(as_v1.ParseFromString(reply));
  const auto& unknown = as_v1.GetReflection()->GetUnknownFields(as_v1);
  std::vector<int> numbers;
  for (int i = 0; i < unknown.field_count(); ++i) numbers.push_back(unknown.field(i).number());
  REQUIRE(numbers == std::vector<int>{15, 16, 17, 17});

  SECTION("garbage bytes get a bad_request naming the envelope, and the endpoint lives on") {
    self->send(*remote, rinvoke_atom::value, uint64_t{2}, std::string{"\xff\xff\xff"}, false);
    self->receive(
        [&](rfail_atom, uint64_t id, uint8_t code, const std::string& subject, const std::string&) {
          REQUIRE(id == 2);
          REQUIRE(static_cast<errc>(code) == errc::bad_request);
          REQUIRE(subject == "opea.v1.Envelope");
        });
    self->send(*remote, rinvoke_atom::value, uint64_t{3}, bytes, false);
    self->receive([&](rreply_atom, uint64_t id, const std::string&) { REQUIRE(id == 3); });
  }
  caf::anon_send_exit(ep, caf::exit_reason::user_shutdown);
  host.stop();
}

TEST_CASE_METHOD(fixture, "least outstanding prefers the replica with fewer calls in flight",
                 "[cluster][proxy]") {
  // Replica a holds its first call until released; meanwhile every call
  // goes to b, which round robin would not do.
  auto gate = std::make_shared<std::promise<void>>();
  std::shared_future<void> open = gate->get_future().share();
  service_orchestrator o;
  o.add(micro_service::local("svc", [open](const json& in, const request_context&) {
    open.wait();
    return caf::expected<json>{json{{"by", "a"}, {"echo", in}}};
  }));
  hosts.push_back(std::make_unique<megaservice>(*sys, o, megaservice_options{"hosted.a"}, metrics));
  std::shared_ptr<const megaservice> host{hosts.back().get(), [](const megaservice*) {}};
  auto slow =
      caf::actor_cast<caf::actor>(sys->spawn(service_endpoint, std::string{"svc"}, host, &metrics));
  auto p = proxy(true, replica_choice::least_outstanding);
  caf::anon_send(p, replica_up_atom::value, std::string{"a"}, slow);
  caf::anon_send(p, replica_up_atom::value, std::string{"b"}, endpoint("b"));
  auto ctx = std::make_shared<request_context>();
  ctx->deadline = clock_type::now() + 10s;
  caf::scoped_actor first{*sys};
  auto held = first->request(p, 10s, invoke_atom::value,
                             json_ptr{std::make_shared<const json>(json{{"i", 0}})},
                             request_context_ptr{ctx});
  for (int i = 1; i <= 3; ++i) {
    auto res = call(p, {{"i", i}});
    REQUIRE(res);
    REQUIRE((*res)["by"] == "b");
  }
  gate->set_value();
  std::string by;
  held.receive([&](json_ptr res) { by = (*res)["by"]; },
               [&](caf::error& err) { FAIL(describe(err)); });
  REQUIRE(by == "a");
}
