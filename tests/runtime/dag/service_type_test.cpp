#include <catch2/catch.hpp>

#include "runtime/service/service_type.hpp"

using namespace opea::runtime;

TEST_CASE("OPEA service types keep OPEA's names and values", "[dag]") {
  CHECK(parse_service_type("gateway") == service_type::gateway);
  CHECK(parse_service_type("LLM") == service_type::llm);
  CHECK(static_cast<int>(*parse_service_type("undefined")) == 10);
  CHECK(static_cast<int>(*parse_service_type("web_retriever")) == 14);
  CHECK(static_cast<int>(*parse_service_type("text2query")) == 27);
  CHECK_FALSE(parse_service_type("nope"));
  CHECK(to_string(service_type::lvm) == "lvm");
  CHECK(to_string(service_role::megaservice) == "megaservice");
}
