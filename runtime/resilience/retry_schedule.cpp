#include "runtime/resilience/retry_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <caf/sec.hpp>

#include "runtime/errors.hpp"

namespace opea::runtime {

namespace {

using std::chrono::milliseconds;

constexpr uint32_t max_attempts = 100;
constexpr milliseconds max_backoff_allowed{3600000};

caf::error refuse(const char* key, std::string detail) {
  return make_error(errc::bad_request, key, std::move(detail));
}

uint64_t random_seed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

// -- retry_budget -------------------------------------------------------------

uint32_t retry_budget::limit(uint32_t active_calls) const {
  double share = percent_ > 0 ? std::floor(percent_ * active_calls / 100.0) : 0.0;
  return std::max(min_concurrency_, static_cast<uint32_t>(share));
}

bool retry_budget::try_acquire(uint32_t active_calls) {
  if (active_ >= limit(active_calls)) return false;
  ++active_;
  return true;
}

// -- retry_schedule -----------------------------------------------------------

const char* to_string(retry_schedule::verdict x) {
  switch (x) {
    case retry_schedule::verdict::retry:
      return "retry";
    case retry_schedule::verdict::not_idempotent:
      return "not_idempotent";
    case retry_schedule::verdict::not_transient:
      return "not_transient";
    case retry_schedule::verdict::exhausted:
      return "exhausted";
    case retry_schedule::verdict::breaker_open:
      return "breaker_open";
    case retry_schedule::verdict::deadline:
      return "deadline";
    case retry_schedule::verdict::budget:
      return "budget";
  }
  return "unknown";
}

caf::expected<retry_schedule> retry_schedule::make(const retry_settings& s, bool idempotent) {
  if (s.attempts < 1 || s.attempts > max_attempts)
    return refuse("attempts", "is " + std::to_string(s.attempts) + "; must be 1.." +
                                  std::to_string(max_attempts) + " (calls in all; 1 = no retry)");
  if (s.attempts > 1 && !idempotent)
    return refuse("attempts", "is " + std::to_string(s.attempts) +
                                  " but the service is not idempotent: only an idempotent "
                                  "service may be retried (attempts must be 1)");
  if (s.backoff.count() < 1 || s.backoff > max_backoff_allowed)
    return refuse("backoff_ms", "is " + std::to_string(s.backoff.count()) + "; must be 1.." +
                                    std::to_string(max_backoff_allowed.count()) +
                                    " (milliseconds)");
  if (s.max_backoff < s.backoff || s.max_backoff > max_backoff_allowed)
    return refuse("max_backoff_ms",
                  "is " + std::to_string(s.max_backoff.count()) + "; must be backoff_ms (" +
                      std::to_string(s.backoff.count()) + ").." +
                      std::to_string(max_backoff_allowed.count()) + " (milliseconds)");
  if (!(s.budget_percent > 0 && s.budget_percent <= 100)) {
    char shown[32];
    std::snprintf(shown, sizeof shown, "%g", s.budget_percent);
    return refuse("budget_percent",
                  std::string{"is "} + shown + "; must be a percentage in (0, 100]");
  }
  return retry_schedule{s, idempotent};
}

retry_schedule::retry_schedule(const retry_settings& s, bool idempotent)
    : settings_(s), idempotent_(idempotent) {
  if (settings_.seed == 0) settings_.seed = random_seed();
  prng_.seed(settings_.seed);
}

milliseconds retry_schedule::max_wait(uint32_t attempt) const {
  auto cap = settings_.backoff;
  for (uint32_t i = 1; i < attempt && cap < settings_.max_backoff; ++i) cap *= 2;
  return std::min(cap, settings_.max_backoff);
}

retry_schedule::decision retry_schedule::after_failure(uint32_t attempt, const caf::error& err,
                                                       bool breaker_open, time_point now,
                                                       time_point call_deadline,
                                                       retry_budget& budget,
                                                       uint32_t active_calls) {
  if (!idempotent_) return {verdict::not_idempotent, milliseconds{0}};
  if (!is_transient(err)) return {verdict::not_transient, milliseconds{0}};
  if (attempt >= settings_.attempts) return {verdict::exhausted, milliseconds{0}};
  if (breaker_open) return {verdict::breaker_open, milliseconds{0}};
  std::uniform_int_distribution<int64_t> jitter{0, max_wait(attempt).count()};
  milliseconds wait{jitter(prng_)};
  // The wait is at most an hour (validated), so `now + wait` cannot overflow
  // for a clock reading; `call_deadline` may be time_point::max() (none).
  if (!(now + wait < call_deadline)) return {verdict::deadline, milliseconds{0}};
  if (!budget.try_acquire(active_calls)) return {verdict::budget, milliseconds{0}};
  return {verdict::retry, wait};
}

bool retry_schedule::is_transient(const caf::error& err) {
  if (!err) return false;
  if (err.category() == caf::atom("system"))
    return static_cast<caf::sec>(err.code()) == caf::sec::request_receiver_down;
  switch (code_of(err)) {
    case errc::http_connect:
    case errc::http_timeout:
    case errc::service_crashed:
    case errc::node_down:
      return true;
    default:
      return false;
  }
}

}  // namespace opea::runtime
