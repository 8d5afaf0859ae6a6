#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/errors.hpp"
#include "runtime/resilience/bulkhead.hpp"

using namespace opea::runtime;
using namespace std::chrono_literals;

namespace {

using time_point = bulkhead::time_point;
using outcome = bulkhead::outcome;

const time_point t0 = time_point{} + 1000s;
const time_point no_deadline = time_point::max();

bulkhead make_bulkhead(uint32_t max_in_flight, uint32_t max_queue,
                       std::chrono::milliseconds max_wait = 0ms) {
  bulkhead_settings s;
  s.max_concurrent_calls = max_in_flight;
  s.max_queue = max_queue;
  s.max_wait = max_wait;
  auto b = bulkhead::make(s);
  REQUIRE(b);
  return std::move(*b);
}

std::vector<uint64_t> ids(const std::vector<std::pair<uint64_t, bulkhead::permit>>& v) {
  std::vector<uint64_t> out;
  for (const auto& p : v) out.push_back(p.first);
  return out;
}

}  // namespace

TEST_CASE("bulkhead::make refuses each invalid setting by its config key", "[resilience]") {
  bulkhead_settings s;  // max_in_flight defaults to 0: no bulkhead
  auto b = bulkhead::make(s);
  REQUIRE_FALSE(b);
  CHECK(code_of(b.error()) == errc::bad_request);
  CHECK(subject_of(b.error()) == "max_in_flight");
  CHECK(detail_of(b.error()) == "is 0; must be at least 1 (calls in flight at once)");
  s.max_concurrent_calls = 1;
  s.max_wait = -1ms;
  b = bulkhead::make(s);
  REQUIRE_FALSE(b);
  CHECK(code_of(b.error()) == errc::bad_request);
  CHECK(subject_of(b.error()) == "max_wait_ms");
  s.max_wait = 0ms;
  REQUIRE(bulkhead::make(s));
  CHECK(bulkhead::make(s)->settings().max_concurrent_calls == 1);
}

TEST_CASE("bulkhead: admits, queues, then rejects", "[resilience]") {
  auto b = make_bulkhead(2, 1);
  auto e1 = b.try_enter(1, t0, no_deadline);
  auto e2 = b.try_enter(2, t0, no_deadline);
  auto e3 = b.try_enter(3, t0, no_deadline);
  auto e4 = b.try_enter(4, t0, no_deadline);
  CHECK(e1.result == outcome::admitted);
  CHECK(e1.slot.valid());
  CHECK(e2.result == outcome::admitted);
  CHECK(e3.result == outcome::queued);
  CHECK_FALSE(e3.slot.valid());
  CHECK(e4.result == outcome::rejected);
  CHECK_FALSE(e4.slot.valid());
  CHECK(b.in_flight() == 2);
  CHECK(b.queued() == 1);
  CHECK(b.why_refused() ==
        "its bulkhead limit is reached: max_in_flight = 2 call(s) already in flight and "
        "max_queue = 1 waiting");
  CHECK(std::string{to_string(outcome::admitted)} == "admitted");
  CHECK(std::string{to_string(outcome::queued)} == "queued");
  CHECK(std::string{to_string(outcome::rejected)} == "rejected");
}

TEST_CASE("bulkhead: no queue refuses at once", "[resilience]") {
  auto b = make_bulkhead(1, 0);
  auto e1 = b.try_enter(1, t0, no_deadline);
  CHECK(e1.result == outcome::admitted);
  CHECK(b.try_enter(2, t0, no_deadline).result == outcome::rejected);
  CHECK(b.queued() == 0);
  CHECK(b.why_refused() ==
        "its bulkhead limit is reached: max_in_flight = 1 call(s) already in flight and no "
        "queue (max_queue = 0)");
  e1.slot.release();
  CHECK(b.in_flight() == 0);
  CHECK(b.try_enter(3, t0, no_deadline).result == outcome::admitted);
}

