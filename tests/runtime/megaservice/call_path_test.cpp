// The one call path (flow executor -> service proxy -> service) on CAF's
// deterministic scheduler: no real time, no threads, no polling. Time moves
// only with advance_time, so deadlines, breaker waits, retry backoffs and
// bulkhead queues are checked at exact instants.

#include <catch2/catch.hpp>

#include <optional>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "monitoring/metrics_registry.hpp"
#include "runtime/errors.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "runtime/service/service_proxy.hpp"

using namespace opea::runtime;
using namespace std::chrono_literals;

namespace {

using release_atom = caf::atom_constant<caf::atom("release")>;

struct det_fixture {
  caf::actor_system_config cfg;
  // Declared before the actor system: outlives every actor that counts in it.
  opea::monitoring::metrics_registry metrics{"test"};
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::vector<std::unique_ptr<megaservice>> megas;

  det_fixture() {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.console", caf::atom("none"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  }

  ~det_fixture() {
    for (auto& m : megas) m->stop();
    sched->run();
    megas.clear();
    sched->run();
  }

  megaservice& make(const service_orchestrator& o, std::string name = "mega") {
    megaservice_options opts{std::move(name)};
    opts.flow_executors = 1;
    megas.push_back(std::make_unique<megaservice>(*sys, o, opts, metrics));
    sched->run();
    return *megas.back();
  }

  caf::actor_clock::time_point now() const { return sys->clock().now(); }

  /// Starts one request whose deadline is `budget` from now; the returned
  /// slot is filled when it completes.
  std::shared_ptr<std::optional<caf::expected<flow_result>>> start(
      megaservice& m, json input, caf::timespan budget = 10s) {
    auto out = std::make_shared<std::optional<caf::expected<flow_result>>>();
    request_context ctx;
    ctx.deadline = now() + budget;
    m.async_schedule(std::move(input), std::move(ctx),
                     [out](caf::expected<flow_result> r) { out->emplace(std::move(r)); });
    return out;
  }

  double value(const std::string& series) const {
    auto text = metrics.serialize();
    auto pos = text.find(series + " ");
    if (pos == std::string::npos) return -1;
    return std::stod(text.substr(pos + series.size() + 1));
  }
};

/// Holds every call until it receives (release_atom); then answers them all
/// with their input. Counts the calls it received in `*calls`.
micro_service holding(const std::string& name, std::shared_ptr<int> calls,
                      std::shared_ptr<caf::actor> handle) {
  return micro_service::actor(name, [calls, handle](caf::event_based_actor* self) -> caf::behavior {
    *handle = caf::actor_cast<caf::actor>(self);
    auto held = std::make_shared<std::vector<std::pair<json_ptr, caf::response_promise>>>();
    return {
        [self, held, calls](invoke_atom, const json_ptr& in,
                            const request_context_ptr&) -> caf::result<json_ptr> {
          ++*calls;
          held->emplace_back(in, self->make_response_promise());
          return caf::delegated<json_ptr>{};
        },
        [held](release_atom) {
          for (auto& [in, rp] : *held) rp.deliver(json_ptr{std::make_shared<const json>(*in)});
          held->clear();
        },
    };
  });
}

/// Fails with `code` while `*failing` is true, else answers {"ok": true};
/// counts calls.
micro_service switchable(const std::string& name, std::shared_ptr<bool> failing,
                         std::shared_ptr<int> calls, errc code = errc::http_connect) {
  return micro_service::local(name, [=](const json&, const request_context&) {
    ++*calls;
    if (*failing) return caf::expected<json>{make_error(code, name, "connection refused")};
    return caf::expected<json>{json{{"ok", true}}};
  });
}

std::string error_text(const std::optional<caf::expected<flow_result>>& r) {
  if (!r) return "<pending>";
  if (*r) return "<ok>";
  return describe(r->error());
}

}  // namespace

TEST_CASE_METHOD(det_fixture, "a call the service never answers is answered at its deadline",
                 "[call_path]") {
  auto calls = std::make_shared<int>(0);
  auto handle = std::make_shared<caf::actor>();
  service_orchestrator o;
  o.add(holding("silent", calls, handle));
  auto& m = make(o);
  auto res = start(m, {{"x", 1}}, 50ms);
  sched->run();
  REQUIRE(*calls == 1);
  sched->advance_time(49ms);
  sched->run();
  REQUIRE_FALSE(*res);
  sched->advance_time(1ms);
  sched->run();
  REQUIRE(*res);
  REQUIRE(error_text(*res) ==
          "deadline exceeded (silent): no reply from service 'silent' before the request "
          "deadline");
  REQUIRE(http_status_of((*res)->error()) == 504);
  REQUIRE(value(R"(opea_service_errors_total{node="test",megaservice="mega",reason="deadline_exceeded",service="silent"})") == 1);
  REQUIRE(value(R"(megaservice_request_pending{node="test",megaservice="mega"})") == 0);
  // The service answers after all: the reply is dropped and counted.
  caf::anon_send(*handle, release_atom::value);
  sched->run();
  REQUIRE(value(R"(opea_service_late_replies_total{node="test",megaservice="mega",service="silent"})") == 1);
}

TEST_CASE_METHOD(det_fixture,
                 "a call from outside the flows (async_call) is answered exactly once, also when "
                 "its proxy stops with the call open or before the proxies are published",
                 "[call_path]") {
  auto calls = std::make_shared<int>(0);
  auto handle = std::make_shared<caf::actor>();
  service_orchestrator o;
  o.add(holding("held", calls, handle));
  // Not yet run: the megaservice's actor has not published its proxies, so
  // the first call goes through the actor.
  megaservice_options opts{"mega"};
  opts.flow_executors = 1;
  megas.push_back(std::make_unique<megaservice>(*sys, o, opts, metrics));
  auto& m = *megas.back();
  REQUIRE_FALSE(m.proxy("held"));
  auto answers = std::make_shared<std::vector<std::string>>();
  auto call = [&](int x) {
    request_context ctx;
    ctx.deadline = now() + 10s;
    m.async_call("held", {{"x", x}}, std::move(ctx), [answers](caf::expected<json_ptr> r) {
      answers->push_back(r ? (*r)->dump() : describe(r.error()));
    });
  };
  call(1);
  sched->run();
  REQUIRE(*calls == 1);
  REQUIRE(answers->empty());
  caf::anon_send(*handle, release_atom::value);
  sched->run();
  REQUIRE(*answers == std::vector<std::string>{R"({"x":1})"});
  // The proxy stops with a call open: the call is answered, naming the service.
  call(2);
  sched->run();
  REQUIRE(*calls == 2);
  auto proxy = m.proxy("held");
  REQUIRE(proxy);
  caf::anon_send_exit(proxy, caf::exit_reason::kill);
  sched->run();
  REQUIRE(answers->size() == 2);
  REQUIRE((*answers)[1] ==
          "service 'held' is unavailable: the call ended without an answer (its proxy was down or "
          "stopped)");
  // The service's late answer to that call reaches nobody; the replaced
  // proxy serves the next call.
  caf::anon_send(*handle, release_atom::value);
  sched->run();
  REQUIRE(m.proxy("held") != proxy);
  call(3);
  sched->run();
  caf::anon_send(*handle, release_atom::value);
  sched->run();
  REQUIRE(answers->size() == 3);
  REQUIRE((*answers)[2] == R"({"x":3})");
}

TEST_CASE("an answer callback runs once: a second answer and the drop are ignored", "[call_path]") {
  std::vector<std::string> seen;
  {
    auto answer = std::make_shared<const call_answer>("svc", [&seen](caf::expected<json_ptr> r) {
      seen.push_back(r ? (*r)->dump() : describe(r.error()));
    });
    (*answer)(json_ptr{std::make_shared<const json>(json{{"ok", true}})});
    (*answer)(make_error(errc::service_failed, "svc", "again"));
  }
  REQUIRE(seen == std::vector<std::string>{R"({"ok":true})"});
  {
    auto dropped = std::make_shared<const call_answer>("svc", [&seen](caf::expected<json_ptr> r) {
      seen.push_back(r ? (*r)->dump() : describe(r.error()));
    });
  }
  REQUIRE(seen.size() == 2);
  REQUIRE(seen[1] ==
          "service 'svc' is unavailable: the call ended without an answer (its proxy was down or "
          "stopped)");
}

TEST_CASE_METHOD(det_fixture, "work past its deadline is not started", "[call_path]") {
  auto calls = std::make_shared<int>(0);
  auto failing = std::make_shared<bool>(false);
  service_orchestrator o;
  o.add(switchable("s", failing, calls));
  auto& m = make(o);
  auto res = start(m, {{"x", 1}}, 0ms);
  sched->run();
  REQUIRE(*res);
  REQUIRE(error_text(*res) ==
          "deadline exceeded (s): the deadline passed before service 's' was dispatched");
  REQUIRE(*calls == 0);
}

TEST_CASE_METHOD(det_fixture, "breaker: opens after consecutive failures, probes after its wait",
                 "[call_path]") {
  auto calls = std::make_shared<int>(0);
  auto failing = std::make_shared<bool>(true);
  service_orchestrator o;
  auto s = switchable("flaky", failing, calls, errc::service_failed);
  s.breaker = circuit_breaker_settings::consecutive(2, 1000ms);
  o.add(s);
  auto& m = make(o);
  for (int i = 0; i < 2; ++i) {
    auto r = start(m, {{"i", i}});
    sched->run();
    REQUIRE(error_text(*r) == "service 'flaky' failed: connection refused");
  }
  const std::string state =
      R"(opea_service_circuit_state{node="test",megaservice="mega",service="flaky"})";
  REQUIRE(value(state) == 1);
  // Open: refused at once (503, never 200), the service is not called.
  *failing = false;
  auto refused = start(m, {{"i", 2}});
  sched->run();
  REQUIRE(error_text(*refused) ==
          "service 'flaky' is unavailable: its circuit breaker is open after 2 consecutive "
          "failures (next probe in 1000 ms)");
  REQUIRE(http_status_of((*refused)->error()) == 503);
  REQUIRE(*calls == 2);
  REQUIRE(value(R"(opea_service_errors_total{node="test",megaservice="mega",reason="breaker_open",service="flaky"})") == 1);
  sched->advance_time(999ms);
  auto still = start(m, {{"i", 3}});
  sched->run();
  REQUIRE(error_text(*still) ==
          "service 'flaky' is unavailable: its circuit breaker is open after 2 consecutive "
          "failures (next probe in 1 ms)");
  sched->advance_time(1ms);
  // Half-open: one probe goes through; its success closes the circuit.
  auto probe = start(m, {{"i", 4}});
  sched->run();
  REQUIRE(error_text(*probe) == "<ok>");
  REQUIRE(value(state) == 0);
  REQUIRE(*calls == 3);
}

TEST_CASE_METHOD(det_fixture, "retry: a call is sent at most attempts times, with backoff",
                 "[call_path]") {
  auto calls = std::make_shared<int>(0);
  auto failing = std::make_shared<bool>(true);
  service_orchestrator o;
  auto s = switchable("gone", failing, calls);
  s.idempotent = true;
  s.retry.attempts = 3;
  s.retry.backoff = 100ms;
  s.retry.max_backoff = 100ms;
  s.retry.seed = 42;
  o.add(s);
  auto& m = make(o);
  auto res = start(m, {{"x", 1}});
  sched->run();
  REQUIRE(*calls == 1);
  // Full jitter: each wait is at most 100 ms.
  sched->advance_time(100ms);
  sched->run();
  REQUIRE(*calls == 2);
  sched->advance_time(100ms);
  sched->run();
  REQUIRE(*calls == 3);
  REQUIRE(*res);
  REQUIRE(error_text(*res) == "service 'gone': connection refused");
  // No fourth send, however long we wait.
  sched->advance_time(10s);
  sched->run();
  REQUIRE(*calls == 3);
  REQUIRE(value(R"(opea_service_retries_total{node="test",megaservice="mega",service="gone"})") == 2);

  SECTION("a transient failure then success answers the request") {
    *failing = false;
    auto ok = start(m, {{"x", 2}});
    sched->run();
    REQUIRE(error_text(*ok) == "<ok>");
  }
}

TEST_CASE_METHOD(det_fixture, "bulkhead: FIFO queue, refusal when full, queue timeout",
                 "[call_path]") {
  auto calls = std::make_shared<int>(0);
  auto handle = std::make_shared<caf::actor>();
  service_orchestrator o;
  auto gate = holding("gate", calls, handle);
  gate.bulkhead = bulkhead_settings{1, 1, 300ms};
  o.add(gate);
  auto& m = make(o);
  auto first = start(m, {{"n", 1}});
  auto second = start(m, {{"n", 2}});
  auto third = start(m, {{"n", 3}});
  sched->run();
  REQUIRE(*calls == 1);
  REQUIRE(error_text(*third) ==
          "overloaded (gate): its bulkhead limit is reached: max_in_flight = 1 call(s) already "
          "in flight and max_queue = 1 waiting");
  REQUIRE(value(R"(opea_service_errors_total{node="test",megaservice="mega",reason="bulkhead_full",service="gate"})") == 1);
  const std::string in_flight =
      R"(opea_service_bulkhead_in_flight{node="test",megaservice="mega",service="gate"})";
  const std::string queued =
      R"(opea_service_bulkhead_queued{node="test",megaservice="mega",service="gate"})";
  REQUIRE(value(in_flight) == 1);
  REQUIRE(value(queued) == 1);
  // The first answers: the second gets its slot (FIFO).
  caf::anon_send(*handle, release_atom::value);
  sched->run();
  REQUIRE(*first);
  REQUIRE(**first);
  REQUIRE(*(**first)->output == json{{"n", 1}});
  REQUIRE(*calls == 2);
  REQUIRE(value(in_flight) == 1);
  REQUIRE(value(queued) == 0);
  // A call that waits longer than max_wait_ms fails with queue_timeout.
  auto fourth = start(m, {{"n", 4}});
  sched->run();
  sched->advance_time(300ms);
  sched->run();
  REQUIRE(error_text(*fourth) ==
          "overloaded (gate): the call waited max_wait_ms = 300 ms for a slot of its bulkhead");
  REQUIRE(value(R"(opea_service_errors_total{node="test",megaservice="mega",reason="queue_timeout",service="gate"})") == 1);
  REQUIRE(value(queued) == 0);
  caf::anon_send(*handle, release_atom::value);
  sched->run();
  REQUIRE(*second);
  REQUIRE(**second);
  REQUIRE(value(in_flight) == 0);
  REQUIRE(value(queued) == 0);
}

TEST_CASE_METHOD(det_fixture, "a cancelled request ends its flow at once with 499",
                 "[call_path]") {
  auto calls = std::make_shared<int>(0);
  auto handle = std::make_shared<caf::actor>();
  service_orchestrator o;
  o.add(holding("slow", calls, handle));
  auto& m = make(o);
  auto out = std::make_shared<std::optional<caf::expected<flow_result>>>();
  request_context ctx;
  ctx.deadline = now() + 10s;
  auto cancel = std::make_shared<cancellation>();
  ctx.cancel = cancel;
  m.async_schedule({{"x", 1}}, std::move(ctx),
                   [out](caf::expected<flow_result> r) { out->emplace(std::move(r)); });
  sched->run();
  REQUIRE(*calls == 1);
  REQUIRE_FALSE(*out);
  cancel->cancel();
  sched->run();
  REQUIRE(*out);
  REQUIRE(code_of((*out)->error()) == errc::cancelled);
  REQUIRE(http_status_of((*out)->error()) == 499);
  REQUIRE(value(R"(megaservice_request_pending{node="test",megaservice="mega"})") == 0);
}
