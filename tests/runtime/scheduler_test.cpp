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

using gate = std::shared_ptr<std::promise<void>>;

/// Answers every ping with the next number.
caf::behavior ponger(caf::event_based_actor*) {
  return {[](ping_atom, int32_t n) { return n + 1; }};
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
  auto policy = GENERATE(scheduler_policy::spinning, scheduler_policy::sharing,
                         scheduler_policy::stealing);
  CAPTURE(to_string(policy));
  caf::actor_system_config cfg;
  configure_scheduler(cfg, policy, 2);
  caf::actor_system sys{cfg};
  CHECK(sys.scheduler().num_workers() == 2);
  auto pong = sys.spawn(ponger);
  // 2000 requests in sequence, each answered by the other actor: every hop
  // finds the other worker idle (spinning or asleep).
  caf::scoped_actor self{sys};
  int32_t n = 0;
  for (int i = 0; i < 2000; ++i)
    self->request(pong, caf::infinite, ping_atom::value, n).receive([&](int32_t next) { n = next; },
                                                                    [&](caf::error&) { n = -1; });
  CHECK(n == 2000);
  self->send_exit(pong, caf::exit_reason::user_shutdown);
}

TEST_CASE("spinning: a message left in a busy worker's slot runs on another worker",
          "[scheduler]") {
  // The sender's message to an idle actor goes to its worker's slot; the
  // sender's handler then blocks until that actor has run. Only another
  // worker taking the job from the slot (before it sleeps, or when its
  // timed sleep ends) lets the sender finish.
  caf::actor_system_config cfg;
  configure_scheduler(cfg, scheduler_policy::spinning, 2);
  caf::actor_system sys{cfg};
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
