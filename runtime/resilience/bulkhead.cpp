#include "runtime/resilience/bulkhead.hpp"

#include <algorithm>
#include <deque>

#include "runtime/errors.hpp"

namespace opea::runtime {

/// The bulkhead's state, shared with its permits (weakly).
struct bulkhead::state {
  struct waiting {
    uint64_t waiter;
    time_point expiry;  // time_point::max() = never
  };

  bulkhead_settings settings;
  uint32_t in_flight = 0;
  std::deque<waiting> queue;
  std::vector<std::pair<uint64_t, permit>> admitted;
  std::weak_ptr<state> self;

  /// A slot was given back: the first queued call takes it, else it is free.
  void free_slot() {
    if (queue.empty()) {
      if (in_flight > 0) --in_flight;
      return;
    }
    auto next = queue.front();
    queue.pop_front();
    admitted.emplace_back(next.waiter, permit{self});
  }
};

// -- permit -------------------------------------------------------------------

bulkhead::permit::permit(permit&& other) noexcept : state_(std::move(other.state_)) {
  other.state_.reset();
}

bulkhead::permit& bulkhead::permit::operator=(permit&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
    other.state_.reset();
  }
  return *this;
}

bulkhead::permit::~permit() {
  release();
}

void bulkhead::permit::release() {
  auto s = state_.lock();
  state_.reset();
  if (s) s->free_slot();
}

// -- bulkhead -----------------------------------------------------------------

const char* to_string(bulkhead::outcome x) {
  switch (x) {
    case bulkhead::outcome::admitted:
      return "admitted";
    case bulkhead::outcome::queued:
      return "queued";
    case bulkhead::outcome::rejected:
      return "rejected";
  }
  return "unknown";
}

caf::expected<bulkhead> bulkhead::make(const bulkhead_settings& s) {
  if (s.max_concurrent_calls < 1)
    return make_error(errc::bad_request, "max_in_flight",
                      "is 0; must be at least 1 (calls in flight at once)");
  if (s.max_wait.count() < 0)
    return make_error(errc::bad_request, "max_wait_ms",
                      "is " + std::to_string(s.max_wait.count()) +
                          "; must be at least 0 (milliseconds; 0 = until the call's deadline)");
  auto st = std::make_shared<state>();
  st->settings = s;
  st->self = st;
  return bulkhead{std::move(st)};
}

bulkhead::~bulkhead() = default;

bulkhead::entry bulkhead::try_enter(uint64_t waiter, time_point now, time_point call_deadline) {
  auto& s = *state_;
  if (s.in_flight < s.settings.max_concurrent_calls) {
    ++s.in_flight;
    return entry{outcome::admitted, permit{state_}};
  }
  if (s.queue.size() >= s.settings.max_queue) return entry{outcome::rejected, permit{}};
  auto expiry = call_deadline;
  if (s.settings.max_wait.count() > 0) {
    auto wait = std::chrono::duration_cast<clock::duration>(s.settings.max_wait);
    if (now <= time_point::max() - wait) expiry = std::min(expiry, now + wait);
  }
  s.queue.push_back(state::waiting{waiter, expiry});
  return entry{outcome::queued, permit{}};
}

std::vector<std::pair<uint64_t, bulkhead::permit>> bulkhead::take_admitted() {
  std::vector<std::pair<uint64_t, permit>> out;
  out.swap(state_->admitted);
  return out;
}

std::vector<uint64_t> bulkhead::take_expired(time_point now) {
  std::vector<uint64_t> out;
  auto& q = state_->queue;
  auto keep = std::remove_if(q.begin(), q.end(), [&](const state::waiting& w) {
    if (w.expiry == time_point::max() || w.expiry > now) return false;
    out.push_back(w.waiter);
    return true;
  });
  q.erase(keep, q.end());
  return out;
}

std::optional<bulkhead::time_point> bulkhead::next_expiry() const {
  std::optional<time_point> out;
  for (const auto& w : state_->queue)
    if (w.expiry != time_point::max() && (!out || w.expiry < *out)) out = w.expiry;
  return out;
}

bool bulkhead::cancel(uint64_t waiter) {
  auto& q = state_->queue;
  auto i =
      std::find_if(q.begin(), q.end(), [&](const state::waiting& w) { return w.waiter == waiter; });
  if (i != q.end()) {
    q.erase(i);
    return true;
  }
  auto& a = state_->admitted;
  auto j = std::find_if(a.begin(), a.end(), [&](const auto& p) { return p.first == waiter; });
  if (j == a.end()) return false;
  // Out of the list before it is released: releasing may hand the slot to
  // the next queued call, which appends to this very list.
  auto slot = std::move(j->second);
  a.erase(j);
  slot.release();
  return true;
}

uint32_t bulkhead::in_flight() const {
  return state_->in_flight;
}

size_t bulkhead::queued() const {
  return state_->queue.size();
}

const bulkhead_settings& bulkhead::settings() const {
  return state_->settings;
}

std::string bulkhead::why_refused() const {
  const auto& s = state_->settings;
  std::string out =
      "its bulkhead limit is reached: max_in_flight = " + std::to_string(s.max_concurrent_calls) +
      " call(s) already in flight and ";
  if (s.max_queue == 0) return out + "no queue (max_queue = 0)";
  return out + "max_queue = " + std::to_string(s.max_queue) + " waiting";
}

}  // namespace opea::runtime
