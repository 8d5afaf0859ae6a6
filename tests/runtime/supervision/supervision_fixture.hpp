#pragma once

// Shared by the supervision tests: an actor system on CAF's deterministic
// test_coordinator (simulated time, one thread: the test's), a worker that
// answers pings and crashes on demand, and a journal that records starts,
// exits and subscription events in the order they happen.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "runtime/errors.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace supervision_test {

using namespace opea::runtime;

/// (ping_atom) -> std::string: a worker answers with its id.
using ping_atom = caf::atom_constant<caf::atom("ping")>;
/// (crash_atom, caf::error reason): a worker quits with `reason` (none = normal).
using crash_atom = caf::atom_constant<caf::atom("crash")>;
/// (throw_atom): a worker throws from its handler.
using throw_atom = caf::atom_constant<caf::atom("throw")>;

/// A short name for an exit reason: normal, shutdown, kill, or the errc name.
inline std::string reason_name(const caf::error& e) {
  if (!e) return "normal";
  if (e == caf::exit_reason::user_shutdown) return "shutdown";
  if (e == caf::exit_reason::kill) return "kill";
  if (e.category() == error_category) return to_string(code_of(e));
  return caf::to_string(e);
}

inline caf::error boom() {
  return make_error(errc::service_crashed, "worker", "boom");
}

/// A worker. With `ignore_shutdown` it traps exit messages and ignores them
/// (only kill stops it).
inline caf::behavior test_worker(caf::event_based_actor* self, std::string id,
                                 bool ignore_shutdown) {
  if (ignore_shutdown) self->set_exit_handler([](caf::exit_msg&) {});
  // The default handler would print "*** unhandled exception" for every throw.
  self->set_exception_handler([](caf::scheduled_actor*, std::exception_ptr&) -> caf::error {
    return make_error(errc::service_crashed, "worker", "threw");
  });
  return {
      [id](ping_atom) { return id; },
      [self](crash_atom, caf::error& reason) { self->quit(std::move(reason)); },
      [](throw_atom) -> std::string { throw std::runtime_error("boom"); },
  };
}

/// What happened, in order. Touched only by the test thread (the
/// test_coordinator runs every actor on it).
struct journal {
  /// "start a", "down a <reason>" from the workers themselves.
  std::vector<std::string> log;
  /// "up a", "down a <reason>" as seen by a subscriber.
  std::vector<std::string> events;
  /// The latest instance of each worker.
  std::map<std::string, caf::actor> current;
  /// Calls to start per id.
  std::map<std::string, int> starts;
};

/// A child spec of a test worker that logs its starts and exits.
inline child_spec worker_spec(std::shared_ptr<journal> j, std::string id,
                              restart_type restart = restart_type::permanent,
                              bool ignore_shutdown = false) {
  child_spec c;
  c.id = id;
  c.restart = restart;
  c.start = [j, id, ignore_shutdown](caf::local_actor& sup) {
    j->log.push_back("start " + id);
    ++j->starts[id];
    auto a = sup.spawn(test_worker, id, ignore_shutdown);
    a->attach_functor([j, id](const caf::error& reason) {
      j->log.push_back("down " + id + " " + reason_name(reason));
    });
    j->current[id] = a;
    return a;
  };
  return c;
}

/// A subscriber that writes the events it gets into `j->events`.
inline caf::behavior recorder(caf::event_based_actor*, std::shared_ptr<journal> j) {
  return {
      [j](child_up_atom, const std::string& id, const caf::actor&) {
        j->events.push_back("up " + id);
      },
      [j](child_down_atom, const std::string& id, const caf::error& reason) {
        j->events.push_back("down " + id + " " + reason_name(reason));
      },
      [j](child_stopped_atom, const std::string& id, const caf::error&) {
        j->events.push_back("stopped " + id);
      },
  };
}

/// The answer to one request, filled in by a client actor.
template <class T>
struct answer {
  int count = 0;
  std::optional<T> value;
  caf::error error;
};

/// An actor system on the test_coordinator. Its destructor kills what the
/// test tracked and drains the scheduler, so a failing test cannot leave
/// actors that ~actor_system would wait for forever.
class sim {
 public:
  sim() {
    cfg_.set("scheduler.policy", caf::atom("testing"));
    cfg_.set("logger.inline-output", true);
    sys_ = std::make_unique<caf::actor_system>(cfg_);
    sched_ = &dynamic_cast<caf::scheduler::test_coordinator&>(sys_->scheduler());
    baseline_ = sys_->registry().running();
  }

