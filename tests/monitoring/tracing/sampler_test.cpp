#include <catch2/catch.hpp>

#include <cstdint>

#include "monitoring/tracing/sampler.hpp"

using namespace opea::monitoring;

namespace {

/// A trace id whose 7 rightmost bytes (the sampler's randomness) are `r`.
trace_id with_randomness(std::uint64_t r) {
  trace_id t;
  t.bytes[0] = 0xab;  // the leftmost bytes do not matter
  for (int i = 15; i >= 9; --i) {
    t.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(r);
    r >>= 8;
  }
  return t;
}

span_context parent(bool sampled) {
  span_context p;
  p.trace = trace_id::random();
  p.span = span_id::random();
  p.flags = sampled ? span_context::sampled_flag : 0;
  return p;
}

constexpr std::uint64_t half = std::uint64_t{1} << 55;
constexpr std::uint64_t max_r = (std::uint64_t{1} << 56) - 1;

}  // namespace

TEST_CASE("sampler: traceidratio 0 samples nothing, 1 samples everything",
          "[monitoring][tracing]") {
  sampler never{sampler::kind::traceidratio, 0.0};
  sampler always{sampler::kind::traceidratio, 1.0};
  for (auto r : {std::uint64_t{0}, std::uint64_t{1}, half, max_r}) {
    CHECK_FALSE(never.should_sample({}, with_randomness(r)));
    CHECK(always.should_sample({}, with_randomness(r)));
  }
  for (int i = 0; i < 1000; ++i) {
    auto t = trace_id::random();
    REQUIRE_FALSE(never.should_sample({}, t));
    REQUIRE(always.should_sample({}, t));
  }
}

TEST_CASE("sampler: traceidratio compares the trace id's 56 low bits with 2^56 * (1 - ratio)",
          "[monitoring][tracing]") {
  sampler s{sampler::kind::traceidratio, 0.5};
  CHECK(s.should_sample({}, with_randomness(half)));
  CHECK(s.should_sample({}, with_randomness(max_r)));
  CHECK_FALSE(s.should_sample({}, with_randomness(half - 1)));
  CHECK_FALSE(s.should_sample({}, with_randomness(0)));
  // Monotone in the ratio: what 0.25 samples, 0.5 samples too.
  sampler quarter{sampler::kind::traceidratio, 0.25};
  for (int i = 0; i < 4000; ++i) {
    auto t = trace_id::random();
    if (quarter.should_sample({}, t)) REQUIRE(s.should_sample({}, t));
  }
  // Over 4000 evenly spread randomness values, a quarter are sampled.
  const std::uint64_t step = (max_r + 1) / 4000;
  int sampled = 0;
  for (std::uint64_t i = 0; i < 4000; ++i)
    if (quarter.should_sample({}, with_randomness(i * step))) ++sampled;
  CHECK(sampled >= 999);
  CHECK(sampled <= 1000);
  // traceidratio ignores the parent's flag.
  CHECK(s.should_sample(parent(false), with_randomness(max_r)));
  CHECK_FALSE(s.should_sample(parent(true), with_randomness(0)));
}

TEST_CASE("sampler: parent-based samplers follow a valid parent, else their root",
          "[monitoring][tracing]") {
  auto t = with_randomness(0);  // not sampled by any ratio < 1
  for (auto k : {sampler::kind::parentbased_always_on, sampler::kind::parentbased_always_off,
                 sampler::kind::parentbased_traceidratio}) {
    sampler s{k, 0.0};
    INFO(sampler::name(k));
    CHECK(s.should_sample(parent(true), t));
    CHECK_FALSE(s.should_sample(parent(false), t));
  }
  CHECK(sampler{sampler::kind::parentbased_always_on}.should_sample({}, t));
  CHECK_FALSE(sampler{sampler::kind::parentbased_always_off}.should_sample({}, t));
  CHECK_FALSE(sampler(sampler::kind::parentbased_traceidratio, 0.5).should_sample({}, t));
  CHECK(sampler(sampler::kind::parentbased_traceidratio, 0.5)
            .should_sample({}, with_randomness(max_r)));
  // always_on / always_off ignore the parent.
  CHECK(sampler{sampler::kind::always_on}.should_sample(parent(false), t));
  CHECK_FALSE(sampler{sampler::kind::always_off}.should_sample(parent(true), t));
  // Default: parentbased_always_on.
  CHECK(sampler{}.type() == sampler::kind::parentbased_always_on);
}

TEST_CASE("sampler: names and descriptions", "[monitoring][tracing]") {
  CHECK(sampler::kind_from_name("parentbased_traceidratio") ==
        sampler::kind::parentbased_traceidratio);
  CHECK_FALSE(sampler::kind_from_name("jaeger_remote"));
  CHECK(sampler{}.description() == "ParentBased{root=AlwaysOnSampler}");
  CHECK(sampler(sampler::kind::traceidratio, 0.25).description() == "TraceIdRatioBased{0.25}");
  CHECK(sampler(sampler::kind::parentbased_traceidratio, 0.25).description() ==
        "ParentBased{root=TraceIdRatioBased{0.25}}");
  CHECK(sampler{sampler::kind::always_off}.description() == "AlwaysOffSampler");
  CHECK(sampler(sampler::kind::traceidratio, 7).ratio() == 1.0);  // clamped
}
