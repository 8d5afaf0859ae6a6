#include <catch2/catch.hpp>

#include <random>

#include "tests/runtime/supervision/supervision_fixture.hpp"

using namespace supervision_test;
using namespace std::chrono_literals;
using strings = std::vector<std::string>;

namespace {

supervisor_flags flags_of(supervision_strategy strategy, uint32_t intensity = 10,
                          std::chrono::milliseconds period = 5s) {
  supervisor_flags f;
  f.strategy = strategy;
  f.intensity = intensity;
  f.period = period;
  return f;
}

std::vector<child_spec> workers(const std::shared_ptr<journal>& j, const strings& ids) {
  std::vector<child_spec> out;
  for (const auto& id : ids) out.push_back(worker_spec(j, id));
  return out;
}

const child_info& info(const std::vector<child_info>& xs, const std::string& id) {
  for (const auto& x : xs)
    if (x.id == id) return x;
  throw std::logic_error("no child " + id);
}

}  // namespace

TEST_CASE("children start in order and the supervisor answers which_children", "[supervision]") {
  sim s;
  auto sup = s.supervise("sup", {}, workers(s.j, {"a", "b", "c"}));
  s.run();
  CHECK(s.j->log == strings{"start a", "start b", "start c"});
  auto xs = s.which_children(sup);
  REQUIRE(xs.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(xs[i].id == strings{"a", "b", "c"}[i]);
    CHECK(xs[i].status == child_status::running);
    CHECK(xs[i].actor == s.j->current[xs[i].id]);
    CHECK(xs[i].restarts == 0);
  }
  CHECK(s.running() == 4);
}

TEST_CASE("restart types: permanent always, transient after an abnormal exit, temporary never",
          "[supervision]") {
  struct row {
    restart_type type;
    caf::error reason;
    bool restarted;
  };
  auto shutdown = caf::make_error(caf::exit_reason::user_shutdown);
  auto kill = caf::make_error(caf::exit_reason::kill);
  std::vector<row> rows{
      {restart_type::permanent, caf::error{}, true},  {restart_type::permanent, shutdown, true},
      {restart_type::permanent, boom(), true},        {restart_type::permanent, kill, true},
      {restart_type::transient, caf::error{}, false}, {restart_type::transient, shutdown, false},
      {restart_type::transient, boom(), true},        {restart_type::transient, kill, true},
      {restart_type::temporary, caf::error{}, false}, {restart_type::temporary, shutdown, false},
      {restart_type::temporary, boom(), false},       {restart_type::temporary, kill, false},
  };
  for (const auto& r : rows) {
    CAPTURE(to_string(r.type), reason_name(r.reason));
    sim s;
    auto sup = s.supervise("sup", {}, {worker_spec(s.j, "a", r.type), worker_spec(s.j, "b")});
    s.run();
    if (r.reason == caf::exit_reason::kill)
      caf::anon_send_exit(s.j->current.at("a"), caf::exit_reason::kill);
    else
      s.crash("a", r.reason);
    s.run();
    auto xs = s.which_children(sup);
    auto& a = info(xs, "a");
    CHECK(s.j->starts["a"] == (r.restarted ? 2 : 1));
    CHECK(info(xs, "b").status == child_status::running);  // one_for_one: untouched
    CHECK(s.j->starts["b"] == 1);
    if (r.restarted) {
      CHECK(a.status == child_status::running);
      CHECK(a.restarts == 1);
    } else {
      CHECK(a.status == child_status::stopped);
      CHECK(a.actor == caf::actor{});
      auto got = s.get_child(sup, "a");
      s.run();
      REQUIRE(got->count == 1);
      CHECK(code_of(got->error) == errc::service_unavailable);
      CHECK(subject_of(got->error) == "a");
    }
  }
}

TEST_CASE("one_for_one restarts only the child that exited", "[supervision]") {
  sim s;
  auto sup = s.supervise("sup", flags_of(supervision_strategy::one_for_one),
                         workers(s.j, {"a", "b", "c"}));
  s.run();
  s.j->log.clear();
  s.crash("b");
  s.run();
  CHECK(s.j->log == strings{"down b service_crashed", "start b"});
  auto xs = s.which_children(sup);
  CHECK(info(xs, "b").restarts == 1);
  CHECK(info(xs, "a").restarts == 0);
}

