#include "actors/rerank/tei_rerank_api.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/errors.hpp"

using namespace opea::actors;
using json = nlohmann::json;

namespace {

std::string error_of(const json& body) {
  auto r = parse_tei_rerank_request(body);
  REQUIRE_FALSE(r);
  return opea::runtime::describe(r.error());
}

}  // namespace

TEST_CASE("TEI rerank request: accepted shape", "[rerank][tei_api]") {
  auto r = parse_tei_rerank_request(json::parse(
      R"({"query": "q", "texts": ["a", "b"], "raw_scores": false, "return_text": true,
          "truncate": true, "truncation_direction": "Left"})"));
  REQUIRE(r);
  CHECK(r->query == "q");
  CHECK(r->texts == std::vector<std::string>{"a", "b"});
  CHECK(r->return_text);
  auto plain = parse_tei_rerank_request(json{{"query", ""}, {"texts", {"x"}}});
  REQUIRE(plain);
  CHECK_FALSE(plain->return_text);
}

TEST_CASE("TEI rerank request: errors name the field", "[rerank][tei_api]") {
  CHECK_THAT(error_of(json{{"texts", {"a"}}}),
             Catch::Contains("query") && Catch::Contains("is required"));
  CHECK_THAT(error_of(json{{"query", 1}, {"texts", {"a"}}}),
             Catch::Contains("query") && Catch::Contains("must be a string, got number"));
  CHECK_THAT(error_of(json{{"query", "q"}}),
             Catch::Contains("texts") && Catch::Contains("is required"));
  CHECK_THAT(error_of(json{{"query", "q"}, {"texts", json::array()}}),
             Catch::Contains("texts") && Catch::Contains("must not be empty"));
  CHECK_THAT(error_of(json{{"query", "q"}, {"texts", "a"}}),
             Catch::Contains("must be a list of strings, got string"));
  CHECK_THAT(error_of(json{{"query", "q"}, {"texts", {"a", "b", 3}}}),
             Catch::Contains("texts[2]") && Catch::Contains("got number"));
  CHECK_THAT(error_of(json{{"query", "q"}, {"texts", {"a"}}, {"return_text", "yes"}}),
             Catch::Contains("return_text") && Catch::Contains("must be a boolean"));
  CHECK_THAT(error_of(json{{"query", "q"}, {"texts", {"a"}}, {"truncation_direction", "Up"}}),
             Catch::Contains("truncation_direction"));
  CHECK_THAT(error_of(json{{"query", "q"}, {"texts", {"a"}}, {"top_n", 2}}),
             Catch::Contains("top_n") && Catch::Contains("unknown field"));
  json many{{"query", "q"}, {"texts", json::array()}};
  for (size_t i = 0; i <= max_tei_rerank_texts; ++i) many["texts"].push_back("t");
  CHECK_THAT(error_of(many), Catch::Contains("has 1025 entries, at most 1024"));
}

TEST_CASE("TEI rerank response: best first, text on request", "[rerank][tei_api]") {
  tei_rerank_call call{"q", {"zero", "one"}, false};
  std::vector<scored_text> scores{{1, 0.75}, {0, 0.25}};
  CHECK(tei_rerank_response(call, scores) ==
        json::parse(R"([{"index": 1, "score": 0.75}, {"index": 0, "score": 0.25}])"));
  call.return_text = true;
  CHECK(tei_rerank_response(call, scores) ==
        json::parse(R"([{"index": 1, "score": 0.75, "text": "one"},
                        {"index": 0, "score": 0.25, "text": "zero"}])"));
}
