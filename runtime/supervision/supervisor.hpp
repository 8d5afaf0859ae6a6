#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "monitoring/actor_instruments.hpp"
#include "runtime/supervision/child_spec.hpp"

namespace opea::runtime {

/// A child as its supervisor sees it.
enum class child_status : uint8_t {
  /// Started and not (yet) seen exiting.
  running,
  /// Waiting to be (re)started: its restart delay (backoff) has not passed,
  /// or its group (one_for_all, rest_for_one) is still being stopped or
  /// restarted in order, or its last start failed and is being retried.
  restarting,
  /// Exited and will not be restarted (temporary, a transient that exited
  /// normally, or a temporary sibling stopped by a group restart). A group
  /// restart caused by a sibling starts a stopped non-temporary child again,
  /// as OTP does.
  stopped,
};

/// "running", "restarting" or "stopped".
const char* to_string(child_status x);

/// One row of `which_children`, in start order.
struct child_info {
  std::string id;
  /// The live instance; null unless `status` is running.
  caf::actor actor;
  child_status status = child_status::stopped;
  /// Times this child was started again after its first start (by its own
  /// restart or by a group restart).
  uint32_t restarts = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, child_info& x) {
  return f(caf::meta::type_name("child_info"), x.id, x.actor, x.status, x.restarts);
}

/// (which_children_atom) -> std::vector<child_info>: every child, in start
/// order (OTP's which_children).
using which_children_atom = caf::atom_constant<caf::atom("whichkids")>;
/// (get_child_atom, std::string id) -> caf::actor: the running instance of
/// child `id`. While the child is restarting the answer waits for its next
/// start. Fails with errc::service_unavailable naming the child when it is
/// stopped for good or the supervisor is shutting down (also for calls
/// waiting at that moment), with errc::bad_request naming it when there is
/// no such child.
using get_child_atom = caf::atom_constant<caf::atom("getchild")>;
/// (watch_children_atom, child_watcher subscriber): subscribes to the
/// events below. The subscriber gets child_up at once for every running
/// child (in start order), then every event as it happens, sent by the
/// supervisor (so `current_sender()` tells a subscriber of several
/// supervisors which one it is); the supervisor monitors it and drops it
/// when it terminates. Subscribing twice has no effect.
using watch_children_atom = caf::atom_constant<caf::atom("watchkids")>;
/// (child_up_atom, std::string id, caf::actor instance): sent to subscribers
/// after every start and restart of a child. This is how a proxy learns the
/// fresh handle of a restarted child.
using child_up_atom = caf::atom_constant<caf::atom("childup")>;
/// (child_down_atom, std::string id, caf::error reason): sent to
/// subscribers for every exit of a child instance, whether it crashed,
/// exited by itself or was stopped by the supervisor (user_shutdown, or
/// kill). Every child_up is followed by exactly one child_down for the same
/// instance; a start that fails produces neither.
using child_down_atom = caf::atom_constant<caf::atom("childdown")>;
/// (child_stopped_atom, std::string id, caf::error why): sent to
/// subscribers after the child_down of an instance that will not be
/// restarted: a temporary child, a transient one that exited normally, one
/// past its own restart limit (child_spec::limit), or a temporary sibling
/// stopped by a group restart. `why` is what get_child now answers for it.
/// Not sent when the supervisor itself shuts down (its own exit tells).
using child_stopped_atom = caf::atom_constant<caf::atom("childstop")>;
/// (restart_due_atom, uint64_t token): internal, a delayed restart is due.
using restart_due_atom = caf::atom_constant<caf::atom("restartdue")>;
/// (stop_due_atom, uint64_t token): internal, a child's shutdown timeout
/// passed (it is killed if still alive).
using stop_due_atom = caf::atom_constant<caf::atom("stopdue")>;
/// (start_failed_atom, std::string id): internal, a restart of the child
/// failed; it is handled like a crash of the child.
using start_failed_atom = caf::atom_constant<caf::atom("startfail")>;

/// What a subscriber of a supervisor handles. A dynamically typed actor
/// with these two handlers subscribes as
/// `caf::actor_cast<child_watcher>(actor)` (a typed actor in CAF 0.17 may
/// only send to typed handles).
using child_watcher = caf::typed_actor<caf::reacts_to<child_up_atom, std::string, caf::actor>,
                                       caf::reacts_to<child_down_atom, std::string, caf::error>,
                                       caf::reacts_to<child_stopped_atom, std::string, caf::error>>;

/// The typed interface of a supervisor. The last three messages are the
/// supervisor's own timers and retries (a typed actor can only send itself
/// messages of its interface); nobody else needs to send them. Exits and
/// downs are system messages, handled by the exit and down handlers that a
/// typed actor has in CAF 0.17 just as a dynamically typed one does.
using supervisor_handle = caf::typed_actor<
    caf::replies_to<which_children_atom>::with<std::vector<child_info>>,
    caf::replies_to<get_child_atom, std::string>::with<caf::actor>,
    caf::reacts_to<watch_children_atom, child_watcher>, caf::reacts_to<restart_due_atom, uint64_t>,
    caf::reacts_to<stop_due_atom, uint64_t>, caf::reacts_to<start_failed_atom, std::string>>;

/// Spawns an OTP supervisor named `name` over `children`.
///
/// Up front, on the calling thread: an empty name (subject "name"), a flag
/// out of range (subject = the field) or a bad child spec (subject = the
/// child's id; see check_child_specs) is refused with errc::bad_request and
/// nothing is spawned.
///
/// Then, on the supervisor's thread:
/// - Start: the children's start functions are called in order. If one
///   fails (returns null or throws), the children already started are
///   stopped in reverse order and the supervisor exits with
///   errc::service_unavailable naming that child (OTP: failed_to_start_child).
/// - A child exits: a permanent child, and a transient one that exited
///   abnormally, is restarted per the strategy (see supervision_strategy);
///   the others become stopped (calls waiting in get_child fail). Children
///   are stopped one at a time in reverse start order (each per its
///   shutdown_spec, the next only after the previous one's down message) and
///   started in start order; a child never starts while a child before it
///   in the same group is still waiting to.
/// - Restart intensity: each restart decision (one child, or one group)
///   counts once. The (intensity + 1)-th within `period` stops all children
///   in reverse start order and makes the supervisor exit with
///   errc::restart_intensity (subject = `name`), which its own supervisor
///   sees as an abnormal exit of a child.
/// - Backoff: a restart waits min(backoff_max, backoff_min * 2^(n-1)) *
///   (1 + U[0, factor)), n = restarts of that child within `period`; a group
///   restart waits for the largest delay among its pending members.
/// - A start that fails during a restart counts as a crash of that child
///   (and so against the intensity).
/// - Shutdown: an exit message with an error reason from anyone who is not
///   a child (its parent, `anon_send_exit`) stops all children in reverse
///   order, then the supervisor quits with that reason. Exit messages with
///   reason normal are ignored (CAF's default). `exit_reason::kill` cannot
///   be trapped: the supervisor dies at once and its live children are
///   killed at once (no orphans, but no ordered stop either).
///
/// Children are monitored, not linked: in CAF 0.17 an exit message whose
/// reason is `kill` cannot be trapped, so a linked child that is killed
/// (brutal_kill, or a shutdown timeout) would kill its supervisor. The
/// supervisor kills its children itself if it terminates with some alive.
///
/// Threading: an event-based actor; it never blocks, and its timers
/// (backoff, shutdown timeouts) are delayed messages to itself, so it runs
/// on any scheduler, including caf::scheduler::test_coordinator with
/// simulated time.
///
/// `instruments`: the supervisor's own actor series (actor
/// "supervisor:<name>", see runtime/instrumented_actor.hpp); null: not
/// measured.
[[nodiscard]] caf::expected<supervisor_handle> spawn_supervisor(
    caf::actor_system& sys, std::string name, supervisor_flags flags,
    std::vector<child_spec> children,
    const monitoring::actor_instruments_ptr& instruments = nullptr);

/// A child spec whose start spawns a supervisor named `id` over `children`
/// (a subtree; any depth works). Its shutdown is `shutdown_spec::infinity`,
/// as OTP recommends for supervisors: it stops its own children first.
/// `flags` and `children` are checked now, as spawn_supervisor would; each
/// restart spawns a fresh supervisor (fresh restart window) from them.
/// `instruments` measures every supervisor it starts (a restart counts in
/// opea_actor_restarts_total).
[[nodiscard]] caf::expected<child_spec> supervisor_child(
    std::string id, supervisor_flags flags, std::vector<child_spec> children,
    restart_type restart = restart_type::permanent,
    monitoring::actor_instruments_ptr instruments = nullptr);

}  // namespace opea::runtime
