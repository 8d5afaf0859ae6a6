// The scheduler policies of runtime/scheduler.hpp: names, and an actor
// system on each policy running a ping-pong to completion and shutting down.

#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include "runtime/scheduler.hpp"

using namespace opea::runtime;

namespace {

using ping_atom = caf::atom_constant<caf::atom("sping")>;

/// Answers every ping with the next number.
caf::behavior ponger(caf::event_based_actor*) {
  return {[](ping_atom, int32_t n) { return n + 1; }};
}

}  // namespace

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