TEST_CASE("a throwing child is restarted like a crashed one", "[supervision]") {
  sim s;
  auto sup = s.supervise("sup", {}, workers(s.j, {"a"}));
  s.run();
  caf::anon_send(s.j->current.at("a"), throw_atom::value);
  s.run();
  CHECK(s.j->log == strings{"start a", "down a service_crashed", "start a"});
  CHECK(info(s.which_children(sup), "a").status == child_status::running);
}

TEST_CASE("one_for_all stops the others in reverse order, then restarts all in order",
          "[supervision]") {
  sim s;
  auto sup = s.supervise("sup", flags_of(supervision_strategy::one_for_all),
                         workers(s.j, {"a", "b", "c", "d"}));
  s.run();
  s.j->log.clear();
  s.crash("b");
  s.run();
  CHECK(s.j->log == strings{"down b service_crashed", "down d shutdown", "down c shutdown",
                            "down a shutdown", "start a", "start b", "start c", "start d"});
  for (const auto& x : s.which_children(sup)) {
    CHECK(x.status == child_status::running);
    CHECK(x.restarts == 1);
  }
}

TEST_CASE("rest_for_one stops the later children in reverse, restarts it and them in order",
          "[supervision]") {
  sim s;
  auto sup = s.supervise("sup", flags_of(supervision_strategy::rest_for_one),
                         workers(s.j, {"a", "b", "c", "d"}));
  s.run();
  s.j->log.clear();
  s.crash("b");
  s.run();
  CHECK(s.j->log == strings{"down b service_crashed", "down d shutdown", "down c shutdown",
                            "start b", "start c", "start d"});
  auto xs = s.which_children(sup);
  CHECK(info(xs, "a").restarts == 0);
  CHECK(info(xs, "b").restarts == 1);
  CHECK(info(xs, "d").restarts == 1);
  s.j->log.clear();
  s.crash("d");  // the last one: only itself
  s.run();
  CHECK(s.j->log == strings{"down d service_crashed", "start d"});
}

TEST_CASE("a group restart stops a temporary sibling for good and restarts stopped siblings",
          "[supervision]") {
  sim s;
  auto sup = s.supervise("sup", flags_of(supervision_strategy::one_for_all),
                         {worker_spec(s.j, "a"), worker_spec(s.j, "t", restart_type::temporary),
                          worker_spec(s.j, "tr", restart_type::transient), worker_spec(s.j, "c")});
  s.run();
  s.crash("tr", caf::error{});  // transient, normal exit: stopped, nothing else happens
  s.run();
  CHECK(info(s.which_children(sup), "tr").status == child_status::stopped);
  s.j->log.clear();
  s.crash("a");
  s.run();
  // OTP: the temporary child is stopped and not restarted; the stopped
  // transient one is started again with the group.
  CHECK(s.j->log == strings{"down a service_crashed", "down c shutdown", "down t shutdown",
                            "start a", "start tr", "start c"});
  auto xs = s.which_children(sup);
  CHECK(info(xs, "t").status == child_status::stopped);
  CHECK(info(xs, "tr").status == child_status::running);
  auto got = s.get_child(sup, "t");
  s.run();
  CHECK(code_of(got->error) == errc::service_unavailable);
  CHECK(subject_of(got->error) == "t");
}

