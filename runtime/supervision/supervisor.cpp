#include "runtime/supervision/supervisor.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <random>

#include <caf/all.hpp>

#include "monitoring/log.hpp"
#include "runtime/errors.hpp"
#include "runtime/instrumented_actor.hpp"
#include "runtime/supervision/restart_window.hpp"

namespace opea::runtime {

const char* to_string(child_status x) {
  switch (x) {
    case child_status::running:
      return "running";
    case child_status::restarting:
      return "restarting";
    case child_status::stopped:
      return "stopped";
  }
  return "unknown";
}

namespace {

using time_point = caf::actor_clock::time_point;

/// One child of the supervisor. Its live handle is in sup_state::live.
struct child_slot {
  child_spec spec;
  /// To be (re)started by `advance` once `due` has passed (and, if still
  /// alive, after being stopped first).
  bool pending_restart = false;
  time_point due{};
  /// Alive, but to be stopped and not restarted (a temporary child in a
  /// group restart).
  bool stop_for_good = false;
  /// Its last start failed; a start_failed message is on its way.
  bool start_failed = false;
  bool started = false;
  uint32_t restarts = 0;
  /// This child's own restarts within the period: `n` of the backoff.
  std::deque<time_point> recent;
  /// The child's own restart limit (child_spec::limit), if any.
  std::optional<restart_window> own;
  /// Stopped for good by its own limit: group restarts leave it stopped.
  bool given_up = false;
  caf::error last_exit;
  /// get_child calls waiting for its next start.
  std::vector<caf::typed_response_promise<caf::actor>> waiting;
};

struct sup_state {
  std::string sup_name;
  supervisor_flags flags;
  std::vector<child_slot> children;
  /// The live instance of each child (null while it is not alive); shared
  /// with the exit hook that kills the children left alive.
  std::shared_ptr<std::vector<caf::actor>> live;
  restart_window window;
  std::mt19937_64 rng;
  std::vector<child_watcher> subscribers;
  bool shutting_down = false;
  caf::error shutdown_reason;
  /// The child being stopped; the next stop waits for its down message.
  std::optional<size_t> stopping;
  /// Identifies the current stop (stale shutdown timeouts are ignored).
  uint64_t stop_token = 0;
  /// The restart timer in flight: its due time and token (CAF 0.17 cannot
  /// cancel a delayed message, so stale ones are recognised and ignored).
  std::optional<time_point> timer_at;
  uint64_t timer_token = 0;

  ~sup_state() {
    // Reached with waiters only when the supervisor was killed or crashed:
    // callers still get exactly one answer.
    for (auto& c : children)
      for (auto& rp : c.waiting)
        rp.deliver(make_error(errc::service_unavailable, c.spec.id,
                              "supervisor '" + sup_name + "' terminated"));
  }

