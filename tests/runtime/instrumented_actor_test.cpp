// runtime/instrumented_actor.hpp: the per-actor series (messages handled,
// handling time, mailbox depth, restarts, failures by reason) of actors
// spawned with spawn_instrumented, read back with exact values.

#include <catch2/catch.hpp>

#include <future>
#include <memory>
#include <stdexcept>

#include <caf/all.hpp>

#include "monitoring/actor_instruments.hpp"
#include "monitoring/metrics_registry.hpp"
#include "runtime/errors.hpp"
#include "runtime/instrumented_actor.hpp"

using namespace opea;
using namespace opea::runtime;

namespace {

using hold_atom = caf::atom_constant<caf::atom("ihold")>;
using boom_atom = caf::atom_constant<caf::atom("iboom")>;

struct gates {
  std::promise<void> entered;  // the first message is being handled
  std::shared_future<void> release;
  std::promise<void> all_done;  // the `expected`-th message was handled
  int expected = 0;
};
using gates_ptr = std::shared_ptr<gates>;

/// Holds its first message until released; counts the others.
caf::behavior holder(caf::stateful_actor<int>* self, gates_ptr g) {
  return {
      [self, g](hold_atom, int) {
        if (++self->state == 1) {
          g->entered.set_value();
          g->release.wait();
        }
        if (self->state == g->expected) g->all_done.set_value();
      },
      [](boom_atom) { throw std::runtime_error("boom"); },
  };
}

double labels_value(prometheus::Family<prometheus::Counter>& f, const prometheus::Labels& l) {
  return f.Add(l).Value();
}

struct fixture {
  // Declared first: the actors touch it until the system is gone.
  monitoring::metrics_registry reg{"n1"};
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  prometheus::Labels labels{{"actor", "worker"}, {"megaservice", "m"}, {"service", "s"}};

  uint64_t handled_count() {
    return reg.actor_handling.Add(labels, monitoring::metrics_registry::handling_buckets())
        .Collect()
        .histogram.sample_count;
  }
  double depth() { return reg.actor_mailbox.Add(labels).Value(); }
};

}  // namespace

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gates_ptr)

TEST_CASE_METHOD(fixture,
                 "an instrumented actor counts its messages, their handling time and "
                 "its mailbox depth",
                 "[instrumented_actor]") {
  auto ins = monitoring::make_actor_instruments(&reg, {"worker", "m", "s"});
  auto g = std::make_shared<gates>();
  std::promise<void> release;
  g->release = release.get_future().share();
  g->expected = 6;
  auto a = spawn_instrumented(sys, ins, holder, g);
  for (int i = 0; i < 6; ++i) caf::anon_send(a, hold_atom::value, i);
  g->entered.get_future().wait();
  // The first is being handled; five wait.
  CHECK(depth() == 5);
  release.set_value();
  g->all_done.get_future().wait();
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::scoped_actor self{sys};
  self->wait_for(a);
  // Six messages and the exit message.
  CHECK(labels_value(reg.actor_messages, labels) == 7);
  CHECK(handled_count() == 7);
  CHECK(depth() == 0);
  CHECK(labels_value(reg.actor_restarts, labels) == 0);
  // user_shutdown is an ordinary stop, not a failure; the exception series
  // exists from the start.
  auto collected = reg.actor_failures.Collect();
  REQUIRE(collected.size() == 1);
  REQUIRE(collected[0].metric.size() == 1);
  CHECK(collected[0].metric[0].counter.value == 0);
}

TEST_CASE_METHOD(fixture, "messages left in the mailbox of an actor that stops leave the depth",
                 "[instrumented_actor]") {
  auto ins = monitoring::make_actor_instruments(&reg, {"worker", "m", "s"});
  auto g = std::make_shared<gates>();
  std::promise<void> release;
  g->release = release.get_future().share();
  g->expected = 100;
  auto a = spawn_instrumented(sys, ins, holder, g);
  for (int i = 0; i < 4; ++i) caf::anon_send(a, hold_atom::value, i);
  g->entered.get_future().wait();
  CHECK(depth() == 3);
  // The exit jumps the queue (high priority): three messages are dropped.
  caf::anon_send_exit(a, caf::exit_reason::kill);
  release.set_value();
  caf::scoped_actor self{sys};
  self->wait_for(a);
  CHECK(depth() == 0);
  CHECK(reg.actor_failures
            .Add({{"actor", "worker"}, {"megaservice", "m"}, {"service", "s"}, {"reason", "kill"}})
            .Value() == 1);
}

TEST_CASE_METHOD(fixture,
                 "an exception that escapes a handler is a failure; the next instance "
                 "is a restart",
                 "[instrumented_actor]") {
  auto ins = monitoring::make_actor_instruments(&reg, {"worker", "m", "s"});
  auto g = std::make_shared<gates>();
  g->expected = 100;
  caf::scoped_actor self{sys};
  auto first = spawn_instrumented(sys, ins, holder, g);
  caf::anon_send(first, boom_atom::value);
  self->wait_for(first);
  CHECK(reg.actor_failures
            .Add({{"actor", "worker"},
                  {"megaservice", "m"},
                  {"service", "s"},
                  {"reason", "runtime_error"}})
            .Value() == 1);
  CHECK(labels_value(reg.actor_restarts, labels) == 0);
  auto second = spawn_instrumented(sys, ins, holder, g);
  CHECK(labels_value(reg.actor_restarts, labels) == 1);
  caf::anon_send_exit(second, caf::exit_reason::user_shutdown);
  self->wait_for(second);
  CHECK(depth() == 0);
}

TEST_CASE_METHOD(fixture,
                 "a pool of instances counts restarts past its size; a null instruments "
                 "spawns plainly",
                 "[instrumented_actor]") {
  auto pool = monitoring::make_actor_instruments(&reg, {"worker", "m", "s"}, 2);
  auto g = std::make_shared<gates>();
  auto a = spawn_instrumented(sys, pool, holder, g);
  auto b = spawn_instrumented(sys, pool, holder, g);
  CHECK(labels_value(reg.actor_restarts, labels) == 0);
  auto c = spawn_instrumented(sys, pool, holder, g);
  CHECK(labels_value(reg.actor_restarts, labels) == 1);
  auto plain = spawn_instrumented(sys, monitoring::actor_instruments_ptr{}, holder, g);
  CHECK(plain != nullptr);
  CHECK(monitoring::make_actor_instruments(nullptr, {"x", "", ""}) == nullptr);
  for (const auto& x : {a, b, c, plain}) caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
}

TEST_CASE("failure reasons are bounded names", "[instrumented_actor]") {
  CHECK(failure_reason(caf::error{}).empty());
  CHECK(failure_reason(caf::exit_reason::normal).empty());
  CHECK(failure_reason(caf::exit_reason::user_shutdown).empty());
  CHECK(failure_reason(caf::exit_reason::kill) == "kill");
  CHECK(failure_reason(caf::sec::runtime_error) == "runtime_error");
  CHECK(failure_reason(make_error(errc::restart_intensity, "s", "x")) == "restart_intensity");
}
