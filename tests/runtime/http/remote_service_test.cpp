#include <catch2/catch.hpp>

#include "runtime/http/remote_service.hpp"

using namespace opea::runtime;

TEST_CASE("http::remote_service parses OPEA endpoints", "[http]") {
  auto s = http::remote_service("s1", "http://localhost:8081/v1/add");
  REQUIRE(s.host == "localhost");
  REQUIRE(s.port == 8081);
  REQUIRE(s.endpoint == "/v1/add");
  REQUIRE(s.endpoint_url() == "http://localhost:8081/v1/add");
  REQUIRE(s.adapter);
  REQUIRE(s.adapter->kind == "http");
  REQUIRE_FALSE(s.in_process());
  REQUIRE(http::remote_service("x", "http://h").endpoint_url() == "http://h:80/");
  REQUIRE_THROWS_WITH(http::remote_service("x", "ftp://h/"),
                      "service 'x': URL \"ftp://h/\" is not an http:// URL");
  REQUIRE_THROWS_WITH(http::remote_service("x", "http://h:99999/"),
                      "service 'x': URL \"http://h:99999/\" has an invalid port");
}