  static inline const char* name = "opea.supervisor";
};

using self_ptr = supervisor_handle::stateful_pointer<sup_state>;

bool alive(const sup_state& st, size_t i) {
  return static_cast<bool>((*st.live)[i]);
}

std::optional<size_t> index_of(const sup_state& st, const caf::actor_addr& addr) {
  for (size_t i = 0; i < st.live->size(); ++i)
    if ((*st.live)[i] && (*st.live)[i].address() == addr) return i;
  return std::nullopt;
}

std::optional<size_t> index_of(const sup_state& st, const std::string& id) {
  for (size_t i = 0; i < st.children.size(); ++i)
    if (st.children[i].spec.id == id) return i;
  return std::nullopt;
}

child_status status_of(const sup_state& st, size_t i) {
  const auto& c = st.children[i];
  if (c.pending_restart || c.start_failed) return child_status::restarting;
  if (alive(st, i) && !c.stop_for_good) return child_status::running;
  return child_status::stopped;
}

bool is_abnormal(const caf::error& reason) {
  return reason && reason != caf::exit_reason::user_shutdown;
}

void fail_waiters(sup_state& st, size_t i, const caf::error& err) {
  auto waiting = std::move(st.children[i].waiting);
  st.children[i].waiting.clear();
  for (auto& rp : waiting) rp.deliver(err);
}

caf::error stopped_error(const sup_state& st, size_t i) {
  const auto& c = st.children[i];
  if (c.given_up) {
    const auto& lim = *c.spec.limit;
    return make_error(errc::service_unavailable, c.spec.id,
                      "it exceeded its restart intensity (" + std::to_string(lim.max_restarts) +
                          " restart(s) within " + std::to_string(lim.period.count()) +
                          " ms; last exit: " + describe(c.last_exit) + ")");
  }
  return make_error(errc::service_unavailable, c.spec.id,
                    "stopped for good under supervisor '" + st.sup_name +
                        "' (last exit: " + describe(c.last_exit) + ")");
}

/// Child `i` exited for good: its waiters fail, subscribers are told.
void stopped_for_good(self_ptr self, size_t i) {
  auto& st = self->state;
  auto why = stopped_error(st, i);
  fail_waiters(st, i, why);
  for (const auto& s : st.subscribers)
    self->send(s, child_stopped_atom::value, st.children[i].spec.id, why);
}

/// Starts child `i`; returns the failure, if any.
caf::error start_child(self_ptr self, size_t i) {
  auto& st = self->state;
  auto& c = st.children[i];
  c.pending_restart = false;
  c.start_failed = false;
  caf::actor instance;
  std::string why;
  try {
    instance = c.spec.start(*self);
    if (!instance) why = "its start function returned no actor";
  } catch (const std::exception& e) {
    why = std::string{"its start function threw: "} + e.what();
  } catch (...) {
    why = "its start function threw";
  }
  if (!why.empty())
    return make_error(errc::service_unavailable, c.spec.id,
                      "failed to start under supervisor '" + st.sup_name + "': " + why);
  if (c.started) ++c.restarts;
  c.started = true;
  self->monitor(instance);
  (*st.live)[i] = instance;
  for (const auto& s : st.subscribers) self->send(s, child_up_atom::value, c.spec.id, instance);
  auto waiting = std::move(c.waiting);
  c.waiting.clear();
  for (auto& rp : waiting) rp.deliver(instance);
  return caf::none;
}

/// Stops live child `i` per its shutdown spec; its down message continues.
void begin_stop(self_ptr self, size_t i) {
  auto& st = self->state;
  st.stopping = i;
  auto token = ++st.stop_token;
  const auto& instance = (*st.live)[i];
  const auto& shutdown = st.children[i].spec.shutdown;
  if (shutdown.brutal_kill) {
    self->send_exit(instance, caf::exit_reason::kill);
    return;
  }
  self->send_exit(instance, caf::exit_reason::user_shutdown);
  if (shutdown.timeout != shutdown_spec::infinity)
    self->delayed_send(self, shutdown.timeout, stop_due_atom::value, token);
}

void arm_timer(self_ptr self, time_point at, time_point now) {
  auto& st = self->state;
  if (st.timer_at && *st.timer_at <= at) return;
  st.timer_at = at;
  self->delayed_send(self, at - now, restart_due_atom::value, ++st.timer_token);
}

/// Moves the supervisor one step towards its goal: one stop at a time (in
/// reverse start order), then the due starts (in start order), then quit
/// once shut down. Called after every event; does nothing while a stop is
/// in progress.
void advance(self_ptr self) {
  auto& st = self->state;
  if (st.stopping) return;
  auto n = st.children.size();
  if (st.shutting_down) {
    for (size_t j = n; j-- > 0;) {
      if (alive(st, j)) {
        begin_stop(self, j);
        return;
      }
    }
    self->quit(st.shutdown_reason);
    return;
  }
  for (size_t j = n; j-- > 0;) {
    const auto& c = st.children[j];
    if (alive(st, j) && (c.pending_restart || c.stop_for_good)) {
      begin_stop(self, j);
      return;
    }
  }
  auto now = self->system().clock().now();
  auto in_order = st.flags.strategy != supervision_strategy::one_for_one;
  std::optional<time_point> next;
  for (size_t j = 0; j < n; ++j) {
    auto& c = st.children[j];
    if (!c.pending_restart) continue;
    if (c.due > now) {
      if (!next || c.due < *next) next = c.due;
      if (in_order) break;
      continue;
    }
    if (auto err = start_child(self, j)) {
      monitoring::log(monitoring::log_component::supervision)
          .error("{}; retrying as a crash of the child", describe(err));
      c.start_failed = true;
      c.last_exit = std::move(err);
      self->send(self, start_failed_atom::value, c.spec.id);
      if (in_order) break;
    }
  }
  if (next) arm_timer(self, *next, now);
}

void begin_shutdown(self_ptr self, caf::error reason) {
  auto& st = self->state;
  if (st.shutting_down) return;
  st.shutting_down = true;
  auto why = "supervisor '" + st.sup_name + "' is shutting down (" + describe(reason) + ")";
  st.shutdown_reason = std::move(reason);
  for (size_t i = 0; i < st.children.size(); ++i) {
    auto& c = st.children[i];
    c.pending_restart = false;
    c.stop_for_good = false;
    c.start_failed = false;
    fail_waiters(st, i, make_error(errc::service_unavailable, c.spec.id, why));
  }
  advance(self);
}

std::chrono::milliseconds backoff_delay(sup_state& st, child_slot& c, time_point now) {
  const auto& f = st.flags;
  while (!c.recent.empty() && now - c.recent.front() >= f.period) c.recent.pop_front();
  c.recent.push_back(now);
  if (f.backoff_min.count() == 0) return std::chrono::milliseconds{0};
  auto delay = f.backoff_min;
  for (size_t k = 1; k < c.recent.size() && delay < f.backoff_max; ++k)
    delay = delay > f.backoff_max / 2 ? f.backoff_max : delay * 2;
  delay = std::min(delay, f.backoff_max);
  if (f.backoff_random_factor > 0) {
    auto u = static_cast<double>(st.rng() >> 11) * 0x1.0p-53;  // U[0, 1)
    auto ms = std::floor(static_cast<double>(delay.count()) * (1.0 + u * f.backoff_random_factor));
    delay = std::chrono::milliseconds{static_cast<int64_t>(ms)};
  }
  return delay;
}

/// A running child `i` exited with `reason`: decide per restart type,
/// intensity and strategy. `advance` carries the decision out.
void handle_exit(self_ptr self, size_t i, const caf::error& reason) {
  auto& st = self->state;
  auto& c = st.children[i];
  const auto& id = c.spec.id;
  auto restart = c.spec.restart == restart_type::permanent ||
                 (c.spec.restart == restart_type::transient && is_abnormal(reason));
  if (!restart) {
    monitoring::log(monitoring::log_component::supervision)
        .info("supervisor '{}': {} child '{}' exited ({}); not restarted", st.sup_name,
              to_string(c.spec.restart), id, describe(reason));
    stopped_for_good(self, i);
    return;
  }
  auto now = self->system().clock().now();
  std::chrono::milliseconds own_delay{0};
  if (c.own) {
    auto d = c.own->on_crash(now);
    if (!d) {
      c.given_up = true;
      monitoring::log(monitoring::log_component::supervision)
          .error(
              "supervisor '{}': child '{}' exited ({}) more often than its limit of {} "
              "restart(s) within {} ms allows; it stays stopped",
              st.sup_name, id, describe(reason), c.spec.limit->max_restarts,
              c.spec.limit->period.count());
      stopped_for_good(self, i);
      return;
    }
    own_delay = *d;
  }
  if (!st.window.on_crash(now)) {
    auto err = make_error(errc::restart_intensity, st.sup_name,
                          "child '" + id + "' exited (" + describe(reason) + ") after " +
                              std::to_string(st.flags.intensity) + " restart(s) within " +
                              std::to_string(st.flags.period.count()) +
                              " ms, more than its intensity allows");
    monitoring::log(monitoring::log_component::supervision)
        .error("{}; stopping all children", describe(err));
    begin_shutdown(self, std::move(err));
    return;
  }
  auto delay = std::max(backoff_delay(st, c, now), own_delay);
  auto due = now + delay;
  monitoring::log(monitoring::log_component::supervision)
      .warn("supervisor '{}': child '{}' exited ({}); {} restart in {} ms", st.sup_name, id,
            describe(reason), to_string(st.flags.strategy), delay.count());
  auto mark = [&](size_t j) {
    auto& s = st.children[j];
    if (s.given_up) return;
    if (j != i && s.spec.restart == restart_type::temporary) {
      if (alive(st, j) && !s.pending_restart) s.stop_for_good = true;
      return;
    }
    s.stop_for_good = false;
    s.start_failed = false;
    if (s.pending_restart) {
      s.due = std::max(s.due, due);
    } else {
      s.pending_restart = true;
      s.due = due;
    }
  };
  switch (st.flags.strategy) {
    case supervision_strategy::one_for_one:
      mark(i);
      break;
    case supervision_strategy::one_for_all:
      for (size_t j = 0; j < st.children.size(); ++j) mark(j);
      break;
    case supervision_strategy::rest_for_one:
      for (size_t j = i; j < st.children.size(); ++j) mark(j);
      break;
  }
}

supervisor_handle::behavior_type supervisor_main(self_ptr self, std::string name,
                                                 supervisor_flags flags,
                                                 std::vector<child_spec> children) {
  auto& st = self->state;
  st.sup_name = std::move(name);
  st.flags = flags;
  st.window = restart_window{restart_policy{flags.intensity, flags.period, {}, {}}};
  if (flags.seed != 0)
    st.rng.seed(flags.seed);
  else
    st.rng.seed(std::random_device{}());
  st.live = std::make_shared<std::vector<caf::actor>>(children.size());
  for (auto& spec : children) {
    child_slot slot;
    if (spec.limit) slot.own.emplace(*spec.limit);
    slot.spec = std::move(spec);
    st.children.push_back(std::move(slot));
  }
  // Kills the children left alive when the supervisor terminates without
  // having stopped them (it was killed, or it crashed).
  self->attach_functor([live = st.live](const caf::error&) {
    for (auto i = live->rbegin(); i != live->rend(); ++i)
      if (*i) caf::anon_send_exit(*i, caf::exit_reason::kill);
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto found = index_of(st, dm.source);
    if (!found) {
      auto& subs = st.subscribers;
      subs.erase(std::remove_if(subs.begin(), subs.end(),
                                [&](const child_watcher& s) { return s.address() == dm.source; }),
                 subs.end());
      return;
    }
    auto i = *found;
    auto& c = st.children[i];
    (*st.live)[i] = nullptr;
    c.last_exit = dm.reason;
    for (const auto& s : st.subscribers)
      self->send(s, child_down_atom::value, c.spec.id, dm.reason);
    if (st.stopping == i) st.stopping.reset();
    if (st.shutting_down || c.pending_restart) {
      advance(self);
      return;
    }
    if (c.stop_for_good) {
      c.stop_for_good = false;
      stopped_for_good(self, i);
      advance(self);
      return;
    }
    handle_exit(self, i, dm.reason);
    advance(self);
  });
  self->set_exit_handler([self](caf::exit_msg& em) {
    // Every exit message lands here (trapping is all or nothing): quit for
    // anyone but a child, after stopping the children, as OTP does for its
    // parent's exit signal. A child's exit (if it linked itself) is handled
    // by its down message.
    if (!em.reason) return;
    if (index_of(self->state, em.source)) return;
    begin_shutdown(self, std::move(em.reason));
  });
  for (size_t i = 0; i < st.children.size(); ++i) {
    if (auto err = start_child(self, i)) {
      monitoring::log(monitoring::log_component::supervision)
          .error("{}; stopping the children already started", describe(err));
      st.children[i].last_exit = err;
      begin_shutdown(self, std::move(err));
      break;
    }
  }
  return {
      [self](which_children_atom) {
        const auto& st = self->state;
        std::vector<child_info> out;
        out.reserve(st.children.size());
        for (size_t i = 0; i < st.children.size(); ++i) {
          child_info x;
          x.id = st.children[i].spec.id;
          x.status = status_of(st, i);
          if (x.status == child_status::running) x.actor = (*st.live)[i];
          x.restarts = st.children[i].restarts;
          out.push_back(std::move(x));
        }
        return out;
      },
      [self](get_child_atom, const std::string& id) -> caf::result<caf::actor> {
        auto& st = self->state;
        auto i = index_of(st, id);
        if (!i)
          return make_error(errc::bad_request, id,
                            "supervisor '" + st.sup_name + "' has no child with this id");
        if (st.shutting_down)
          return make_error(errc::service_unavailable, id,
                            "supervisor '" + st.sup_name + "' is shutting down");
        switch (status_of(st, *i)) {
          case child_status::running:
            return (*st.live)[*i];
          case child_status::restarting: {
            auto rp = self->make_response_promise<caf::actor>();
            st.children[*i].waiting.push_back(rp);
            return rp;
          }
          case child_status::stopped:
            break;
        }
        return stopped_error(st, *i);
      },
      [self](watch_children_atom, const child_watcher& subscriber) {
        auto& st = self->state;
        if (!subscriber) return;
        for (const auto& s : st.subscribers)
          if (s == subscriber) return;
        self->monitor(subscriber);
        st.subscribers.push_back(subscriber);
        for (size_t i = 0; i < st.children.size(); ++i)
          if (status_of(st, i) == child_status::running)
            self->send(subscriber, child_up_atom::value, st.children[i].spec.id, (*st.live)[i]);
      },
      [self](restart_due_atom, uint64_t token) {
        auto& st = self->state;
        if (token != st.timer_token) return;
        st.timer_at.reset();
        advance(self);
      },
      [self](stop_due_atom, uint64_t token) {
        auto& st = self->state;
        if (token != st.stop_token || !st.stopping || !alive(st, *st.stopping)) return;
        const auto& c = st.children[*st.stopping];
        monitoring::log(monitoring::log_component::supervision)
            .warn("supervisor '{}': child '{}' did not stop within {} ms; killing it", st.sup_name,
                  c.spec.id, c.spec.shutdown.timeout.count());
        self->send_exit((*st.live)[*st.stopping], caf::exit_reason::kill);
      },
      [self](start_failed_atom, const std::string& id) {
        auto& st = self->state;
        auto i = index_of(st, id);
        if (!i || !st.children[*i].start_failed) return;
        st.children[*i].start_failed = false;
        if (!st.shutting_down) handle_exit(self, *i, st.children[*i].last_exit);
        advance(self);
      },
  };
}

}  // namespace

caf::expected<supervisor_handle> spawn_supervisor(caf::actor_system& sys, std::string name,
                                                  supervisor_flags flags,
                                                  std::vector<child_spec> children,
                                                  const monitoring::actor_instruments_ptr& ins) {
  if (name.empty()) return make_error(errc::bad_request, "name", "a supervisor needs a name");
  auto checked = supervisor_flags::validated(flags);
  if (!checked) return std::move(checked.error());
  if (auto ok = check_child_specs(name, children); !ok) return ok.error();
  return spawn_instrumented(sys, ins, supervisor_main, std::move(name), *checked,
                            std::move(children));
}

caf::expected<child_spec> supervisor_child(std::string id, supervisor_flags flags,
                                           std::vector<child_spec> children, restart_type restart,
                                           monitoring::actor_instruments_ptr ins) {
  if (id.empty()) return make_error(errc::bad_request, "", "a supervisor child needs an id");
  auto checked = supervisor_flags::validated(flags);
  if (!checked) return std::move(checked.error());
  if (auto ok = check_child_specs(id, children); !ok) return ok.error();
  auto shared = std::make_shared<const std::vector<child_spec>>(std::move(children));
  child_spec spec;
  spec.id = id;
  spec.restart = restart;
  spec.shutdown.timeout = shutdown_spec::infinity;
  spec.start = [id, flags = *checked, shared, ins](caf::local_actor& parent) {
    auto sup = spawn_supervisor(parent.system(), id, flags, *shared, ins);
    return sup ? caf::actor_cast<caf::actor>(*sup) : caf::actor{};
  };
  return spec;
}

}  // namespace opea::runtime
