#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "runtime/supervision/restart_window.hpp"

namespace opea::runtime {

/// When a supervisor restarts a child that exited (OTP's `restart`).
enum class restart_type : uint8_t {
  /// Always restarted, whatever the exit reason.
  permanent,
  /// Restarted only after an abnormal exit: any reason other than
  /// `caf::exit_reason::normal` (no error) and `caf::exit_reason::user_shutdown`
  /// (OTP's `normal` and `shutdown`).
  transient,
  /// Never restarted; also stopped for good when a sibling's exit makes a
  /// one_for_all / rest_for_one supervisor restart the group it belongs to.
  temporary,
};

/// What a supervisor does when a child that must be restarted exited (OTP's
/// `strategy`).
enum class supervision_strategy : uint8_t {
  /// Restart that child only.
  one_for_one,
  /// Stop all the other children (in reverse start order), then restart them
  /// all in start order.
  one_for_all,
  /// Stop the children started after it (in reverse start order), then
  /// restart it and them in start order.
  rest_for_one,
};

/// "permanent", "transient" or "temporary".
const char* to_string(restart_type x);

/// "one_for_one", "one_for_all" or "rest_for_one".
const char* to_string(supervision_strategy x);

/// Parses the names `to_string` returns. Anything else (including other case
/// or spaces): errc::bad_request, subject "restart", detail listing the
/// allowed values.
[[nodiscard]] caf::expected<restart_type> parse_restart_type(std::string_view text);

/// Parses the names `to_string` returns. Anything else: errc::bad_request,
/// subject "strategy", detail listing the allowed values.
[[nodiscard]] caf::expected<supervision_strategy> parse_strategy(std::string_view text);

/// How a supervisor stops a child (OTP's `shutdown`): when the supervisor
/// shuts down, and when a group restart (one_for_all, rest_for_one) stops
/// the child's siblings. Children are stopped one at a time: the next only
/// once the previous one's down message arrived.
struct shutdown_spec {
  /// OTP's `infinity`: send user_shutdown and wait for as long as it takes.
  /// The right choice for a child that is itself a supervisor (it stops its
  /// own children first); a worker that ignores user_shutdown then blocks
  /// the shutdown of its supervisor forever.
  static constexpr std::chrono::milliseconds infinity = std::chrono::milliseconds::max();

  /// True: `caf::exit_reason::kill` at once (untrappable). Default: false.
  bool brutal_kill = false;
  /// Without brutal_kill: the child gets `caf::exit_reason::user_shutdown`
  /// (which it may trap to clean up) and is killed if it has not exited
  /// `timeout` later. 0 to 24 h, or `infinity`. Default: 5 s (OTP's default
  /// for workers).
  std::chrono::milliseconds timeout{5000};
};

/// One child of a supervisor (OTP's child specification).
struct child_spec {
  /// Names the child in the supervisor's queries, events, logs and errors;
  /// non-empty and unique within its supervisor.
  std::string id;
  /// Spawns a fresh instance of the child and returns its handle, on the
  /// supervisor's thread (it must not block). Called once per start and
  /// restart, in start order. Spawn the child plainly (e.g.
  /// `supervisor.spawn(worker, ...)` or `supervisor.system().spawn(...)`):
  /// the supervisor monitors it itself. Do not spawn it `linked` to the
  /// supervisor: in CAF 0.17 a linked child that is killed would kill the
  /// supervisor too. A null handle or an exception counts as a failed start
  /// (see supervisor.hpp). Required.
  std::function<caf::actor(caf::local_actor& supervisor)> start;
  /// Default: permanent.
  restart_type restart = restart_type::permanent;
  /// Default: user_shutdown, then kill after 5 s.
  shutdown_spec shutdown;
  /// A limit on this child's own restarts, as Akka's per-child
  /// `maxNrOfRetries` within `withinTimeRange`: a restart that would be the
  /// (max_restarts + 1)-th of this child within `period` is not made; the
  /// child is stopped for good instead (status stopped, get_child fails with
  /// errc::service_unavailable naming it and saying it exceeded its restart
  /// intensity, subscribers get child_stopped), and a later group restart
  /// caused by a sibling leaves it stopped. Such a child does not count
  /// against the supervisor's own intensity. Its restarts also wait for the
  /// limit's backoff (the first within the period at once, then
  /// backoff_base * 2^(n-2) up to backoff_max), or the supervisor's when
  /// longer. Default: none (only the supervisor's intensity applies).
  std::optional<restart_policy> limit;
};

/// How a supervisor treats its children as a group (OTP's supervisor flags),
/// plus an optional delay before each restart (Akka's BackoffSupervisor).
struct supervisor_flags {
  /// Default: one_for_one.
  supervision_strategy strategy = supervision_strategy::one_for_one;
  /// Restart intensity: more than `intensity` restarts within `period` make
  /// the supervisor stop all its children and exit with
  /// errc::restart_intensity. A group restart counts as one restart.
  /// 0 to 1e6. Default: 1 (OTP's).
  uint32_t intensity = 1;
  /// The sliding window of `intensity`; at least 1 ms. Default: 5 s (OTP's).
  std::chrono::milliseconds period{5000};
  /// Delay before the n-th restart of a child within `period`:
  /// min(backoff_max, backoff_min * 2^(n-1)) * (1 + U[0, backoff_random_factor)).
  /// 0 restarts at once. 0 to 24 h. Default: 0.
  std::chrono::milliseconds backoff_min{0};
  /// Cap of the exponential part; >= backoff_min, at most 24 h. Default: 0.
  std::chrono::milliseconds backoff_max{0};
  /// Jitter, in [0, 1]; the delay is rounded down to whole milliseconds.
  /// Default: 0 (no jitter).
  double backoff_random_factor = 0;
  /// Seed of the jitter's PRNG (std::mt19937_64; one 53-bit draw per delayed
  /// restart when backoff_random_factor > 0); 0 seeds it from
  /// std::random_device. Default: 0.
  uint64_t seed = 0;

  /// Returns `flags` when every field is in range, otherwise
  /// errc::bad_request whose subject names the first bad field
  /// ("intensity", "period", "backoff_min", "backoff_max",
  /// "backoff_random_factor").
  [[nodiscard]] static caf::expected<supervisor_flags> validated(supervisor_flags flags);
};

/// Checks the children of supervisor `supervisor_name` up front: every id
/// non-empty and unique, every start set, every shutdown timeout in range.
/// Otherwise errc::bad_request whose subject is the child's id ("" for an
/// empty id) and whose detail names the supervisor and the problem.
[[nodiscard]] caf::expected<void> check_child_specs(std::string_view supervisor_name,
                                                    const std::vector<child_spec>& children);

}  // namespace opea::runtime