  ~sim() {
    for (auto& h : tracked_) caf::anon_send_exit(h, caf::exit_reason::kill);
    tracked_.clear();
    drain();
    j->current.clear();
    if (running() != 0) sys_->await_actors_before_shutdown(false);
  }

  sim(const sim&) = delete;
  sim& operator=(const sim&) = delete;

  caf::actor_system& sys() { return *sys_; }
  caf::scheduler::test_coordinator& sched() { return *sched_; }

  /// Actors alive besides CAF's own.
  size_t running() const { return sys_->registry().running() - baseline_; }

  /// Runs every job; no time passes.
  size_t run() { return sched_->run(); }

  /// Moves the clock by `d` (firing the timers due), then runs every job.
  void advance(std::chrono::milliseconds d) {
    sched_->advance_time(d);
    sched_->run();
  }

  /// Runs and fires every pending timer until nothing is left to do.
  void drain() {
    for (int i = 0; i < 100000; ++i)
      if (sched_->run() + sched_->trigger_timeouts() == 0) return;
  }

  auto now() const { return sched_->clock().now(); }

  /// Remembered and killed at the end, if still alive.
  template <class Handle>
  void track(const Handle& h) {
    tracked_.push_back(caf::actor_cast<caf::actor>(h));
  }

  /// Spawns a supervisor (tracked); fails the test if it is refused.
  supervisor_handle supervise(std::string name, supervisor_flags flags,
                              std::vector<child_spec> children) {
    auto s = spawn_supervisor(*sys_, std::move(name), flags, std::move(children));
    if (!s) throw std::logic_error("spawn_supervisor refused: " + describe(s.error()));
    track(*s);
    return *s;
  }

  /// Subscribes a recorder of `j->events` to `sup`.
  void watch(const supervisor_handle& sup) {
    auto rec = sys_->spawn(recorder, j);
    track(rec);
    caf::anon_send(sup, watch_children_atom::value, caf::actor_cast<child_watcher>(rec));
  }

  /// Where the exit reason of `x` lands when it terminates.
  template <class Handle>
  std::shared_ptr<std::optional<caf::error>> exit_reason_of(const Handle& x) {
    auto out = std::make_shared<std::optional<caf::error>>();
    x->attach_functor([out](const caf::error& reason) { *out = reason; });
    return out;
  }

  /// Sends get_child from a fresh client; runs nothing.
  std::shared_ptr<answer<caf::actor>> get_child(const supervisor_handle& sup, std::string id) {
    auto out = std::make_shared<answer<caf::actor>>();
    sys_->spawn([out, sup, id](caf::event_based_actor* self) {
      self->request(sup, caf::infinite, get_child_atom::value, id)
          .then(
              [out](const caf::actor& a) {
                ++out->count;
                out->value = a;
              },
              [out](caf::error& e) {
                ++out->count;
                out->error = std::move(e);
              });
    });
    return out;
  }

  /// Asks which_children and runs until the answer is in.
  std::vector<child_info> which_children(const supervisor_handle& sup) {
    auto out = std::make_shared<answer<std::vector<child_info>>>();
    sys_->spawn([out, sup](caf::event_based_actor* self) {
      self->request(sup, caf::infinite, which_children_atom::value)
          .then(
              [out](std::vector<child_info>& xs) {
                ++out->count;
                out->value = std::move(xs);
              },
              [out](caf::error& e) {
                ++out->count;
                out->error = std::move(e);
              });
    });
    run();
    if (!out->value) throw std::logic_error("which_children got no answer");
    return *out->value;
  }

  /// Makes the current instance of worker `id` quit with `reason`.
  void crash(const std::string& id, caf::error reason = boom()) {
    caf::anon_send(j->current.at(id), crash_atom::value, std::move(reason));
  }

  std::shared_ptr<journal> j = std::make_shared<journal>();

 private:
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  caf::scheduler::test_coordinator* sched_ = nullptr;
  size_t baseline_ = 0;
  std::vector<caf::actor> tracked_;
};

}  // namespace supervision_test