TEST_CASE("bulkhead: a freed slot passes to the first queued call (FIFO)", "[resilience]") {
  auto b = make_bulkhead(1, 3);
  auto e1 = b.try_enter(1, t0, no_deadline);
  REQUIRE(e1.result == outcome::admitted);
  for (uint64_t id : {2, 3, 4}) REQUIRE(b.try_enter(id, t0, no_deadline).result == outcome::queued);
  CHECK(b.take_admitted().empty());

  e1.slot.release();
  CHECK_FALSE(e1.slot.valid());
  CHECK(b.in_flight() == 1);  // handed over, not given back
  CHECK(b.queued() == 2);
  e1.slot.release();  // released once: a second release hands nothing over
  CHECK(b.queued() == 2);
  auto got = b.take_admitted();
  REQUIRE(ids(got) == std::vector<uint64_t>{2});
  CHECK(got[0].second.valid());
  CHECK(b.take_admitted().empty());

  got.clear();  // destroying the permit frees the slot: call 3 gets it
  CHECK(b.in_flight() == 1);
  CHECK(b.queued() == 1);
  CHECK(b.cancel(4));
  CHECK_FALSE(b.cancel(4));
  CHECK(b.queued() == 0);
  got = b.take_admitted();
  REQUIRE(ids(got) == std::vector<uint64_t>{3});
  got.clear();
  CHECK(b.in_flight() == 0);
  CHECK(b.take_admitted().empty());
}

TEST_CASE("bulkhead: several slots freed before the owner looks keep FIFO order", "[resilience]") {
  auto b = make_bulkhead(2, 4);
  auto e1 = b.try_enter(1, t0, no_deadline);
  auto e2 = b.try_enter(2, t0, no_deadline);
  for (uint64_t id : {3, 4, 5}) REQUIRE(b.try_enter(id, t0, no_deadline).result == outcome::queued);
  e2.slot.release();
  e1.slot.release();
  auto got = b.take_admitted();
  CHECK(ids(got) == std::vector<uint64_t>{3, 4});
  CHECK(b.in_flight() == 2);
  CHECK(b.queued() == 1);
}

TEST_CASE("bulkhead: cancelling a call already handed a slot passes the slot on", "[resilience]") {
  auto b = make_bulkhead(1, 2);
  auto e1 = b.try_enter(1, t0, no_deadline);
  REQUIRE(b.try_enter(2, t0, no_deadline).result == outcome::queued);
  REQUIRE(b.try_enter(3, t0, no_deadline).result == outcome::queued);
  e1.slot.release();  // 2 is handed the slot, not yet taken by the owner
  CHECK(b.cancel(2));
  CHECK(b.in_flight() == 1);
  CHECK(ids(b.take_admitted()) == std::vector<uint64_t>{3});  // taken and dropped: freed
  CHECK(b.in_flight() == 0);
  CHECK_FALSE(b.cancel(99));
}

TEST_CASE("bulkhead: queued calls expire by max_wait and by their deadline", "[resilience]") {
  auto b = make_bulkhead(1, 3, 100ms);
  auto e1 = b.try_enter(1, t0, no_deadline);
  REQUIRE(e1.result == outcome::admitted);
  CHECK_FALSE(b.next_expiry());
  REQUIRE(b.try_enter(2, t0, no_deadline).result == outcome::queued);        // t0 + 100 ms
  REQUIRE(b.try_enter(3, t0 + 50ms, t0 + 120ms).result == outcome::queued);  // its deadline
  REQUIRE(b.try_enter(4, t0 + 60ms, t0 + 70ms).result == outcome::queued);   // its deadline
  CHECK(b.next_expiry() == std::optional<time_point>{t0 + 70ms});
  CHECK(b.take_expired(t0 + 69ms).empty());
  CHECK(b.take_expired(t0 + 70ms) == std::vector<uint64_t>{4});
  CHECK(b.queued() == 2);
  CHECK(b.next_expiry() == std::optional<time_point>{t0 + 100ms});
  CHECK(b.take_expired(t0 + 100ms) == std::vector<uint64_t>{2});
  CHECK(b.next_expiry() == std::optional<time_point>{t0 + 120ms});
  CHECK(b.take_expired(t0 + 1s) == std::vector<uint64_t>{3});
  CHECK_FALSE(b.next_expiry());
  CHECK(b.queued() == 0);
  e1.slot.release();
  CHECK(b.in_flight() == 0);
  CHECK(b.take_admitted().empty());
}