TEST_CASE("restart intensity: more than N restarts in T stop all children in reverse and escalate",
          "[supervision]") {
  sim s;
  auto sup = s.supervise("sup", flags_of(supervision_strategy::one_for_one, 2, 1000ms),
                         workers(s.j, {"a", "b", "c"}));
  auto reason = s.exit_reason_of(sup);
  s.run();
  s.crash("b");
  s.run();
  s.advance(600ms);
  s.crash("b");  // 2 restarts within 1 s: allowed
  s.run();
  s.advance(500ms);  // the first restart (at 0 ms) left the window at 1000 ms
  s.crash("b");
  s.run();
  REQUIRE_FALSE(reason->has_value());
  CHECK(s.j->starts["b"] == 4);
  s.j->log.clear();
  s.advance(100ms);  // 1200 ms: restarts at 600 and 1100 are in the window
  s.crash("b");
  s.run();
  CHECK(s.j->log == strings{"down b service_crashed", "down c shutdown", "down a shutdown"});
  REQUIRE(reason->has_value());
  CHECK(code_of(**reason) == errc::restart_intensity);
  CHECK(subject_of(**reason) == "sup");
  CHECK(detail_of(**reason).find("child 'b'") != std::string::npos);
  CHECK(detail_of(**reason).find("2 restart(s) within 1000 ms") != std::string::npos);
  CHECK(http_status_of(**reason) == 503);
  CHECK(describe(**reason).rfind("supervisor 'sup' reached its restart intensity: child 'b'", 0) ==
        0);
  CHECK(s.running() == 0);
}

TEST_CASE("intensity 0 escalates the first exit that needs a restart", "[supervision]") {
  sim s;
  auto sup = s.supervise("sup", flags_of(supervision_strategy::one_for_one, 0),
                         {worker_spec(s.j, "t", restart_type::temporary), worker_spec(s.j, "a")});
  auto reason = s.exit_reason_of(sup);
  s.run();
  s.crash("t");  // temporary: no restart, so no escalation
  s.run();
  REQUIRE_FALSE(reason->has_value());
  s.crash("a");
  s.run();
  REQUIRE(reason->has_value());
  CHECK(code_of(**reason) == errc::restart_intensity);
}

TEST_CASE("a 3-level tree: the middle supervisor escalates and the top one restarts it",
          "[supervision]") {
  sim s;
  auto mid = supervisor_child("mid", flags_of(supervision_strategy::one_for_one, 1),
                              workers(s.j, {"w1", "w2"}));
  REQUIRE(mid);
  auto top = s.supervise("top", flags_of(supervision_strategy::one_for_one, 1),
                         {worker_spec(s.j, "x"), *mid, worker_spec(s.j, "y")});
  auto top_reason = s.exit_reason_of(top);
  s.watch(top);
  s.run();
  // Start functions run in order (x, mid, y); mid starts its own children
  // when it runs, after its start function returned (CAF's spawn is
  // asynchronous).
  CHECK(s.j->log == strings{"start x", "start y", "start w1", "start w2"});
  auto mid1 = info(s.which_children(top), "mid").actor;
  REQUIRE(mid1);
  s.j->log.clear();
  s.j->events.clear();
  s.crash("w1");
  s.run();
  CHECK(s.j->log == strings{"down w1 service_crashed", "start w1"});
  s.j->log.clear();
  s.crash("w1");  // the second restart in 5 s: mid gives up
  s.run();
  CHECK(s.j->log == strings{"down w1 service_crashed", "down w2 shutdown", "start w1", "start w2"});
  CHECK(s.j->events == strings{"down mid restart_intensity", "up mid"});
  auto xs = s.which_children(top);
  CHECK(info(xs, "mid").restarts == 1);
  CHECK(info(xs, "mid").actor != mid1);
  CHECK(info(xs, "x").restarts == 0);
  CHECK(info(xs, "y").restarts == 0);
  REQUIRE_FALSE(top_reason->has_value());
  // The fresh mid has a fresh window; one more escalation within top's
  // period exceeds top's intensity: the whole tree stops in reverse order.
  s.j->log.clear();
  s.crash("w2");
  s.run();
  s.crash("w2");
  s.run();
  CHECK(s.j->log == strings{"down w2 service_crashed", "start w2", "down w2 service_crashed",
                            "down w1 shutdown", "down y shutdown", "down x shutdown"});
  REQUIRE(top_reason->has_value());
  CHECK(code_of(**top_reason) == errc::restart_intensity);
  CHECK(subject_of(**top_reason) == "top");
  CHECK(detail_of(**top_reason).find("child 'mid'") != std::string::npos);
  CHECK(s.running() == 1);  // the recorder
}

