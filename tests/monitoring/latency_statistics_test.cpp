#include <catch2/catch.hpp>

#include "monitoring/metrics_registry.hpp"

using namespace opea::monitoring;

TEST_CASE("latency statistics: numpy's percentiles and average, null when empty",
          "[monitoring][statistics]") {
  latency_statistics stats;
  CHECK_FALSE(stats.latency().p50);
  CHECK_FALSE(stats.latency().p99);
  CHECK_FALSE(stats.latency().average);
  for (int i = 10; i >= 1; --i) stats.record(i);  // order does not matter
  auto s = stats.latency();
  // numpy.percentile([1..10], 50) = 5.5, (.., 99) = 9.91; average 5.5.
  CHECK(*s.p50 == Approx(5.5));
  CHECK(*s.p99 == Approx(9.91));
  CHECK(*s.average == Approx(5.5));
  CHECK_FALSE(stats.first_token().p50);  // a series of its own
  stats.record_first_token(0.25);
  CHECK(*stats.first_token().p50 == Approx(0.25));
  CHECK(*stats.first_token().p99 == Approx(0.25));
}

TEST_CASE("latency statistics keep the last window of observations", "[monitoring][statistics]") {
  latency_statistics stats;
  const int n = static_cast<int>(latency_statistics::window) + 10;
  for (int i = 0; i < n; ++i) stats.record(i);
  // The window holds 10 .. n - 1.
  auto s = stats.latency();
  CHECK(*s.average == Approx((10.0 + (n - 1)) / 2));
  CHECK(*s.p50 == Approx((10.0 + (n - 1)) / 2));
  CHECK(*s.p99 == Approx(10.0 + 0.99 * (n - 11)));
}

TEST_CASE("the registry names statistics per megaservice and per service",
          "[monitoring][statistics]") {
  metrics_registry reg{"t"};
  megaservice_instruments mega{reg, "chat"};
  service_instruments llm{reg, "chat", "llm"};
  REQUIRE(mega.stats.get() == &reg.statistics("chat"));
  REQUIRE(llm.stats.get() == &reg.statistics("chat/llm"));
  auto all = reg.all_statistics();
  REQUIRE(all.size() == 2);
  CHECK(all[0].first == "chat");
  CHECK(all[1].first == "chat/llm");
}
