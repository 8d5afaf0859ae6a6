#include <catch2/catch.hpp>

#include <atomic>
#include <deque>
#include <future>
#include <mutex>

#include <caf/all.hpp>

#include "monitoring/metrics_registry.hpp"
#include "runtime/errors.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "runtime/megaservice/megaservice_actor.hpp"
#include "runtime/service/local_service_actor.hpp"
#include "tests/support/collecting_sink.hpp"

using namespace opea::runtime;

namespace {

struct fixture {
  caf::actor_system_config cfg;
  // Declared before the actor system: outlives every actor that counts in it.
  opea::monitoring::metrics_registry metrics{"test"};
  std::unique_ptr<caf::actor_system> sys;
  fixture() {
    cfg.set("scheduler.max-threads", 2);
    cfg.set("logger.console", caf::atom("none"));
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

micro_service append(const std::string& name, const std::string& suffix) {
  return micro_service::local(name, [suffix](const json& in, const request_context&) {
    return caf::expected<json>{json{{"text", in.at("text").get<std::string>() + suffix}}};
  });
}

double value_of(opea::monitoring::metrics_registry& reg, const std::string& series) {
  auto text = reg.serialize();
  auto pos = text.find(series + " ");
  if (pos == std::string::npos) return -1;
  return std::stod(text.substr(pos + series.size() + 1));
}

}  // namespace

TEST_CASE_METHOD(fixture, "linear two-node flow, as OPEA's test_service_orchestrator",
                 "[megaservice]") {
  service_orchestrator o;
  o.add(append("s1", "opea ")).add(append("s2", "project!"));
  o.flow_to("s1", "s2");
  megaservice m{*sys, o, {"mega"}, metrics};
  auto res = m.schedule({{"text", "hello, "}});
  REQUIRE(res);
  REQUIRE(*res->output == json{{"text", "hello, opea project!"}});
  REQUIRE(res->leaves == std::vector<std::string>{"s2"});
  REQUIRE(res->results.size() == 2);
  REQUIRE(value_of(metrics,
                   R"(opea_service_requests_total{node="test",megaservice="mega",service="s1"})") ==
          1);
  REQUIRE(
      value_of(metrics,
               R"(opea_megaservice_requests_total{node="test",code="200",megaservice="mega"})") ==
      1);
  REQUIRE(value_of(metrics, R"(megaservice_request_pending{node="test",megaservice="mega"})") == 0);
}

TEST_CASE_METHOD(fixture, "align hooks are per orchestrator", "[megaservice]") {
  service_orchestrator o1;
  o1.add(append("s1", "!"));
  o1.set_align_inputs([](const json& in, const align_node& node, const request_context&) {
    return align_result{}.set("text", "[" + node.name + "] " + in["text"].get<std::string>());
  });
  o1.set_align_outputs([](const json&, const align_node&, const json& in, const request_context&) {
    return align_result{}.set("input_was", in["text"]);
  });
  service_orchestrator o2;
  o2.add(append("s1", "?"));
  megaservice m1{*sys, o1, {"m1"}, metrics};
  megaservice m2{*sys, o2, {"m2"}, metrics};
  REQUIRE(*m1.schedule({{"text", "a"}})->output ==
          json{{"text", "[s1] a!"}, {"input_was", "[s1] a"}});
  REQUIRE(*m2.schedule({{"text", "a"}})->output == json{{"text", "a?"}});
}

TEST_CASE_METHOD(fixture, "hooks that change nothing pass documents on without copies",
                 "[megaservice]") {
  // s2 records where its input lives: the very document s1 answered.
  auto seen = std::make_shared<std::atomic<const json*>>(nullptr);
  service_orchestrator o;
  o.add(append("s1", "!"));
  o.add(micro_service::local("s2", [seen](const json& in, const request_context&) {
    seen->store(&in);
    return caf::expected<json>{json{{"text", in.at("text")}}};
  }));
  o.flow_to("s1", "s2");
  std::atomic<int> calls{0};
  o.set_align_inputs([&calls](const json&, const align_node&, const request_context&) {
    ++calls;
    return align_result{};
  });
  o.set_align_outputs(
      [&calls](const json&, const align_node&, const json&, const request_context&) {
        ++calls;
        return align_result{};
      });
  megaservice m{*sys, o, {"mega"}, metrics};
  auto res = m.schedule({{"text", "a"}});
  REQUIRE(res);
  REQUIRE(*res->output == json{{"text", "a!"}});
  REQUIRE(calls == 4);
  REQUIRE(res->results.size() == 2);
  REQUIRE(res->results[0].first == "s1");
  REQUIRE(seen->load() == res->results[0].second.get());
}

TEST_CASE_METHOD(fixture, "an expired request is not dispatched", "[megaservice]") {
  service_orchestrator o;
  o.add(append("s1", "x"));
  megaservice m{*sys, o, {"mega"}, metrics};
  request_context ctx;
  ctx.deadline = clock_type::now() - std::chrono::milliseconds{1};
  auto res = m.schedule({{"text", "a"}}, ctx);
  REQUIRE_FALSE(res);
  REQUIRE(code_of(res.error()) == errc::deadline_exceeded);
  REQUIRE(http_status_of(res.error()) == 504);
  REQUIRE(describe(res.error()) ==
          "deadline exceeded (s1): the deadline passed before service 's1' was dispatched");
  REQUIRE(value_of(metrics,
                   R"(opea_service_requests_total{node="test",megaservice="mega",service="s1"})") ==
          0);
  REQUIRE(
      value_of(
          metrics,
          R"(opea_megaservice_rejections_total{node="test",megaservice="mega",reason="deadline_exceeded"})") ==
      1);
}

TEST_CASE_METHOD(fixture, "a service error fails the request naming the service", "[megaservice]") {
  service_orchestrator o;
  o.add(micro_service::local("s1", [](const json&, const request_context&) -> caf::expected<json> {
    return make_error(errc::bad_request, "text", "field 'text' is required");
  }));
  megaservice m{*sys, o, {"mega"}, metrics};
  auto res = m.schedule({{"nope", 1}});
  REQUIRE_FALSE(res);
  REQUIRE(http_status_of(res.error()) == 400);
  REQUIRE(describe(res.error()) == "bad request (text): field 'text' is required");
  REQUIRE(
      value_of(
          metrics,
          R"(opea_service_errors_total{node="test",megaservice="mega",reason="bad_request",service="s1"})") ==
      1);
}

TEST_CASE_METHOD(fixture, "a crashing service is restarted; the next request succeeds",
                 "[megaservice][supervision]") {
  service_orchestrator o;
  micro_service s = micro_service::local("s1", [](const json& in, const request_context&) {
    if (in.value("crash", false)) throw std::runtime_error("boom");
    return caf::expected<json>{json{{"ok", true}}};
  });
  s.restart.max_restarts = 2;
  s.restart.backoff_base = std::chrono::milliseconds{1};
  o.add(s);
  megaservice m{*sys, o, {"mega"}, metrics};
  auto crashed = m.schedule({{"crash", true}});
  REQUIRE_FALSE(crashed);
  REQUIRE(code_of(crashed.error()) == errc::service_crashed);
  REQUIRE(describe(crashed.error()) == "service 's1' crashed: boom");
  REQUIRE(http_status_of(crashed.error()) == 502);
  auto next = m.schedule({{"crash", false}});
  REQUIRE(next);
  REQUIRE(*next->output == json{{"ok", true}});
  REQUIRE(m.status().restarts(0) == 1);
  REQUIRE(m.status().status(0) == service_status::running);
  REQUIRE(value_of(metrics,
                   R"(opea_service_restarts_total{node="test",megaservice="mega",service="s1"})") ==
          1);

  SECTION("past its restart intensity the service is failed and reported") {
    REQUIRE_FALSE(m.schedule({{"crash", true}}));  // 2nd restart (after backoff)
    REQUIRE(m.schedule({{"crash", false}}));
    REQUIRE_FALSE(m.schedule({{"crash", true}}));  // 3rd crash within 10 s: failed
    auto after = m.schedule({{"crash", false}});
    REQUIRE_FALSE(after);
    REQUIRE(code_of(after.error()) == errc::service_unavailable);
    REQUIRE(http_status_of(after.error()) == 503);
    REQUIRE(describe(after.error()) ==
            "service 's1' is unavailable: it exceeded its restart intensity (2 restart(s) within "
            "10000 ms; last exit: service 's1' crashed: boom)");
    REQUIRE(m.status().status(0) == service_status::failed);
    REQUIRE(value_of(metrics, R"(opea_service_up{node="test",megaservice="mega",service="s1"})") ==
            0);
    REQUIRE(m.describe_services()["s1"]["status"] == "failed");
  }
}

TEST_CASE_METHOD(fixture, "many concurrent requests all complete", "[megaservice]") {
  service_orchestrator o;
  o.add(append("a", "1")).add(append("b", "2")).add(append("c", "3"));
  o.flow_to("a", "b").flow_to("a", "c");
  megaservice m{*sys, o, {"mega"}, metrics};
  std::atomic<int> ok{0};
  std::promise<void> all;
  const int n = 2000;
  std::atomic<int> left{n};
  for (int i = 0; i < n; ++i)
    m.async_schedule({{"text", std::to_string(i)}}, {}, [&, i](caf::expected<flow_result> r) {
      if (r && (*r->output)["b"]["text"] == std::to_string(i) + "12" &&
          (*r->output)["c"]["text"] == std::to_string(i) + "13")
        ++ok;
      if (--left == 0) all.set_value();
    });
  all.get_future().wait();
  REQUIRE(ok == n);
}

TEST_CASE_METHOD(fixture, "an actor-bodied service answers asynchronously and crashes cleanly",
                 "[megaservice][supervision]") {
  using delayed_atom = caf::atom_constant<caf::atom("delayed")>;
  service_orchestrator o;
  // Answers through a response promise after a message to itself, as an
  // actor with an asynchronous backend would.
  auto svc = micro_service::actor("async", [](caf::event_based_actor* self) -> caf::behavior {
    using entry = std::pair<json_ptr, caf::typed_response_promise<json_ptr>>;
    auto queued = std::make_shared<std::deque<entry>>();
    return {
        [self, queued](invoke_atom, const json_ptr& in,
                       const request_context_ptr&) -> caf::result<json_ptr> {
          if (in->value("crash", false)) throw std::runtime_error("kaput");
          auto rp = self->make_response_promise<json_ptr>();
          queued->emplace_back(in, rp);
          self->send(self, delayed_atom::value);
          return rp;
        },
        [queued](delayed_atom) {
          auto [in, rp] = std::move(queued->front());
          queued->pop_front();
          rp.deliver(json_ptr{std::make_shared<const json>(json{{"got", *in}})});
        },
    };
  });
  svc.restart.backoff_base = std::chrono::milliseconds{1};
  o.add(svc);
  megaservice m{*sys, o, {"mega"}, metrics};
  auto ok = m.schedule({{"x", 1}});
  REQUIRE(ok);
  REQUIRE(*ok->output == json{{"got", {{"x", 1}}}});
  auto crashed = m.schedule({{"crash", true}});
  REQUIRE_FALSE(crashed);
  REQUIRE(describe(crashed.error()) == "service 'async' crashed: kaput");
  auto again = m.schedule({{"x", 2}});
  REQUIRE(again);
  REQUIRE(m.status().restarts(0) == 1);
}

TEST_CASE_METHOD(fixture, "a service that never answers fails the request at its deadline",
                 "[megaservice]") {
  service_orchestrator o;
  o.add(append("first", "1"));
  // Keeps every promise and never delivers it.
  auto called = std::make_shared<std::atomic<int>>(0);
  o.add(micro_service::actor("silent", [called](caf::event_based_actor* self) -> caf::behavior {
    auto held = std::make_shared<std::vector<caf::response_promise>>();
    return {
        [self, held, called](invoke_atom, const json_ptr&,
                             const request_context_ptr&) -> caf::result<json_ptr> {
          held->push_back(self->make_response_promise());
          ++*called;
          return caf::delegated<json_ptr>{};
        },
    };
  }));
  o.flow_to("first", "silent");
  megaservice_options opts{"mega"};
  // The deadline must pass while 'silent' holds the call, i.e. after the
  // megaservice started and ran 'first'. That usually takes a few ms, but
  // under AddressSanitizer on a loaded machine it took more than the 50 ms
  // this test used to allow (the request then failed before 'first' was
  // dispatched); 2 s leaves scheduling noise no chance and costs this one
  // test 2 s. `called` shows the deadline did find 'silent' holding the call.
  opts.deadline = std::chrono::seconds{2};
  megaservice m{*sys, o, opts, metrics};
  auto res = m.schedule({{"text", "a"}});
  REQUIRE_FALSE(res);
  REQUIRE(http_status_of(res.error()) == 504);
  REQUIRE(describe(res.error()) ==
          "deadline exceeded (silent): no reply from service 'silent' before the request deadline");
  REQUIRE(called->load() == 1);
  REQUIRE(value_of(metrics, R"(megaservice_request_pending{node="test",megaservice="mega"})") == 0);
}

namespace {

/// Streams "alpha", "beta", "gamma" to the request's sink, then answers
/// whether the sink it saw was cancelled.
micro_service streamer(const std::string& name) {
  return micro_service::local(name, [](const json&, const request_context& ctx) {
    bool was_cancelled = ctx.sink->cancelled();
    for (const char* p : {"alpha", "beta", "gamma"}) ctx.sink->write(p);
    return caf::expected<json>{json{{"cancelled", was_cancelled}}};
  });
}

}  // namespace

TEST_CASE_METHOD(fixture, "align_generator rewrites streamed pieces in order", "[megaservice]") {
  service_orchestrator o;
  o.add(streamer("llm"));
  o.set_align_generator([](std::string piece, const request_context& ctx) {
    if (piece == "beta") return std::string{};  // dropped
    return ctx.request_id + ":" + piece + "!";
  });
  megaservice m{*sys, o, {"mega"}, metrics};
  auto sink = std::make_shared<opea::test::collecting_sink>();
  request_context ctx;
  ctx.request_id = "r1";
  ctx.sink = sink;
  auto res = m.schedule(json::object(), ctx);
  REQUIRE(res);
  REQUIRE(sink->pieces() == std::vector<std::string>{"r1:alpha!", "r1:gamma!"});
  REQUIRE(*res->output == json{{"cancelled", false}});

  SECTION("a client that left cancels the request, and nothing is written") {
    auto gone = std::make_shared<opea::test::collecting_sink>();
    gone->cancel();
    request_context c2;
    c2.sink = gone;
    auto r2 = m.schedule(json::object(), c2);
    REQUIRE_FALSE(r2);
    REQUIRE(code_of(r2.error()) == errc::cancelled);
    REQUIRE(http_status_of(r2.error()) == 499);
    REQUIRE(gone->pieces().empty());
  }
}

TEST_CASE_METHOD(fixture, "without align_generator pieces pass unchanged", "[megaservice]") {
  service_orchestrator o;
  o.add(streamer("llm"));
  megaservice m{*sys, o, {"mega"}, metrics};
  auto sink = std::make_shared<opea::test::collecting_sink>();
  request_context ctx;
  ctx.sink = sink;
  REQUIRE(m.schedule(json::object(), ctx));
  REQUIRE(sink->pieces() == std::vector<std::string>{"alpha", "beta", "gamma"});
}

namespace {

/// Answers {"held": false} inputs at once and keeps the promise of every other
/// call without ever delivering it; `first_held` is set when it keeps one.
micro_service holder(const std::string& name, std::shared_ptr<std::promise<void>> first_held) {
  return micro_service::actor(name, [first_held](caf::event_based_actor* self) -> caf::behavior {
    auto held = std::make_shared<std::vector<caf::response_promise>>();
    return {
        [self, held, first_held](invoke_atom, const json_ptr& in,
                                 const request_context_ptr&) -> caf::result<json_ptr> {
          if (!in->value("held", true))
            return json_ptr{std::make_shared<const json>(json{{"answered", true}})};
          held->push_back(self->make_response_promise());
          if (held->size() == 1) first_held->set_value();
          return caf::delegated<json_ptr>{};
        },
    };
  });
}

std::future<caf::expected<flow_result>> start(const megaservice& m, json input) {
  auto p = std::make_shared<std::promise<caf::expected<flow_result>>>();
  auto f = p->get_future();
  m.async_schedule(std::move(input), {},
                   [p](caf::expected<flow_result> r) { p->set_value(std::move(r)); });
  return f;
}

}  // namespace

TEST_CASE_METHOD(fixture,
                 "a hook that throws a non-standard exception fails only its own request",
                 "[megaservice][supervision]") {
  auto first_held = std::make_shared<std::promise<void>>();
  service_orchestrator o;
  o.add(holder("gate", first_held));
  o.set_align_inputs([](const json& in, const align_node&, const request_context&) {
    if (in.value("boom", false)) throw 7;
    return align_result{};
  });
  megaservice_options opts{"mega"};
  opts.flow_executors = 1;  // every request on the same executor
  megaservice m{*sys, o, opts, metrics};
  auto waiting = start(m, {{"held", true}});
  first_held->get_future().wait();
  auto boom = m.schedule({{"boom", true}});
  REQUIRE_FALSE(boom);
  REQUIRE(code_of(boom.error()) == errc::service_failed);
  REQUIRE(describe(boom.error()) ==
          "service 'gate' failed: align_inputs threw a non-standard exception");
  auto next = m.schedule({{"held", false}});
  REQUIRE(next);
  REQUIRE(*next->output == json{{"answered", true}});
  // The held request is still in progress on the same executor ...
  REQUIRE(waiting.wait_for(std::chrono::seconds{0}) == std::future_status::timeout);
  REQUIRE(value_of(metrics, R"(megaservice_request_pending{node="test",megaservice="mega"})") == 1);

  SECTION("... and stopping the megaservice answers it") {
    m.stop();
    auto held = waiting.get();
    REQUIRE_FALSE(held);
    REQUIRE(http_status_of(held.error()) == 503);
    REQUIRE(describe(held.error()) ==
            "service 'gate' is unavailable: the megaservice's flow executor stopped before the "
            "request finished");
    REQUIRE(value_of(metrics, R"(megaservice_request_pending{node="test",megaservice="mega"})") ==
            0);
  }
}

TEST_CASE_METHOD(fixture, "a request sent to a stopped megaservice is refused at once",
                 "[megaservice][supervision]") {
  service_orchestrator o;
  o.add(append("s1", "!"));
  megaservice m{*sys, o, {"mega"}, metrics};
  REQUIRE(m.schedule({{"text", "a"}}));
  m.stop();
  auto res = m.schedule({{"text", "b"}});
  REQUIRE_FALSE(res);
  REQUIRE(http_status_of(res.error()) == 503);
  REQUIRE(describe(res.error()) == "service 'mega' is unavailable: the megaservice was stopped");
  REQUIRE(value_of(metrics, R"(megaservice_request_pending{node="test",megaservice="mega"})") == 0);
  REQUIRE(
      value_of(metrics,
               R"(opea_megaservice_requests_total{node="test",code="503",megaservice="mega"})") ==
      1);
}

TEST_CASE("a flow job dropped before it completed answers with service_unavailable",
          "[megaservice]") {
  std::vector<std::string> answers;
  auto record = [&answers](caf::expected<flow_result> r) {
    answers.push_back(r ? "ok" : describe(r.error()));
  };
  {
    auto job = std::make_shared<flow_job>();
    job->megaservice = "mega";
    job->done = record;
  }
  REQUIRE(answers ==
          std::vector<std::string>{
              "service 'mega' is unavailable: the megaservice stopped before the request ran"});

  SECTION("a completed job answers once") {
    answers.clear();
    {
      auto job = std::make_shared<flow_job>();
      job->done = record;
      job->complete(flow_result{});
      job->complete(flow_result{});
    }
    REQUIRE(answers == std::vector<std::string>{"ok"});
  }
}

TEST_CASE_METHOD(fixture, "a flow executor that dies answers its requests and is replaced",
                 "[megaservice][supervision]") {
  auto first_held = std::make_shared<std::promise<void>>();
  service_orchestrator o;
  o.add(holder("gate", first_held));
  megaservice_actor_config cfg;
  cfg.name = "mega";
  cfg.graph = o.compile();
  cfg.specs = o.services();
  cfg.hooks = o.hooks();
  cfg.instruments.emplace_back(metrics, "mega", "gate");
  service_proxy_options proxy;
  proxy.service = "gate";
  cfg.proxies.push_back(proxy);
  cfg.board = std::make_shared<status_board>(cfg.graph->names);
  cfg.env_slot = std::make_shared<flow_env_slot>();
  cfg.executors = 1;
  auto slot = cfg.env_slot;
  auto sup = sys->spawn(megaservice_actor, std::move(cfg));
  child_spec gate;
  gate.id = "gate";
  gate.start = [body = o.services()[0].body](caf::local_actor& parent) {
    return parent.spawn(guarded_service_actor, "gate", body);
  };
  auto services = spawn_supervisor(*sys, "mega", {}, {gate});
  REQUIRE(services);
  caf::anon_send(sup, services_atom::value, *services, caf::actor{});
  caf::scoped_actor self{*sys};
  auto lookup = [&] {
    self->request(sup, caf::infinite, caf::get_atom::value)
        .receive([](uint32_t) {}, [](caf::error& err) { FAIL(describe(err)); });
  };
  lookup();  // the supervisor has started and published its environment
  auto run = [&](json input) {
    auto p = std::make_shared<std::promise<caf::expected<flow_result>>>();
    auto job = std::make_shared<flow_job>();
    job->input = std::make_shared<const json>(std::move(input));
    job->ctx = std::make_shared<const request_context>();
    job->megaservice = "mega";
    job->done = [p](caf::expected<flow_result> r) { p->set_value(std::move(r)); };
    self->send(sup, run_atom::value, std::move(job));
    return p->get_future();
  };
  auto waiting = run({{"held", true}});
  first_held->get_future().wait();
  auto old = slot->load()->executors.at(0);
  self->send_exit(old, caf::exit_reason::kill);
  auto held = waiting.get();
  REQUIRE_FALSE(held);
  REQUIRE(describe(held.error()) ==
          "service 'gate' is unavailable: the megaservice's flow executor stopped before the "
          "request finished");
  // The megaservice's actor replaces the executor once it sees the
  // executor's down message, and publishes a new environment.
  auto before = slot->load();
  auto after = before->executors.at(0) == old
                   ? slot->wait_for_change(before, std::chrono::seconds{10})
                   : before;
  REQUIRE(after->executors.at(0) != old);
  auto next = run({{"held", false}}).get();
  REQUIRE(next);
  REQUIRE(*next->output == json{{"answered", true}});
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  self->send_exit(*services, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(fixture, "a service's circuit breaker opens after consecutive failures",
                 "[megaservice][guard]") {
  std::atomic<int> calls{0};
  service_orchestrator o;
  auto s = micro_service::local("flaky", [&calls](const json& in, const request_context&) {
    ++calls;
    if (in.value("fail", false))
      return caf::expected<json>{make_error(errc::service_failed, "flaky", "backend down")};
    return caf::expected<json>{json{{"ok", true}}};
  });
  s.breaker = circuit_breaker_settings::consecutive(2, std::chrono::hours{1});
  o.add(s);
  megaservice m{*sys, o, {"mega"}, metrics};
  REQUIRE(m.schedule({{"fail", false}}));
  REQUIRE_FALSE(m.schedule({{"fail", true}}));
  REQUIRE_FALSE(m.schedule({{"fail", true}}));
  // Open: even a good request fails at once, and the service is not called.
  auto res = m.schedule({{"fail", false}});
  REQUIRE_FALSE(res);
  REQUIRE(http_status_of(res.error()) == 503);
  REQUIRE(describe(res.error()).rfind(
              "service 'flaky' is unavailable: its circuit breaker is open after 2 consecutive "
              "failures (next probe in ",
              0) == 0);
  REQUIRE(calls == 3);
  REQUIRE(value_of(metrics,
                   R"(opea_service_circuit_state{node="test",megaservice="mega",service="flaky"})") ==
          1);
  REQUIRE(value_of(metrics,
                   R"(opea_service_requests_total{node="test",megaservice="mega",service="flaky"})") ==
          3);
}

TEST_CASE_METHOD(fixture, "a service's bulkhead refuses calls over max_in_flight",
                 "[megaservice][guard]") {
  auto first_held = std::make_shared<std::promise<void>>();
  service_orchestrator o;
  auto gate = holder("gate", first_held);
  gate.bulkhead = bulkhead_settings{1, 0, {}};
  o.add(gate);
  megaservice m{*sys, o, {"mega"}, metrics};
  auto waiting = start(m, {{"held", true}});
  first_held->get_future().wait();
  auto res = m.schedule({{"held", false}});
  REQUIRE_FALSE(res);
  REQUIRE(code_of(res.error()) == errc::overloaded);
  REQUIRE(describe(res.error()) ==
          "overloaded (gate): its bulkhead limit is reached: max_in_flight = 1 call(s) "
          "already in flight and no queue (max_queue = 0)");
  REQUIRE(value_of(
              metrics,
              R"(opea_service_errors_total{node="test",megaservice="mega",reason="bulkhead_full",service="gate"})") ==
          1);
  // No circuit breaker configured: no circuit state series.
  REQUIRE(value_of(metrics,
                   R"(opea_service_circuit_state{node="test",megaservice="mega",service="gate"})") ==
          -1);
  m.stop();
  REQUIRE_FALSE(waiting.get());
}

TEST_CASE_METHOD(fixture, "calls over max_in_flight wait in the bulkhead's queue, in order",
                 "[megaservice][guard]") {
  using release_atom = caf::atom_constant<caf::atom("release")>;
  // arrived[k] is set when the gate receives its (k+1)-th call.
  auto arrived = std::make_shared<std::vector<std::promise<void>>>(2);
  // The gate's actor, to release its calls.
  auto gate_actor = std::make_shared<std::promise<caf::actor>>();
  service_orchestrator o;
  // Holds every call until it gets (release_atom), then answers them all.
  auto gate = micro_service::actor("gate", [arrived, gate_actor](caf::event_based_actor* self)
                                               -> caf::behavior {
    gate_actor->set_value(caf::actor_cast<caf::actor>(self));
    auto held = std::make_shared<std::vector<std::pair<json_ptr, caf::response_promise>>>();
    auto count = std::make_shared<size_t>(0);
    return {
        [self, held, arrived, count](invoke_atom, const json_ptr& in,
                                     const request_context_ptr&) -> caf::result<json_ptr> {
          held->emplace_back(in, self->make_response_promise());
          if (*count < arrived->size()) (*arrived)[*count].set_value();
          ++*count;
          return caf::delegated<json_ptr>{};
        },
        [held](release_atom) {
          for (auto& [in, rp] : *held) rp.deliver(json_ptr{std::make_shared<const json>(*in)});
          held->clear();
        },
    };
  });
  gate.bulkhead = bulkhead_settings{1, 1, {}};
  o.add(gate);
  // One executor, so the requests reach the bulkhead in the order sent (with
  // several, "arrival order" is the order in which executors get to them).
  megaservice_options opts{"mega"};
  opts.flow_executors = 1;
  megaservice m{*sys, o, opts, metrics};
  auto first = start(m, {{"n", 1}});
  (*arrived)[0].get_future().wait();
  auto second = start(m, {{"n", 2}});  // waits in the queue
  auto third = m.schedule({{"n", 3}});  // queue full
  REQUIRE_FALSE(third);
  REQUIRE(describe(third.error()) ==
          "overloaded (gate): its bulkhead limit is reached: max_in_flight = 1 call(s) already "
          "in flight and max_queue = 1 waiting");
  REQUIRE(second.wait_for(std::chrono::seconds{0}) == std::future_status::timeout);
  auto actor = gate_actor->get_future().get();
  REQUIRE(actor);
  caf::anon_send(actor, release_atom::value);  // answers the first; the second gets its slot
  auto r1 = first.get();
  REQUIRE(r1);
  REQUIRE(*r1->output == json{{"n", 1}});
  (*arrived)[1].get_future().wait();  // the second call reached the gate only now
  caf::anon_send(actor, release_atom::value);
  auto r2 = second.get();
  REQUIRE(r2);
  REQUIRE(*r2->output == json{{"n", 2}});
  REQUIRE(value_of(metrics,
                   R"(opea_service_requests_total{node="test",megaservice="mega",service="gate"})") ==
          2);
}

TEST_CASE("only transient errors are retried", "[megaservice][retry]") {
  CHECK(retry_schedule::is_transient(make_error(errc::http_connect, "s", "refused")));
  CHECK(retry_schedule::is_transient(make_error(errc::http_timeout, "s", "slow")));
  CHECK(retry_schedule::is_transient(make_error(errc::service_crashed, "s", "boom")));
  CHECK(retry_schedule::is_transient(make_error(errc::node_down, "s", "n2 left")));
  CHECK_FALSE(retry_schedule::is_transient(make_error(errc::service_failed, "s", "no")));
  CHECK_FALSE(retry_schedule::is_transient(make_error(errc::bad_request, "s", "no")));
  CHECK_FALSE(retry_schedule::is_transient(make_error(errc::deadline_exceeded, "s", "late")));
}

TEST_CASE_METHOD(fixture, "a transient failure is retried with backoff until it succeeds",
                 "[megaservice][retry]") {
  std::atomic<int> calls{0};
  service_orchestrator o;
  // Unreachable for the first `fail_first` calls of each request, then fine;
  // {"kind": "answer"} fails with an error of its own (not transient).
  auto s = micro_service::local("flaky", [&calls](const json& in, const request_context&) {
    auto n = ++calls;
    if (in.value("kind", "") == "answer")
      return caf::expected<json>{make_error(errc::service_failed, "flaky", "no such document")};
    if (n <= in.value("fail_first", 0))
      return caf::expected<json>{make_error(errc::http_connect, "flaky", "connection refused")};
    return caf::expected<json>{json{{"after", n}}};
  });
  s.idempotent = true;
  s.retry.attempts = 3;
  s.retry.backoff = std::chrono::milliseconds{1};
  s.retry.seed = 7;
  o.add(s);
  megaservice m{*sys, o, {"mega"}, metrics};
  const std::string retries_series =
      R"(opea_service_retries_total{node="test",megaservice="mega",service="flaky"})";

  SECTION("two failures, then the third attempt answers") {
    auto res = m.schedule({{"fail_first", 2}});
    REQUIRE(res);
    REQUIRE(*res->output == json{{"after", 3}});
    REQUIRE(calls == 3);
    REQUIRE(value_of(metrics, retries_series) == 2);
  }
  SECTION("attempts exhausted: the last error is the answer") {
    auto res = m.schedule({{"fail_first", 5}});
    REQUIRE_FALSE(res);
    REQUIRE(describe(res.error()) == "service 'flaky': connection refused");
    REQUIRE(calls == 3);
    REQUIRE(value_of(metrics, retries_series) == 2);
  }
  SECTION("an error the service answered with is not retried") {
    auto res = m.schedule({{"kind", "answer"}});
    REQUIRE_FALSE(res);
    REQUIRE(describe(res.error()) == "service 'flaky' failed: no such document");
    REQUIRE(calls == 1);
    REQUIRE(value_of(metrics, retries_series) == 0);
  }
  SECTION("no retry when the deadline leaves no room for the backoff") {
    service_orchestrator o2;
    auto slow_retry = s;
    slow_retry.retry.backoff = std::chrono::seconds{10};
    slow_retry.retry.max_backoff = std::chrono::seconds{10};
    // Full jitter: the first wait is uniform in [0, 10 s]; with this seed it
    // is past the deadline (checked on a schedule with the same seed).
    auto probe = retry_schedule::make(slow_retry.retry, true);
    REQUIRE(probe);
    retry_budget budget;
    auto now = clock_type::now();
    auto d = probe->after_failure(1, make_error(errc::http_connect, "flaky", "refused"), false,
                                  now, now + std::chrono::hours{1}, budget, 1);
    REQUIRE(d.v == retry_schedule::verdict::retry);
    REQUIRE(d.wait > std::chrono::milliseconds{500});
    o2.add(slow_retry);
    megaservice_options opts{"mega2"};
    opts.deadline = std::chrono::milliseconds{500};  // less than the backoff (capped at 1 s)
    megaservice m2{*sys, o2, opts, metrics};
    auto res = m2.schedule({{"fail_first", 1}});
    REQUIRE_FALSE(res);
    REQUIRE(describe(res.error()) == "service 'flaky': connection refused");
    REQUIRE(calls == 1);
  }
}

namespace {

/// A service that crashes when its input says so, and counts its starts.
micro_service crashy(const std::string& name, std::shared_ptr<std::atomic<int>> starts = nullptr) {
  return micro_service::actor(name, [starts](caf::event_based_actor*) -> caf::behavior {
    if (starts) ++*starts;
    return {
        [](invoke_atom, const json_ptr& in, const request_context_ptr&) -> json_ptr {
          if (in->value("crash", false)) throw std::runtime_error("boom");
          return in;
        },
    };
  });
}

}  // namespace

TEST_CASE_METHOD(fixture, "one_for_all: a crash restarts every service of the megaservice",
                 "[megaservice][supervision]") {
  auto b_starts = std::make_shared<std::atomic<int>>(0);
  service_orchestrator o;
  o.add(crashy("a")).add(crashy("b", b_starts));
  o.flow_to("a", "b");
  megaservice_options opts{"mega"};
  opts.supervision.strategy = supervision_strategy::one_for_all;
  megaservice m{*sys, o, opts, metrics};
  REQUIRE(m.schedule({{"crash", false}}));
  auto crashed = m.schedule({{"crash", true}});
  REQUIRE_FALSE(crashed);
  REQUIRE(describe(crashed.error()) == "service 'a' crashed: boom");
  // The next request passes both services once both were restarted.
  REQUIRE(m.schedule({{"crash", false}}));
  CHECK(*b_starts == 2);
  CHECK(m.status().restarts(0) == 1);
  CHECK(m.status().restarts(1) == 1);
  CHECK(value_of(metrics,
                 R"(opea_service_restarts_total{node="test",megaservice="mega",service="b"})") ==
        1);
}

TEST_CASE_METHOD(fixture, "a temporary service is not restarted: calls fail naming it",
                 "[megaservice][supervision]") {
  service_orchestrator o;
  auto t = crashy("t");
  t.restart_mode = restart_type::temporary;
  o.add(t);
  megaservice m{*sys, o, {"mega"}, metrics};
  REQUIRE_FALSE(m.schedule({{"crash", true}}));
  auto after = m.schedule({{"crash", false}});
  REQUIRE_FALSE(after);
  CHECK(http_status_of(after.error()) == 503);
  CHECK(describe(after.error()) ==
        "service 't' is unavailable: stopped for good under supervisor 'mega' (last exit: "
        "service 't' crashed: boom)");
  CHECK(m.status().status(0) == service_status::failed);
  CHECK(value_of(metrics, R"(opea_service_up{node="test",megaservice="mega",service="t"})") == 0);
}

TEST_CASE_METHOD(fixture,
                 "past the megaservice's intensity its supervisor gives up: calls fail with 503 "
                 "naming it",
                 "[megaservice][supervision]") {
  service_orchestrator o;
  o.add(crashy("s1")).add(append("s2", "!"));
  o.flow_to("s1", "s2");
  megaservice_options opts{"mega"};
  opts.supervision.intensity = 0;
  megaservice m{*sys, o, opts, metrics};
  REQUIRE_FALSE(m.schedule({{"crash", true}}));
  auto after = m.schedule({{"crash", false}, {"text", "x"}});
  REQUIRE_FALSE(after);
  CHECK(code_of(after.error()) == errc::restart_intensity);
  CHECK(http_status_of(after.error()) == 503);
  CHECK(describe(after.error()) ==
        "supervisor 'mega' reached its restart intensity: child 's1' exited (service 's1' "
        "crashed: boom) after 0 restart(s) within 10000 ms, more than its intensity allows");
  CHECK(m.status().status(0) == service_status::failed);
  CHECK(m.status().status(1) == service_status::failed);
}

TEST_CASE_METHOD(fixture,
                 "under a parent supervisor an escalating megaservice is restarted, until the "
                 "parent gives up",
                 "[megaservice][supervision]") {
  auto starts = std::make_shared<std::atomic<int>>(0);
  service_orchestrator o;
  o.add(crashy("s1", starts));
  megaservice_options opts{"mega"};
  opts.supervision.intensity = 0;
  opts.supervised = true;
  megaservice m{*sys, o, opts, metrics};
  auto child = m.child();
  REQUIRE(child);
  CHECK(child->id == "mega");
  supervisor_flags root_flags;
  root_flags.intensity = 1;
  root_flags.period = std::chrono::seconds{60};
  auto root = spawn_supervisor(*sys, "root", root_flags, {*child});
  REQUIRE(root);
  REQUIRE(m.schedule({{"crash", false}}));
  // 1st crash: the megaservice's supervisor escalates, the root restarts it.
  REQUIRE_FALSE(m.schedule({{"crash", true}}));
  REQUIRE(m.schedule({{"crash", false}}));
  CHECK(*starts == 2);
  CHECK(m.status().restarts(0) == 1);
  CHECK(m.status().status(0) == service_status::running);
  // 2nd: the root is past its own intensity and gives up too.
  REQUIRE_FALSE(m.schedule({{"crash", true}}));
  auto after = m.schedule({{"crash", false}});
  REQUIRE_FALSE(after);
  CHECK(code_of(after.error()) == errc::restart_intensity);
  CHECK(describe(after.error()).rfind("supervisor 'root' reached its restart intensity: child "
                                      "'mega' exited",
                                      0) == 0);
  CHECK(m.status().status(0) == service_status::failed);
  megaservice standalone{*sys, o, {"alone"}, metrics};
  CHECK_FALSE(standalone.child());
}

namespace {

caf::expected<json_ptr> call_and_wait(const service_call& call, json input) {
  std::promise<caf::expected<json_ptr>> p;
  call(std::move(input), [&p](caf::expected<json_ptr> res) { p.set_value(std::move(res)); });
  return p.get_future().get();
}

}  // namespace

TEST_CASE_METHOD(fixture,
                 "a service called without a flow takes its proxy's call path and metrics",
                 "[megaservice]") {
  service_orchestrator o;
  o.add(append("s1", "!")).add(crashy("s2"));
  o.flow_to("s1", "s2");
  megaservice m{*sys, o, {"mega"}, metrics};
  CHECK(m.has_service("s2"));
  CHECK_FALSE(m.has_service("nope"));
  auto res = call_and_wait(m.caller("s1"), {{"text", "a"}});
  REQUIRE(res);
  CHECK(**res == json{{"text", "a!"}});
  CHECK(value_of(metrics,
                 R"(opea_service_requests_total{node="test",megaservice="mega",service="s1"})") ==
        1);
  // s2 alone, not after s1; its crash is its supervisor's to restart.
  auto crashed = call_and_wait(m.caller("s2"), {{"crash", true}});
  REQUIRE_FALSE(crashed);
  CHECK(code_of(crashed.error()) == errc::service_crashed);
  CHECK(describe(crashed.error()) == "service 's2' crashed: boom");
  auto again = call_and_wait(m.caller("s2"), {{"crash", false}});
  REQUIRE(again);
  CHECK(**again == json{{"crash", false}});
  CHECK(value_of(metrics,
                 R"(opea_service_requests_total{node="test",megaservice="mega",service="s2"})") ==
        2);
  auto unknown = call_and_wait(m.caller("nope"), {});
  REQUIRE_FALSE(unknown);
  CHECK(code_of(unknown.error()) == errc::bad_request);
  CHECK(describe(unknown.error()) == "bad request (nope): megaservice 'mega' has no such service");
  auto call = m.caller("s1");
  m.stop();
  auto stopped = call_and_wait(call, {{"text", "a"}});
  REQUIRE_FALSE(stopped);
  CHECK(http_status_of(stopped.error()) == 503);
  CHECK(describe(stopped.error()) == "service 's1' is unavailable: megaservice 'mega' was stopped");
}