TEST_CASE("backoff: exact delays min(max, min * 2^(n-1)) per child within the period",
          "[supervision]") {
  sim s;
  auto f = flags_of(supervision_strategy::one_for_one, 10, 10s);
  f.backoff_min = 100ms;
  f.backoff_max = 350ms;
  auto sup = s.supervise("sup", f, workers(s.j, {"a", "b"}));
  s.run();
  for (auto expected : {100ms, 200ms, 350ms, 350ms}) {
    CAPTURE(expected.count());
    auto before = s.j->starts["a"];
    s.crash("a");
    s.run();
    CHECK(info(s.which_children(sup), "a").status == child_status::restarting);
    s.advance(expected - 1ms);
    CHECK(s.j->starts["a"] == before);
    CHECK(info(s.which_children(sup), "a").status == child_status::restarting);
    s.advance(1ms);
    CHECK(s.j->starts["a"] == before + 1);
    CHECK(info(s.which_children(sup), "a").status == child_status::running);
  }
  // b has its own count.
  s.crash("b");
  s.run();
  s.advance(99ms);
  CHECK(s.j->starts["b"] == 1);
  s.advance(1ms);
  CHECK(s.j->starts["b"] == 2);
  // Once a's restarts have left the 10 s window, its delay is back to 100 ms.
  s.advance(10s);
  s.crash("a");
  s.run();
  auto before = s.j->starts["a"];
  s.advance(99ms);
  CHECK(s.j->starts["a"] == before);
  s.advance(1ms);
  CHECK(s.j->starts["a"] == before + 1);
}

TEST_CASE("backoff jitter is reproducible from the seed", "[supervision]") {
  sim s;
  auto f = flags_of(supervision_strategy::one_for_one, 10, 10s);
  f.backoff_min = 100ms;
  f.backoff_max = 1000ms;
  f.backoff_random_factor = 0.5;
  f.seed = 42;
  auto sup = s.supervise("sup", f, workers(s.j, {"a"}));
  s.run();
  std::mt19937_64 rng{42};
  for (int64_t base : {100, 200, 400}) {
    auto u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    auto expected = std::chrono::milliseconds{static_cast<int64_t>(base * (1 + u * 0.5))};
    CAPTURE(base, expected.count());
    CHECK(expected >= std::chrono::milliseconds{base});
    auto before = s.j->starts["a"];
    s.crash("a");
    s.run();
    s.advance(expected - 1ms);
    CHECK(s.j->starts["a"] == before);
    s.advance(1ms);
    CHECK(s.j->starts["a"] == before + 1);
  }
}

TEST_CASE("a group restart waits for the backoff of the child that exited", "[supervision]") {
  sim s;
  auto f = flags_of(supervision_strategy::one_for_all);
  f.backoff_min = 50ms;
  f.backoff_max = 50ms;
  auto sup = s.supervise("sup", f, workers(s.j, {"a", "b"}));
  s.run();
  s.j->log.clear();
  s.crash("b");
  s.run();
  CHECK(s.j->log == strings{"down b service_crashed", "down a shutdown"});
  auto xs = s.which_children(sup);
  CHECK(info(xs, "a").status == child_status::restarting);
  CHECK(info(xs, "b").status == child_status::restarting);
  s.advance(50ms);
  CHECK(s.j->log == strings{"down b service_crashed", "down a shutdown", "start a", "start b"});
}

TEST_CASE(
    "shutdown: brutal_kill at once; a child that ignores user_shutdown is killed after its "
    "timeout",
    "[supervision]") {
  sim s;
  auto brutal = worker_spec(s.j, "brutal", restart_type::permanent, true);
  brutal.shutdown.brutal_kill = true;
  auto stubborn = worker_spec(s.j, "stubborn", restart_type::permanent, true);
  stubborn.shutdown.timeout = 300ms;
  auto polite = worker_spec(s.j, "polite");
  auto sup = s.supervise("sup", {}, {brutal, stubborn, polite});
  auto reason = s.exit_reason_of(sup);
  s.run();
  s.j->log.clear();
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  s.run();
  CHECK(s.j->log == strings{"down polite shutdown"});
  s.advance(299ms);
  CHECK(s.j->log == strings{"down polite shutdown"});
  REQUIRE_FALSE(reason->has_value());
  s.advance(1ms);
  CHECK(s.j->log == strings{"down polite shutdown", "down stubborn kill", "down brutal kill"});
  REQUIRE(reason->has_value());
  CHECK(**reason == caf::exit_reason::user_shutdown);
  CHECK(s.running() == 0);
}

