#include "runtime/resilience/circuit_breaker.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "runtime/errors.hpp"

namespace opea::runtime {

namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

constexpr uint32_t max_window_size = 100000;
constexpr uint8_t failed_bit = 1;
constexpr uint8_t slow_bit = 2;

caf::error refuse(const char* key, std::string detail) {
  return make_error(errc::bad_request, key, std::move(detail));
}

/// False for NaN too.
bool is_percent(double x) {
  return x > 0 && x <= 100;
}

double percent(uint32_t part, uint32_t whole) {
  return 100.0 * part / whole;
}

/// "62.5", "50", "33.33": at most two decimals, no trailing zeros.
std::string format_number(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", x);
  std::string out = buf;
  while (!out.empty() && out.back() == '0') out.pop_back();
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

/// `now + d`, saturating at time_point::max().
circuit_breaker::time_point add(circuit_breaker::time_point now, milliseconds d) {
  using time_point = circuit_breaker::time_point;
  constexpr auto max_ms = std::chrono::duration_cast<milliseconds>(nanoseconds::max());
  if (d >= max_ms) return time_point::max();
  auto ns = std::chrono::duration_cast<nanoseconds>(d);
  if (now > time_point::max() - ns) return time_point::max();
  return now + ns;
}

}  // namespace

const char* to_string(circuit_breaker_settings::window_kind x) {
  switch (x) {
    case circuit_breaker_settings::window_kind::count_based:
      return "count_based";
    case circuit_breaker_settings::window_kind::time_based:
      return "time_based";
  }
  return "unknown";
}

const char* to_string(circuit_breaker::state x) {
  switch (x) {
    case circuit_breaker::state::closed:
      return "closed";
    case circuit_breaker::state::open:
      return "open";
    case circuit_breaker::state::half_open:
      return "half_open";
    case circuit_breaker::state::forced_open:
      return "forced_open";
    case circuit_breaker::state::disabled:
      return "disabled";
  }
  return "unknown";
}

circuit_breaker_settings circuit_breaker_settings::consecutive(uint32_t failures,
                                                               milliseconds open_for) {
  circuit_breaker_settings s;
  s.window = window_kind::count_based;
  s.window_size = failures;
  s.minimum_calls = failures;
  s.failure_rate_threshold = 100;
  s.slow_call_rate_threshold = 100;
  s.slow_call_duration = milliseconds::max();
  s.wait_in_open = open_for;
  s.permitted_calls_in_half_open = 1;
  return s;
}

caf::expected<circuit_breaker> circuit_breaker::make(const circuit_breaker_settings& s) {
  using kind = circuit_breaker_settings::window_kind;
  if (s.window != kind::count_based && s.window != kind::time_based)
    return refuse("sliding_window_type", "must be count_based or time_based");
  if (s.window_size < 1 || s.window_size > max_window_size)
    return refuse("sliding_window_size",
                  "is " + std::to_string(s.window_size) + "; must be 1.." +
                      std::to_string(max_window_size) +
                      " (calls for a count_based window, seconds for a time_based one)");
  if (s.minimum_calls < 1)
    return refuse("minimum_calls", "is 0; must be at least 1 (calls recorded before rates count)");
  if (!is_percent(s.failure_rate_threshold))
    return refuse("failure_rate_threshold", "is " + format_number(s.failure_rate_threshold) +
                                                "; must be a percentage in (0, 100]");
  if (!is_percent(s.slow_call_rate_threshold))
    return refuse("slow_call_rate_threshold", "is " + format_number(s.slow_call_rate_threshold) +
                                                  "; must be a percentage in (0, 100]");
  if (s.slow_call_duration.count() < 1)
    return refuse("slow_call_duration_ms", "is " + std::to_string(s.slow_call_duration.count()) +
                                               "; must be at least 1 (milliseconds)");
  if (s.wait_in_open.count() < 1)
    return refuse("wait_in_open_ms", "is " + std::to_string(s.wait_in_open.count()) +
                                         "; must be at least 1 (milliseconds)");
  if (!(s.wait_in_open_multiplier >= 1) || !std::isfinite(s.wait_in_open_multiplier))
    return refuse("wait_in_open_multiplier", "is " + format_number(s.wait_in_open_multiplier) +
                                                 "; must be a finite number >= 1 (1 = no growth)");
  if (s.max_wait_in_open.count() != 0 && s.max_wait_in_open < s.wait_in_open)
    return refuse("max_wait_in_open_ms",
                  "is " + std::to_string(s.max_wait_in_open.count()) +
                      "; must be 0 (= wait_in_open_ms * 1024) or at least wait_in_open_ms (" +
                      std::to_string(s.wait_in_open.count()) + ")");
  if (s.permitted_calls_in_half_open < 1)
    return refuse("permitted_calls_in_half_open", "is 0; must be at least 1 (probe calls)");
  return circuit_breaker{s};
}

circuit_breaker::circuit_breaker(const circuit_breaker_settings& s) : settings_(s) {
  using kind = circuit_breaker_settings::window_kind;
  if (s.window == kind::count_based) {
    ring_.resize(s.window_size);
    minimum_ = std::min(s.minimum_calls, s.window_size);
  } else {
    buckets_.resize(s.window_size);
    minimum_ = s.minimum_calls;
  }
  if (s.max_wait_in_open.count() > 0) {
    max_wait_ = s.max_wait_in_open;
  } else if (s.wait_in_open > milliseconds::max() / 1024) {
    max_wait_ = milliseconds::max();
  } else {
    max_wait_ = s.wait_in_open * 1024;
  }
  wait_ = s.wait_in_open;
}

// -- the window ---------------------------------------------------------------

void circuit_breaker::slide(time_point now) {
  if (buckets_.empty()) return;  // count-based: nothing expires with time
  if (!epoch_set_) {
    epoch_set_ = true;
    epoch_ = now;
    head_sec_ = 0;
    return;
  }
  if (now <= epoch_) return;
  auto sec = std::chrono::duration_cast<std::chrono::seconds>(now - epoch_).count();
  if (sec <= head_sec_) return;  // same second (or time went back): keep the head bucket
  auto size = static_cast<int64_t>(buckets_.size());
  auto steps = std::min(sec - head_sec_, size);
  for (int64_t i = 1; i <= steps; ++i) {
    auto& b = buckets_[static_cast<size_t>((head_sec_ + i) % size)];
    window_.calls -= b.calls;
    window_.failures -= b.failures;
    window_.slow -= b.slow;
    b = tally{};
  }
  head_sec_ = sec;
}

void circuit_breaker::add_to_window(bool failed, bool slow) {
  if (!ring_.empty()) {
    auto& slot = ring_[next_];
    if (window_.calls == ring_.size()) {  // full: the oldest call leaves
      window_.failures -= (slot & failed_bit) ? 1 : 0;
      window_.slow -= (slot & slow_bit) ? 1 : 0;
      --window_.calls;
    }
    slot = static_cast<uint8_t>((failed ? failed_bit : 0) | (slow ? slow_bit : 0));
    next_ = (next_ + 1) % static_cast<uint32_t>(ring_.size());
  } else {
    auto& b = buckets_[static_cast<size_t>(head_sec_ % static_cast<int64_t>(buckets_.size()))];
    ++b.calls;
    b.failures += failed ? 1 : 0;
    b.slow += slow ? 1 : 0;
  }
  ++window_.calls;
  window_.failures += failed ? 1 : 0;
  window_.slow += slow ? 1 : 0;
}

void circuit_breaker::clear_window() {
  std::fill(ring_.begin(), ring_.end(), uint8_t{0});
  next_ = 0;
  std::fill(buckets_.begin(), buckets_.end(), tally{});
  window_ = tally{};
  // The time window keeps its epoch and head: the next call lands in the
  // bucket of its own second.
}

bool circuit_breaker::trips(const tally& counts, bool* by_slow) const {
  if (percent(counts.failures, counts.calls) >= settings_.failure_rate_threshold) {
    *by_slow = false;
    return true;
  }
  if (percent(counts.slow, counts.calls) >= settings_.slow_call_rate_threshold) {
    *by_slow = true;
    return true;
  }
  return false;
}

// -- transitions --------------------------------------------------------------

void circuit_breaker::open(bool by_probes, bool by_slow, const tally& counts, time_point now) {
  if (by_probes) {
    ++reopens_;
    double grown = static_cast<double>(settings_.wait_in_open.count()) *
                   std::pow(settings_.wait_in_open_multiplier, static_cast<double>(reopens_));
    wait_ = grown >= static_cast<double>(max_wait_.count())
                ? max_wait_
                : milliseconds{static_cast<int64_t>(grown)};
  } else {
    reopens_ = 0;
    wait_ = settings_.wait_in_open;
  }
  trip_ = trip{by_probes, by_slow, counts};
  state_ = state::open;
  open_until_ = add(now, wait_);
  ++times_opened_;
  probes_permitted_ = 0;
  probes_in_flight_ = 0;
  probes_ = tally{};
  clear_window();
}

void circuit_breaker::close() {
  state_ = state::closed;
  reopens_ = 0;
  wait_ = settings_.wait_in_open;
  probes_permitted_ = 0;
  probes_in_flight_ = 0;
  probes_ = tally{};
  clear_window();
}

void circuit_breaker::to_half_open() {
  state_ = state::half_open;
  probes_permitted_ = 0;
  probes_in_flight_ = 0;
  probes_ = tally{};
}

circuit_breaker::permission circuit_breaker::try_acquire(time_point now) {
  switch (state_) {
    case state::closed:
      slide(now);
      return {true, milliseconds{0}};
    case state::disabled:
      return {true, milliseconds{0}};
    case state::forced_open:
      return {false, milliseconds{0}};
    case state::open:
      if (now < open_until_) return {false, std::chrono::ceil<milliseconds>(open_until_ - now)};
      to_half_open();
      [[fallthrough]];
    case state::half_open:
      if (probes_permitted_ >= settings_.permitted_calls_in_half_open)
        return {false, milliseconds{0}};
      ++probes_permitted_;
      ++probes_in_flight_;
      return {true, milliseconds{0}};
  }
  return {false, milliseconds{0}};
}

void circuit_breaker::record(bool failed, nanoseconds duration, time_point now) {
  bool slow = std::chrono::duration_cast<milliseconds>(duration) >= settings_.slow_call_duration;
  bool by_slow = false;
  switch (state_) {
    case state::closed:
      slide(now);
      add_to_window(failed, slow);
      if (window_.calls >= minimum_ && trips(window_, &by_slow)) open(false, by_slow, window_, now);
      return;
    case state::half_open:
      if (probes_in_flight_ == 0) return;  // a call let through before it opened
      --probes_in_flight_;
      ++probes_.calls;
      probes_.failures += failed ? 1 : 0;
      probes_.slow += slow ? 1 : 0;
      if (probes_.calls < settings_.permitted_calls_in_half_open) return;
      if (trips(probes_, &by_slow))
        open(true, by_slow, probes_, now);
      else
        close();
      return;
    case state::open:
    case state::forced_open:
    case state::disabled:
      return;
  }
}

void circuit_breaker::on_success(nanoseconds duration, time_point now) {
  record(false, duration, now);
}

void circuit_breaker::on_failure(nanoseconds duration, time_point now) {
  record(true, duration, now);
}

void circuit_breaker::on_ignored(time_point now) {
  if (state_ == state::half_open && probes_in_flight_ > 0) {
    --probes_in_flight_;
    --probes_permitted_;
  }
}

void circuit_breaker::force_open(time_point now) {
  state_ = state::forced_open;
  probes_permitted_ = 0;
  probes_in_flight_ = 0;
  probes_ = tally{};
}

void circuit_breaker::disable() {
  state_ = state::disabled;
  probes_permitted_ = 0;
  probes_in_flight_ = 0;
  probes_ = tally{};
}

void circuit_breaker::reset() {
  close();
}

// -- observation --------------------------------------------------------------

const circuit_breaker::tally& circuit_breaker::visible_tally() const {
  switch (state_) {
    case state::open:
      return trip_.counts;
    case state::half_open:
      return probes_;
    default:
      return window_;
  }
}

uint32_t circuit_breaker::visible_minimum() const {
  switch (state_) {
    case state::open:
      return 1;  // the calls that opened it were enough by definition
    case state::half_open:
      return settings_.permitted_calls_in_half_open;
    default:
      return minimum_;
  }
}

double circuit_breaker::failure_rate() const {
  const auto& t = visible_tally();
  if (t.calls == 0 || t.calls < visible_minimum()) return -1;
  return percent(t.failures, t.calls);
}

double circuit_breaker::slow_call_rate() const {
  const auto& t = visible_tally();
  if (t.calls == 0 || t.calls < visible_minimum()) return -1;
  return percent(t.slow, t.calls);
}

uint64_t circuit_breaker::buffered_calls() const {
  return visible_tally().calls;
}

std::string circuit_breaker::why_refused(time_point now) const {
  switch (state_) {
    case state::closed:
    case state::disabled:
      return {};
    case state::forced_open:
      return "its circuit breaker is forced open";
    case state::half_open:
      if (probes_permitted_ < settings_.permitted_calls_in_half_open) return {};
      return "its circuit breaker is half-open: " + std::to_string(probes_in_flight_) +
             " probe call(s) in flight, waiting for their outcome";
    case state::open:
      break;
  }
  if (now >= open_until_) return {};
  auto next = std::chrono::ceil<milliseconds>(open_until_ - now).count();
  auto tail = " (next probe in " + std::to_string(next) + " ms)";
  const auto& c = trip_.counts;
  bool count_based = settings_.window == circuit_breaker_settings::window_kind::count_based;
  if (trip_.by_probes && c.calls == 1) {
    auto what =
        trip_.by_slow
            ? "was slow (" + std::to_string(settings_.slow_call_duration.count()) + " ms or more)"
            : std::string{"failed"};
    return "its circuit breaker is open: the probe call " + what + tail;
  }
  if (!trip_.by_probes && !trip_.by_slow && count_based && settings_.failure_rate_threshold >= 100)
    return "its circuit breaker is open after " + std::to_string(c.failures) +
           " consecutive failures" + tail;
  std::string out = "its circuit breaker is open: ";
  if (trip_.by_slow) {
    out += "slow call rate " + format_number(percent(c.slow, c.calls)) +
           " % >= " + format_number(settings_.slow_call_rate_threshold) + " % (calls of " +
           std::to_string(settings_.slow_call_duration.count()) + " ms or more)";
  } else {
    out += "failure rate " + format_number(percent(c.failures, c.calls)) +
           " % >= " + format_number(settings_.failure_rate_threshold) + " %";
  }
  if (trip_.by_probes)
    out += " over " + std::to_string(c.calls) + " probe calls";
  else if (count_based)
    out += " over the last " + std::to_string(c.calls) + " calls";
  else
    out += " over " + std::to_string(c.calls) + " calls in the last " +
           std::to_string(settings_.window_size) + " s";
  return out + tail;
}

}  // namespace opea::runtime
