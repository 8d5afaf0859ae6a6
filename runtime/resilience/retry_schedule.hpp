#pragma once

#include <chrono>
#include <cstdint>
#include <random>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace opea::runtime {

/// Settings of a service's retries. Each field names its config key;
/// `retry_schedule::make` refuses invalid values with errc::bad_request
/// whose subject is that key.
struct retry_settings {
  /// Key `attempts`: calls in all, the first one included (1 = no retry);
  /// 1..100; more than 1 only for an idempotent service. Default: 1.
  uint32_t attempts = 1;

  /// Key `backoff_ms`: base of the exponential backoff: the wait before
  /// retry n (after attempt n failed) is drawn uniformly from
  /// [0, min(max_backoff, backoff * 2^(n-1))] ("full jitter");
  /// 1..3600000. Default: 50 ms.
  std::chrono::milliseconds backoff{50};

  /// Key `max_backoff_ms`: cap of the backoff; backoff..3600000.
  /// Default: 1000 ms.
  std::chrono::milliseconds max_backoff{1000};

  /// Key `budget_percent`: retries in flight at once may be this percent of
  /// the calls in flight to the service (see `retry_budget`); (0, 100].
  /// Default: 20.
  double budget_percent = 20;

  /// Key `min_retry_concurrency`: retries in flight at once that are always
  /// allowed, however few calls are in flight; >= 0. Default: 3.
  uint32_t min_retry_concurrency = 3;

  /// Seed of the jitter's PRNG; 0 = a random seed drawn by `make`.
  /// Default: 0.
  uint64_t seed = 0;
};

/// Envoy's retry budget for one service: retries in flight at once <=
/// max(min_concurrency, floor(percent % of the calls in flight to the
/// service)), so retries cannot multiply the load on a service that is
/// failing. Not thread-safe: owned by the service's proxy actor. The values
/// are taken as given (`retry_schedule::make` validates them).
class retry_budget {
 public:
  /// Default: 20 %, at least 3 retries at once.
  explicit retry_budget(double percent = 20, uint32_t min_concurrency = 3)
      : percent_(percent), min_concurrency_(min_concurrency) {}

  /// The budget of `settings` (budget_percent, min_retry_concurrency).
  static retry_budget of(const retry_settings& settings) {
    return retry_budget{settings.budget_percent, settings.min_retry_concurrency};
  }

  /// Retries allowed in flight at once when `active_calls` calls (retries
  /// included) are in flight to the service.
  uint32_t limit(uint32_t active_calls) const;

  /// A retry may start when fewer than `limit(active_calls)` are in flight;
  /// then it counts as in flight until `release`.
  bool try_acquire(uint32_t active_calls);

  /// A retry that `try_acquire` allowed has ended.
  void release() {
    if (active_ > 0) --active_;
  }

  uint32_t active_retries() const { return active_; }

 private:
  double percent_;
  uint32_t min_concurrency_;
  uint32_t active_ = 0;
};

/// Decides whether a failed call to one service is retried, and after what
/// wait. Not thread-safe: owned by the service's proxy actor, which passes
/// `now` and the facts (the error, whether the breaker is open, the
/// deadline, the calls in flight); the class reads no clock. Jitter comes
/// from a std::mt19937_64 seeded with `settings().seed`, so a seed gives the
/// same waits every run.
class retry_schedule {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// The schedule of a service, or errc::bad_request naming the offending
  /// config key; attempts > 1 on a service that is not `idempotent` is
  /// refused (subject "attempts").
  [[nodiscard]] static caf::expected<retry_schedule> make(const retry_settings& settings,
                                                          bool idempotent);

  /// Why a failed call is (not) retried; each but `retry` names the reason.
  enum class verdict {
    retry,
    not_idempotent,
    not_transient,
    exhausted,
    breaker_open,
    deadline,
    budget,
  };

  /// The answer of `after_failure`.
  struct decision {
    verdict v = verdict::exhausted;
    /// How long to wait before the retry; 0 unless `v` is retry.
    std::chrono::milliseconds wait{0};
  };

  /// After attempt number `attempt` (1-based) failed with `err` at `now`.
  /// The checks, in this order (the first that fails is the verdict):
  /// idempotent, `is_transient(err)`, attempt < attempts, !breaker_open,
  /// then a wait is drawn (see retry_settings::backoff) and now + wait <
  /// `call_deadline` (time_point::max() = none), then
  /// `budget.try_acquire(active_calls)`. A retry holds the budget: the
  /// owner calls `budget.release()` when that retry ends.
  decision after_failure(uint32_t attempt, const caf::error& err, bool breaker_open, time_point now,
                         time_point call_deadline, retry_budget& budget, uint32_t active_calls);

  /// The upper bound of the wait after attempt `attempt` failed:
  /// min(max_backoff, backoff * 2^(attempt-1)).
  std::chrono::milliseconds max_wait(uint32_t attempt) const;

  /// Failures worth another try: errc::http_connect, http_timeout,
  /// service_crashed, node_down, and CAF's sec::request_receiver_down. Not:
  /// errors the service answered with (service_failed, http_status,
  /// bad_response, bad_request), cancelled, deadline_exceeded, overloaded,
  /// service_unavailable (breaker and bulkhead refusals), anything else.
  static bool is_transient(const caf::error& err);

  /// The settings; `seed` is the one in use (drawn by `make` when 0 was
  /// given), so a run can be replayed.
  const retry_settings& settings() const { return settings_; }

  bool idempotent() const { return idempotent_; }

 private:
  retry_schedule(const retry_settings& settings, bool idempotent);

  retry_settings settings_;
  bool idempotent_;
  std::mt19937_64 prng_;
};

/// "retry", "not_idempotent", "not_transient", "exhausted", "breaker_open",
/// "deadline" or "budget".
const char* to_string(retry_schedule::verdict x);

}  // namespace opea::runtime