TEST_CASE("a stop waits for the child's down message before stopping the next one",
          "[supervision]") {
  sim s;
  auto a = worker_spec(s.j, "a", restart_type::permanent, true);
  a.shutdown.timeout = shutdown_spec::infinity;
  auto b = worker_spec(s.j, "b", restart_type::permanent, true);
  b.shutdown.timeout = 1000ms;
  auto sup = s.supervise("sup", flags_of(supervision_strategy::rest_for_one),
                         {a, b, worker_spec(s.j, "c")});
  s.run();
  s.j->log.clear();
  s.crash("a");  // rest_for_one: c, then b (ignores shutdown: 1 s), then restart a, b, c
  s.run();
  CHECK(s.j->log == strings{"down a service_crashed", "down c shutdown"});
  auto got = s.get_child(sup, "c");
  s.run();
  CHECK(got->count == 0);  // c is restarting: the call waits
  s.advance(1000ms);
  CHECK(s.j->log == strings{"down a service_crashed", "down c shutdown", "down b kill", "start a",
                            "start b", "start c"});
  REQUIRE(got->count == 1);
  CHECK(got->value == s.j->current.at("c"));
  // An infinite timeout waits as long as it takes: only the stubborn child's
  // own death ends it.
  s.j->log.clear();
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  s.run();
  s.advance(1000ms);
  CHECK(s.j->log == strings{"down c shutdown", "down b kill"});
  s.advance(1h);
  CHECK(s.j->log == strings{"down c shutdown", "down b kill"});
  caf::anon_send_exit(s.j->current.at("a"), caf::exit_reason::kill);
  s.run();
  CHECK(s.j->log == strings{"down c shutdown", "down b kill", "down a kill"});
  CHECK(s.running() == 0);
}

TEST_CASE("get_child waits while the child restarts and fails when it is stopped for good",
          "[supervision]") {
  sim s;
  auto f = flags_of(supervision_strategy::one_for_one, 2, 5s);
  f.backoff_min = 100ms;
  f.backoff_max = 100ms;
  auto sup = s.supervise("sup", f, workers(s.j, {"a", "b"}));
  s.run();
  auto first = s.get_child(sup, "a");
  s.run();
  REQUIRE(first->count == 1);
  CHECK(first->value == s.j->current.at("a"));
  auto old = s.j->current.at("a");
  s.crash("a");
  s.run();
  auto waiting = s.get_child(sup, "a");
  s.run();
  CHECK(waiting->count == 0);
  s.advance(100ms);
  REQUIRE(waiting->count == 1);
  REQUIRE(waiting->value);
  CHECK(*waiting->value == s.j->current.at("a"));
  CHECK(*waiting->value != old);
  SECTION("unknown id") {
    auto got = s.get_child(sup, "zz");
    s.run();
    CHECK(code_of(got->error) == errc::bad_request);
    CHECK(subject_of(got->error) == "zz");
  }
  SECTION("a waiting call fails when the restart exceeds the intensity") {
    s.crash("b");
    s.run();
    auto w = s.get_child(sup, "b");
    s.run();
    CHECK(w->count == 0);
    s.crash("a");  // a third restart within 5 s: the supervisor shuts down
    s.run();
    REQUIRE(w->count == 1);
    CHECK(code_of(w->error) == errc::service_unavailable);
    CHECK(subject_of(w->error) == "b");
    CHECK(detail_of(w->error).find("shutting down") != std::string::npos);
    CHECK(s.running() == 0);
  }
  SECTION("a waiting call is answered when the supervisor is killed") {
    s.crash("b");
    s.run();
    auto w = s.get_child(sup, "b");
    s.run();
    CHECK(w->count == 0);
    caf::anon_send_exit(sup, caf::exit_reason::kill);
    s.run();
    REQUIRE(w->count == 1);
    CHECK(code_of(w->error) == errc::service_unavailable);
    CHECK(subject_of(w->error) == "b");
    CHECK(s.running() == 0);  // a was killed with it: no orphans
  }
}

