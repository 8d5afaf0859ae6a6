// The cost of per-actor metrics (runtime/instrumented_actor.hpp): two actors
// play ping-pong, 100,000 messages per iteration, spawned plainly or
// instrumented (both), on a 1-thread and a 2-thread scheduler. The
// difference in time per message is what the instruments add (a mailbox
// gauge up and down, a counter, a histogram observation, two clock reads).
//
// Usage: opea-bench-actor-metrics [--benchmark_repetitions=5 ...]

#include <benchmark/benchmark.h>

#include <future>
#include <memory>

#include <caf/all.hpp>

#include "monitoring/actor_instruments.hpp"
#include "monitoring/metrics_registry.hpp"
#include "runtime/instrumented_actor.hpp"
#include "runtime/scheduler.hpp"

namespace {

using ball_atom = caf::atom_constant<caf::atom("bball")>;
constexpr int32_t messages = 100000;

using done_ptr = std::shared_ptr<std::promise<void>>;

/// Returns each ball to its sender, one less, until it reaches zero.
caf::behavior player(caf::event_based_actor* self, done_ptr done) {
  return {[self, done](ball_atom, int32_t n) {
    if (n <= 0) {
      done->set_value();
      return;
    }
    self->send(caf::actor_cast<caf::actor>(self->current_sender()), ball_atom::value, n - 1);
  }};
}

void ping_pong(benchmark::State& state, bool instrumented) {
  opea::monitoring::metrics_registry reg{"bench"};
  caf::actor_system_config cfg;
  // The node's default policy (spinning workers).
  opea::runtime::configure_scheduler(cfg, opea::runtime::scheduler_policy::spinning,
                                     static_cast<size_t>(state.range(0)));
  caf::actor_system sys{cfg};
  auto a_ins =
      instrumented ? opea::monitoring::make_actor_instruments(&reg, {"a", "", ""}) : nullptr;
  auto b_ins =
      instrumented ? opea::monitoring::make_actor_instruments(&reg, {"b", "", ""}) : nullptr;
  for (auto _ : state) {
    auto done = std::make_shared<std::promise<void>>();
    auto finished = done->get_future();
    auto a = opea::runtime::spawn_instrumented(sys, a_ins, player, done);
    auto b = opea::runtime::spawn_instrumented(sys, b_ins, player, done);
    caf::send_as(a, b, ball_atom::value, messages);
    finished.wait();
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
  }
  state.SetItemsProcessed(state.iterations() * messages);
}

void plain(benchmark::State& state) {
  ping_pong(state, false);
}
void instrumented(benchmark::State& state) {
  ping_pong(state, true);
}

}  // namespace

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(done_ptr)

BENCHMARK(plain)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(instrumented)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
