#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>

#include "monitoring/metrics_registry.hpp"

using namespace opea::monitoring;

TEST_CASE("the registry exports the build's version and the node's start time", "[monitoring]") {
  auto unix_now = [] {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  auto before = unix_now();
  metrics_registry reg{"t"};
  auto after = unix_now();
  const std::string version = metrics_registry::version();  // CMake's project version
  REQUIRE(std::count(version.begin(), version.end(), '.') == 2);
  auto text = reg.serialize();
  REQUIRE_THAT(text,
               Catch::Contains("opea_build_info{node=\"t\",version=\"" + version + "\"} 1\n"));
  auto& started = reg.start_time.Add({});
  CHECK(started.Value() >= before - 1e-3);
  CHECK(started.Value() <= after + 1e-3);
  REQUIRE_THAT(text, Catch::Contains("# TYPE process_start_time_seconds gauge"));
}