TEST_CASE("subscribers see up and down events in order", "[supervision]") {
  sim s;
  auto sup = s.supervise("sup", flags_of(supervision_strategy::one_for_all),
                         workers(s.j, {"a", "b", "c"}));
  s.watch(sup);
  s.run();
  CHECK(s.j->events == strings{"up a", "up b", "up c"});
  s.j->events.clear();
  s.crash("b");
  s.run();
  CHECK(s.j->events == strings{"down b service_crashed", "down c shutdown", "down a shutdown",
                               "up a", "up b", "up c"});
  // A late subscriber gets the running children at once.
  auto late = std::make_shared<journal>();
  auto rec = s.sys().spawn(recorder, late);
  s.track(rec);
  caf::anon_send(sup, watch_children_atom::value, caf::actor_cast<child_watcher>(rec));
  caf::anon_send(sup, watch_children_atom::value, caf::actor_cast<child_watcher>(rec));  // no-op
  s.run();
  CHECK(late->events == strings{"up a", "up b", "up c"});
  s.j->events.clear();
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  s.run();
  CHECK(s.j->events == strings{"down c shutdown", "down b shutdown", "down a shutdown"});
  CHECK(late->events.size() == 6);
}

TEST_CASE("a child_up carries the fresh handle of a restarted child", "[supervision]") {
  sim s;
  auto sup = s.supervise("sup", {}, workers(s.j, {"a"}));
  auto handles = std::make_shared<std::vector<caf::actor>>();
  auto proxy = s.sys().spawn([handles](caf::event_based_actor*) -> caf::behavior {
    return {
        [handles](child_up_atom, const std::string&, const caf::actor& a) {
          handles->push_back(a);
        },
        [](child_down_atom, const std::string&, const caf::error&) {},
        [](child_stopped_atom, const std::string&, const caf::error&) {},
    };
  });
  s.track(proxy);
  caf::anon_send(sup, watch_children_atom::value, caf::actor_cast<child_watcher>(proxy));
  s.run();
  s.crash("a");
  s.run();
  REQUIRE(handles->size() == 2);
  CHECK((*handles)[1] == s.j->current.at("a"));
  CHECK((*handles)[0] != (*handles)[1]);
}

TEST_CASE(
    "an exit message from a non-child stops the children in reverse and quits with its "
    "reason",
    "[supervision]") {
  sim s;
  auto sup = s.supervise("sup", {}, workers(s.j, {"a", "b", "c"}));
  auto reason = s.exit_reason_of(sup);
  s.run();
  s.j->log.clear();
  caf::anon_send_exit(sup, caf::exit_reason::normal);  // ignored, as CAF does by default
  s.run();
  CHECK(s.j->log.empty());
  REQUIRE_FALSE(reason->has_value());
  // What a crashing linked parent would send.
  caf::anon_send(caf::actor_cast<caf::actor>(sup), caf::exit_msg{caf::actor_addr{}, boom()});
  s.run();
  CHECK(s.j->log == strings{"down c shutdown", "down b shutdown", "down a shutdown"});
  REQUIRE(reason->has_value());
  CHECK(code_of(**reason) == errc::service_crashed);
  CHECK(s.running() == 0);
}

TEST_CASE("a killed supervisor takes its children with it", "[supervision]") {
  sim s;
  auto mid = supervisor_child("mid", {}, workers(s.j, {"w1", "w2"}));
  REQUIRE(mid);
  auto sup = s.supervise("top", {}, {worker_spec(s.j, "a"), *mid});
  s.run();
  CHECK(s.running() == 5);
  caf::anon_send_exit(sup, caf::exit_reason::kill);
  s.run();
  CHECK(s.running() == 0);
}

