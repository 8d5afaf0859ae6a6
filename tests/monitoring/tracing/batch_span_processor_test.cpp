#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "monitoring/tracing/batch_span_processor.hpp"
#include "monitoring/tracing/memory_transport.hpp"
#include "monitoring/tracing/otlp_json.hpp"

using namespace opea::monitoring;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<span_data> make_span(const std::string& name) {
  auto s = std::make_unique<span_data>();
  s->name = name;
  s->context.trace = trace_id::random();
  s->context.span = span_id::random();
  s->context.flags = span_context::sampled_flag;
  return s;
}

/// Options under which only a full batch, force_flush or shutdown exports.
batch_span_processor_options no_timer(std::size_t queue, std::size_t batch) {
  batch_span_processor_options o;
  o.max_queue_size = queue;
  o.max_export_batch_size = batch;
  o.schedule_delay = std::chrono::hours{1};
  return o;
}

std::vector<std::string> span_names(const std::string& body) {
  std::vector<std::string> names;
  auto j = nlohmann::json::parse(body);
  for (auto& rs : j["resourceSpans"])
    for (auto& s : rs["scopeSpans"][0]["spans"]) names.push_back(s["name"]);
  return names;
}

/// A transport that stops in its first call until `open()`: the test knows
/// the export thread is busy and the queue is empty.
struct gated_transport {
  std::mutex mutex;
  std::condition_variable cv;
  bool entered = false;
  bool opened = false;
  std::vector<std::string> bodies;

  span_transport transport() {
    return [this](const std::string& body, const std::string&) {
      std::unique_lock<std::mutex> lock{mutex};
      entered = true;
      cv.notify_all();
      cv.wait(lock, [this] { return opened; });
      bodies.push_back(body);
      return true;
    };
  }
  void wait_entered() {
    std::unique_lock<std::mutex> lock{mutex};
    cv.wait(lock, [this] { return entered; });
  }
  void open() {
    std::lock_guard<std::mutex> lock{mutex};
    opened = true;
    cv.notify_all();
  }
};

}  // namespace

TEST_CASE(
    "batch processor: force_flush exports every queued span, in batches of at most "
    "max_export_batch_size",
    "[monitoring][tracing]") {
  memory_transport mem;
  batch_span_processor p{mem.transport(), no_timer(100, 2)};
  for (int i = 0; i < 5; ++i) p.on_end(make_span("s" + std::to_string(i)));
  REQUIRE(p.force_flush(30s));
  std::vector<std::string> all;
  for (auto& r : mem.requests()) {
    CHECK(r.content_type == "application/json");
    auto names = span_names(r.body);
    CHECK(names.size() >= 1);
    CHECK(names.size() <= 2);
    all.insert(all.end(), names.begin(), names.end());
  }
  CHECK(all == std::vector<std::string>{"s0", "s1", "s2", "s3", "s4"});
  auto c = p.counters();
  CHECK(c.exported == 5);
  CHECK(c.dropped == 0);
  CHECK(c.export_failures == 0);
  CHECK(p.force_flush(30s));  // nothing queued: at once
}

TEST_CASE("batch processor: a full queue drops ended spans and counts each drop",
          "[monitoring][tracing]") {
  gated_transport gate;
  batch_span_processor p{gate.transport(), no_timer(2, 2)};
  p.on_end(make_span("a"));
  p.on_end(make_span("b"));  // a full batch: the export thread takes both
  gate.wait_entered();       // ... and is stuck in the transport
  p.on_end(make_span("c"));
  p.on_end(make_span("d"));  // the queue (2) is full again
  p.on_end(make_span("e"));
  p.on_end(make_span("f"));
  p.on_end(make_span("g"));
  CHECK(p.counters().dropped == 3);
  CHECK(p.counters().exported == 0);
  gate.open();
  REQUIRE(p.force_flush(30s));
  auto c = p.counters();
  CHECK(c.exported == 4);
  CHECK(c.dropped == 3);
  CHECK(c.export_failures == 0);
  std::lock_guard<std::mutex> lock{gate.mutex};
  REQUIRE(gate.bodies.size() == 2);
  CHECK(span_names(gate.bodies[0]) == std::vector<std::string>{"a", "b"});
  CHECK(span_names(gate.bodies[1]) == std::vector<std::string>{"c", "d"});
}

TEST_CASE("batch processor: shutdown exports what is queued; later spans are dropped",
          "[monitoring][tracing]") {
  memory_transport mem;
  batch_span_processor p{mem.transport(), no_timer(100, 50)};
  p.on_end(make_span("x"));
  p.on_end(make_span("y"));
  p.on_end(make_span("z"));
  CHECK(mem.requests().empty());  // under a batch, no timer: nothing sent yet
  p.shutdown();
  auto requests = mem.requests();
  REQUIRE(requests.size() == 1);
  CHECK(span_names(requests[0].body) == std::vector<std::string>{"x", "y", "z"});
  CHECK(p.counters().exported == 3);
  p.on_end(make_span("late"));
  CHECK(p.counters().dropped == 1);
  p.shutdown();  // idempotent
  CHECK(p.force_flush(1s));
  CHECK(mem.requests().size() == 1);
}

TEST_CASE("batch processor: refused and throwing exports count as failures",
          "[monitoring][tracing]") {
  memory_transport mem;
  mem.fail(true);
  batch_span_processor p{mem.transport(), no_timer(100, 10)};
  p.on_end(make_span("a"));
  p.on_end(make_span("b"));
  REQUIRE(p.force_flush(30s));
  CHECK(p.counters().export_failures == 1);
  CHECK(p.counters().exported == 0);
  CHECK(p.counters().dropped == 0);

  batch_span_processor q{[](const std::string&, const std::string&) -> bool {
                           throw std::runtime_error{"connection refused"};
                         },
                         no_timer(100, 10)};
  q.on_end(make_span("a"));
  REQUIRE(q.force_flush(30s));
  CHECK(q.counters().export_failures == 1);
  CHECK(q.counters().exported == 0);
}

TEST_CASE("batch processor: the schedule delay exports a partial batch", "[monitoring][tracing]") {
  gated_transport gate;
  batch_span_processor_options o;  // batches of 512: one span never fills one
  o.schedule_delay = 1ms;
  batch_span_processor p{gate.transport(), o};
  p.on_end(make_span("timed"));
  gate.wait_entered();  // no flush, no full batch: only the timer can send it
  gate.open();
  p.shutdown();
  std::lock_guard<std::mutex> lock{gate.mutex};
  REQUIRE(gate.bodies.size() == 1);
  CHECK(span_names(gate.bodies[0]) == std::vector<std::string>{"timed"});
}