TEST_CASE("bulkhead: max_wait 0 waits until the call's own deadline", "[resilience]") {
  auto b = make_bulkhead(1, 2);
  auto e1 = b.try_enter(1, t0, no_deadline);
  REQUIRE(b.try_enter(2, t0, no_deadline).result == outcome::queued);  // never expires
  CHECK_FALSE(b.next_expiry());
  CHECK(b.take_expired(t0 + 24h).empty());
  REQUIRE(b.try_enter(3, t0, t0 + 5s).result == outcome::queued);
  CHECK(b.next_expiry() == std::optional<time_point>{t0 + 5s});
  CHECK(b.take_expired(t0 + 5s) == std::vector<uint64_t>{3});
  CHECK(b.queued() == 1);
}

TEST_CASE("bulkhead: permits move, and release exactly once", "[resilience]") {
  auto b = make_bulkhead(2, 0);
  auto e1 = b.try_enter(1, t0, no_deadline);
  auto e2 = b.try_enter(2, t0, no_deadline);
  bulkhead::permit a = std::move(e1.slot);
  CHECK_FALSE(e1.slot.valid());  // NOLINT(bugprone-use-after-move): moved-from holds nothing
  CHECK(a.valid());
  CHECK(b.in_flight() == 2);
  bulkhead::permit c;
  CHECK_FALSE(c.valid());
  c = std::move(a);
  CHECK(c.valid());
  CHECK_FALSE(a.valid());  // NOLINT(bugprone-use-after-move)
  CHECK(b.in_flight() == 2);
  a.release();  // nothing held: nothing freed
  CHECK(b.in_flight() == 2);
  c = std::move(e2.slot);  // assigning over a held slot frees that slot
  CHECK(b.in_flight() == 1);
  CHECK(c.valid());
  { bulkhead::permit d = std::move(c); }
  CHECK(b.in_flight() == 0);
  CHECK_FALSE(c.valid());  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("bulkhead: permits stay valid when the bulkhead moves", "[resilience]") {
  auto b = make_bulkhead(1, 1);
  auto e1 = b.try_enter(1, t0, no_deadline);
  REQUIRE(b.try_enter(2, t0, no_deadline).result == outcome::queued);
  bulkhead moved = std::move(b);
  e1.slot.release();
  CHECK(ids(moved.take_admitted()) == std::vector<uint64_t>{2});
  CHECK(moved.in_flight() == 0);
}

TEST_CASE("bulkhead: a permit that outlives its bulkhead releases nothing", "[resilience]") {
  bulkhead::permit kept;
  std::vector<std::pair<uint64_t, bulkhead::permit>> handed;
  {
    auto b = make_bulkhead(2, 2);
    auto e1 = b.try_enter(1, t0, no_deadline);
    auto e2 = b.try_enter(2, t0, no_deadline);
    REQUIRE(b.try_enter(3, t0, no_deadline).result == outcome::queued);
    REQUIRE(b.try_enter(4, t0, no_deadline).result == outcome::queued);
    e1.slot.release();  // 3 is handed a slot the owner never takes
    handed = b.take_admitted();
    REQUIRE(ids(handed) == std::vector<uint64_t>{3});
    e2.slot.release();  // 4 is handed a slot left inside the bulkhead
    kept = std::move(handed[0].second);
    CHECK(kept.valid());
  }  // the bulkhead goes, with the permit of 4 still inside it
  CHECK_FALSE(kept.valid());
  kept.release();  // a no-op, not a crash
  CHECK_FALSE(kept.valid());
  handed.clear();
}