TEST_CASE("a child that fails to start", "[supervision]") {
  sim s;
  auto fails_after = std::make_shared<int>(1);  // starts that succeed before failures
  child_spec flaky;
  flaky.id = "flaky";
  flaky.start = [j = s.j, fails_after](caf::local_actor& sup) -> caf::actor {
    ++j->starts["flaky"];
    if ((*fails_after)-- > 0) return sup.spawn(test_worker, std::string{"flaky"}, false);
    if (*fails_after > -3) return caf::actor{};
    throw std::runtime_error("no resources");
  };
  SECTION("at start: the supervisor stops the others and refuses to run") {
    *fails_after = 0;
    auto sup = s.supervise("sup", {}, {worker_spec(s.j, "a"), flaky, worker_spec(s.j, "c")});
    auto reason = s.exit_reason_of(sup);
    s.run();
    CHECK(s.j->log == strings{"start a", "down a shutdown"});
    REQUIRE(reason->has_value());
    CHECK(code_of(**reason) == errc::service_unavailable);
    CHECK(subject_of(**reason) == "flaky");
    CHECK(detail_of(**reason) ==
          "failed to start under supervisor 'sup': its start function returned no actor");
  }
  SECTION("at restart: each failure counts as a crash, until the intensity is exceeded") {
    auto sup = s.supervise("sup", flags_of(supervision_strategy::one_for_one, 3), {flaky});
    auto reason = s.exit_reason_of(sup);
    s.run();
    auto handle = info(s.which_children(sup), "flaky").actor;
    caf::anon_send(handle, crash_atom::value, boom());
    s.run();
    // crash -> restart 1 (null) -> restart 2 (null) -> restart 3 (throws) -> 4th: exceeded
    CHECK(s.j->starts["flaky"] == 4);
    REQUIRE(reason->has_value());
    CHECK(code_of(**reason) == errc::restart_intensity);
    CHECK(detail_of(**reason).find("no resources") != std::string::npos);
  }
}

TEST_CASE("bad specs and flags are refused up front, by name", "[supervision]") {
  sim s;
  auto refused = [&](std::vector<child_spec> children, supervisor_flags f = {},
                     std::string name = "sup") {
    auto r = spawn_supervisor(s.sys(), name, f, std::move(children));
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == errc::bad_request);
    return r.error();
  };
  auto j = s.j;
  auto e = refused({worker_spec(j, "a"), worker_spec(j, "")});
  CHECK(detail_of(e) == "child #2 in supervisor 'sup' has an empty id");
  e = refused({worker_spec(j, "a"), worker_spec(j, "b"), worker_spec(j, "a")});
  CHECK(subject_of(e) == "a");
  CHECK(detail_of(e) == "duplicate child id 'a' in supervisor 'sup'");
  auto no_start = worker_spec(j, "n");
  no_start.start = nullptr;
  e = refused({no_start});
  CHECK(subject_of(e) == "n");
  CHECK(detail_of(e) == "child 'n' in supervisor 'sup' has no start function");
  auto bad_timeout = worker_spec(j, "t");
  bad_timeout.shutdown.timeout = -1ms;
  CHECK(subject_of(refused({bad_timeout})) == "t");
  CHECK(subject_of(refused({}, {}, "")) == "name");
  auto field = [&](auto mutate) {
    supervisor_flags f;
    mutate(f);
    return subject_of(refused({}, f));
  };
  CHECK(field([](supervisor_flags& f) { f.intensity = 1000001; }) == "intensity");
  CHECK(field([](supervisor_flags& f) { f.period = 0ms; }) == "period");
  CHECK(field([](supervisor_flags& f) { f.backoff_min = -1ms; }) == "backoff_min");
  CHECK(field([](supervisor_flags& f) {
          f.backoff_min = 10ms;
          f.backoff_max = 5ms;
        }) == "backoff_max");
  CHECK(field([](supervisor_flags& f) { f.backoff_random_factor = 1.5; }) ==
        "backoff_random_factor");
  CHECK(field([](supervisor_flags& f) { f.backoff_random_factor = -0.1; }) ==
        "backoff_random_factor");
  supervisor_flags ok;
  ok.intensity = 1000000;
  ok.backoff_random_factor = 1;
  CHECK(supervisor_flags::validated(ok));
  // A subtree is checked when its spec is made.
  auto nested = supervisor_child("mid", {}, {worker_spec(j, "x"), worker_spec(j, "x")});
  REQUIRE_FALSE(nested);
  CHECK(subject_of(nested.error()) == "x");
  CHECK(detail_of(nested.error()) == "duplicate child id 'x' in supervisor 'mid'");
  CHECK(s.running() == 0);
}

