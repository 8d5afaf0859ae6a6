#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

namespace opea::runtime {

/// Settings of a `bulkhead`. Each field names its config key;
/// `bulkhead::make` refuses invalid values with errc::bad_request whose
/// subject is that key.
struct bulkhead_settings {
  /// Key `max_in_flight`: calls to the service in flight at once; >= 1.
  /// Default: 0, which `make` refuses (no bulkhead means no object).
  uint32_t max_concurrent_calls = 0;

  /// Key `max_queue`: calls waiting, in arrival order, for a slot; 0 =
  /// refuse at once when every slot is taken. Default: 0.
  uint32_t max_queue = 0;

  /// Key `max_wait_ms`: how long a queued call may wait for a slot; 0 = until
  /// its own deadline; >= 0. Default: 0.
  std::chrono::milliseconds max_wait{0};
};

/// A bulkhead for one service: at most `max_concurrent_calls` calls in
/// flight at once, at most `max_queue` more waiting in FIFO order, and any
/// call beyond both refused at once instead of piling up behind a slow
/// service.
///
/// Not thread-safe: owned by one actor (the service's proxy), which passes
/// `now` and reacts to the decisions: it sends an admitted call, parks a
/// queued one, fails a rejected one; after a permit is released it sends the
/// calls `take_admitted` returns; at `next_expiry` it fails the calls
/// `take_expired` returns. No callbacks are stored: the owner asks.
///
/// Slots are held by RAII `permit`s. The state lives behind a shared_ptr;
/// permits hold it weakly, so the bulkhead may be moved while permits are
/// out, and a permit that outlives its bulkhead releases nothing (its
/// release is a no-op) instead of touching freed memory. Permits are not
/// thread-safe either: destroy them on the owner's thread.
class bulkhead {
 private:
  struct state;

 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// Holds one slot of a bulkhead; destroying it (or `release`) frees the
  /// slot: it passes to the first queued call (which `take_admitted` then
  /// returns) or is given back. Move-only; a moved-from permit holds nothing.
  class permit {
   public:
    /// A permit that holds nothing.
    permit() = default;
    permit(permit&& other) noexcept;
    permit& operator=(permit&& other) noexcept;
    permit(const permit&) = delete;
    permit& operator=(const permit&) = delete;
    ~permit();

    /// True while it holds a slot of a bulkhead that still exists.
    bool valid() const { return !state_.expired(); }

    /// Frees the slot now; later calls (and the destructor) do nothing.
    void release();

   private:
    friend class bulkhead;
    friend struct bulkhead::state;
    explicit permit(std::weak_ptr<state> s) : state_(std::move(s)) {}

    std::weak_ptr<state> state_;
  };

  enum class outcome { admitted, queued, rejected };

  /// The answer of `try_enter`.
  struct entry {
    outcome result = outcome::rejected;
    /// Holds the slot when `result` is admitted; empty otherwise.
    permit slot;
  };

  /// The bulkhead for `settings`, or errc::bad_request naming the offending
  /// config key (e.g. subject "max_in_flight") with what is allowed.
  [[nodiscard]] static caf::expected<bulkhead> make(const bulkhead_settings& settings);

  bulkhead(bulkhead&&) noexcept = default;
  bulkhead& operator=(bulkhead&&) noexcept = default;
  ~bulkhead();

  /// The call `waiter` (the owner's call id, unique among queued calls) asks
  /// for a slot at `now`. Admitted with a permit when a slot is free; queued
  /// when every slot is taken and the queue has room (it then waits until
  /// `now + max_wait` or `call_deadline`, whichever is earlier;
  /// time_point::max() = no deadline); rejected otherwise.
  entry try_enter(uint64_t waiter, time_point now, time_point call_deadline);

  /// Queued calls that have been handed a slot since the last call, in FIFO
  /// order, each with its permit.
  std::vector<std::pair<uint64_t, permit>> take_admitted();

  /// Queued calls whose wait has expired at `now` (max_wait passed, or their
  /// deadline), in FIFO order: removed from the queue; the owner fails them
  /// (reason queue_timeout).
  std::vector<uint64_t> take_expired(time_point now);

  /// The earliest instant a queued call expires (for the owner's single
  /// timer); nullopt when nothing queued can expire.
  std::optional<time_point> next_expiry() const;

  /// The call `waiter` is no longer wanted (its flow ended): removed from the
  /// queue, or, when it was already handed a slot that `take_admitted` has
  /// not returned yet, that slot is freed. True if it was found.
  bool cancel(uint64_t waiter);

  /// Slots taken, including those handed to queued calls not yet taken.
  uint32_t in_flight() const;

  /// Calls waiting for a slot.
  size_t queued() const;

  const bulkhead_settings& settings() const;

  /// One line for a rejection, e.g. "its bulkhead limit is reached:
  /// max_in_flight = 2 call(s) already in flight and max_queue = 4 waiting".
  std::string why_refused() const;

 private:
  explicit bulkhead(std::shared_ptr<state> s) : state_(std::move(s)) {}

  std::shared_ptr<state> state_;
};

/// "admitted", "queued" or "rejected".
const char* to_string(bulkhead::outcome x);

}  // namespace opea::runtime
