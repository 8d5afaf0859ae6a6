// The scheduler policies of runtime/scheduler.hpp: names, and an actor
// system on each policy running a ping-pong to completion and shutting down.

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <memory>

#include <caf/all.hpp>

#include "runtime/scheduler.hpp"

using namespace opea::runtime;

namespace {

using ping_atom = caf::atom_constant<caf::atom("sping")>;
using go_atom = caf::atom_constant<caf::atom("sgo")>;
using open_atom = caf::atom_constant<caf::atom("sopen")>;
using ball_atom = caf::atom_constant<caf::atom("sball")>;

using gate = std::shared_ptr<std::promise<void>>;

/// Answers every ping with the next number.
caf::behavior ponger(caf::event_based_actor*) {
  return {[](ping_atom, int32_t n) { return n + 1; }};
}

/// An actor system on `policy` with `threads` workers.
struct system_on {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  system_on(scheduler_policy policy, size_t threads) {
    configure_scheduler(cfg, policy, threads);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

/// Sends `count` pings to `pong` in sequence, each with the previous answer;
/// the last answer (count when all arrived; negative on an error).
int32_t ping_in_sequence(caf::actor_system& sys, const caf::actor& pong, int32_t count) {
  caf::scoped_actor self{sys};
  int32_t n = 0;
  for (int32_t i = 0; i < count && n >= 0; ++i)
    self->request(pong, std::chrono::seconds(30), ping_atom::value, n)
        .receive([&](int32_t next) { n = next; }, [&](caf::error&) { n = -1; });
  return n;
}

}  // namespace

// Local only (never serialized).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gate)

TEST_CASE("scheduler policies round-trip their names", "[scheduler]") {
  for (auto p : {scheduler_policy::sharing, scheduler_policy::stealing, scheduler_policy::spinning})
    CHECK(parse_scheduler_policy(to_string(p)) == p);
  CHECK(to_string(scheduler_policy::spinning) == "spinning");
  CHECK_FALSE(parse_scheduler_policy("fifo").has_value());
  CHECK_FALSE(parse_scheduler_policy("").has_value());
}

TEST_CASE("every scheduler policy runs a ping-pong to the end and shuts down", "[scheduler]") {
  auto policy =
      GENERATE(scheduler_policy::spinning, scheduler_policy::sharing, scheduler_policy::stealing);
  CAPTURE(to_string(policy));
  system_on on{policy, 2};
  auto& sys = *on.sys;
  CHECK(sys.scheduler().num_workers() == 2);
  auto pong = sys.spawn(ponger);
  // 2000 requests in sequence, each answered by the other actor: every hop
  // finds the other worker idle (spinning or asleep).
  CHECK(ping_in_sequence(sys, pong, 2000) == 2000);
  caf::anon_send_exit(pong, caf::exit_reason::user_shutdown);
}

TEST_CASE("spinning: a message left in a busy worker's slot runs on another worker",
          "[scheduler]") {
  // The sender's message to an idle actor goes to its worker's slot; the
  // sender's handler then blocks until that actor has run. Only another
  // worker taking the job from the slot (before it sleeps, or when its
  // timed sleep ends) lets the sender finish.
  system_on on{scheduler_policy::spinning, 2};
  auto& sys = *on.sys;
  auto opener = sys.spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](open_atom, const gate& g) { g->set_value(); }};
  });
  auto sender = sys.spawn([opener](caf::event_based_actor* self) -> caf::behavior {
    return {[self, opener](go_atom, int32_t n) {
      auto g = std::make_shared<std::promise<void>>();
      auto opened = g->get_future();
      self->send(opener, open_atom::value, g);
      // A handler that keeps its worker after sending (blocking is what the
      // test needs; a bound keeps a broken policy from hanging the suite).
      return opened.wait_for(std::chrono::seconds(30)) == std::future_status::ready ? n : -1;
    }};
  });
  caf::scoped_actor self{sys};
  int32_t done = 0;
  for (int32_t i = 0; i < 100; ++i)
    self->request(sender, caf::infinite, go_atom::value, i)
        .receive([&](int32_t n) { done += n == i ? 1 : 0; }, [](caf::error&) {});
  CHECK(done == 100);
  self->send_exit(sender, caf::exit_reason::user_shutdown);
  self->send_exit(opener, caf::exit_reason::user_shutdown);
}

TEST_CASE("spinning: actors that keep sending to each other do not starve other work",
          "[scheduler]") {
  // One worker: two actors pass a ball back and forth for ever, each send
  // going to the worker's slot. A request from outside waits in the shared
  // queue, which the worker must still serve.
  system_on on{scheduler_policy::spinning, 1};
  auto& sys = *on.sys;
  auto player = [](caf::event_based_actor* self) -> caf::behavior {
    return {[self](ball_atom, const caf::actor& other) {
      self->send(other, ball_atom::value, caf::actor_cast<caf::actor>(self));
    }};
  };
  auto a = sys.spawn(player);
  auto b = sys.spawn(player);
  caf::anon_send(a, ball_atom::value, b);
  auto pong = sys.spawn(ponger);
  CHECK(ping_in_sequence(sys, pong, 20) == 20);
  for (const auto& x : {a, b, pong}) caf::anon_send_exit(x, caf::exit_reason::kill);
}