TEST_CASE("restart types and strategies parse from their OTP names", "[supervision]") {
  for (auto x : {restart_type::permanent, restart_type::transient, restart_type::temporary})
    CHECK(parse_restart_type(to_string(x)) == x);
  for (auto x : {supervision_strategy::one_for_one, supervision_strategy::one_for_all,
                 supervision_strategy::rest_for_one})
    CHECK(parse_strategy(to_string(x)) == x);
  auto r = parse_restart_type("Permanent");
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == errc::bad_request);
  CHECK(subject_of(r.error()) == "restart");
  CHECK(detail_of(r.error()) == "'Permanent' is not one of permanent, transient, temporary");
  auto st = parse_strategy("simple_one_for_one");
  REQUIRE_FALSE(st);
  CHECK(subject_of(st.error()) == "strategy");
  CHECK(detail_of(st.error()) ==
        "'simple_one_for_one' is not one of one_for_one, one_for_all, rest_for_one");
  CHECK(std::string{to_string(errc::restart_intensity)} == "restart_intensity");
  CHECK(std::string{to_string(child_status::restarting)} == "restarting");
}

TEST_CASE("a child's own restart limit stops it for good without escalating", "[supervision]") {
  sim s;
  auto limited = worker_spec(s.j, "b");
  restart_policy lim;
  lim.max_restarts = 2;
  lim.period = 1000ms;
  lim.backoff_base = 10ms;
  lim.backoff_max = 1000ms;
  limited.limit = lim;
  auto sup = s.supervise("sup", flags_of(supervision_strategy::one_for_all, 10, 5s),
                         {worker_spec(s.j, "a"), limited, worker_spec(s.j, "c")});
  auto reason = s.exit_reason_of(sup);
  s.watch(sup);
  s.run();
  s.j->events.clear();
  s.crash("b");  // 1st restart within the period: at once
  s.run();
  CHECK(s.j->events == strings{"down b service_crashed", "down c shutdown", "down a shutdown",
                               "up a", "up b", "up c"});
  s.j->events.clear();
  s.crash("b");  // 2nd: after the limit's backoff of 10 ms
  s.run();
  CHECK(s.j->events == strings{"down b service_crashed", "down c shutdown", "down a shutdown"});
  s.advance(10ms);
  s.run();
  CHECK(s.j->events == strings{"down b service_crashed", "down c shutdown", "down a shutdown",
                               "up a", "up b", "up c"});
  s.j->events.clear();
  s.crash("b");  // 3rd within 1 s: past its limit, stopped; the group is left alone
  s.run();
  CHECK(s.j->events == strings{"down b service_crashed", "stopped b"});
  REQUIRE_FALSE(reason->has_value());
  auto xs = s.which_children(sup);
  CHECK(info(xs, "b").status == child_status::stopped);
  CHECK(info(xs, "a").status == child_status::running);
  auto got = s.get_child(sup, "b");
  s.run();
  REQUIRE(got->error);
  CHECK(describe(got->error) ==
        "service 'b' is unavailable: it exceeded its restart intensity (2 restart(s) within 1000 "
        "ms; last exit: service 'worker' crashed: boom)");
  // A sibling's crash restarts the group without it.
  s.j->events.clear();
  s.crash("a");
  s.run();
  CHECK(s.j->events == strings{"down a service_crashed", "down c shutdown", "up a", "up c"});
  CHECK(info(s.which_children(sup), "b").status == child_status::stopped);
}
