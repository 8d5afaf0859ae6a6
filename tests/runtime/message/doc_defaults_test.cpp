#include "runtime/message/doc_defaults.hpp"

#include <catch2/catch.hpp>

#include "runtime/message/proto_json.hpp"

using nlohmann::json;
using namespace opea;

TEST_CASE("EmbedDoc and SearchedDoc get OPEA's retriever defaults", "[message]") {
  auto doc = runtime::from_json<v1::EmbedDoc>(json::parse(R"({"text": "q", "k": 8,
                                                                "lambda_mult": 0})"));
  REQUIRE(doc);
  runtime::apply_opea_defaults(*doc);
  CHECK(doc->search_type() == "similarity");
  CHECK(doc->k() == 8);              // present: kept
  CHECK(doc->lambda_mult() == 0.0);  // present zero: kept
  CHECK(doc->has_lambda_mult());
  CHECK(doc->fetch_k() == 20);
  CHECK(doc->score_threshold() == 0.2);
  CHECK_FALSE(doc->has_distance_threshold());  // OPEA default None: stays absent
  CHECK_FALSE(doc->has_index_name());

  v1::SearchedDoc searched;
  runtime::apply_opea_defaults(searched);
  CHECK(searched.top_n() == 1);
}

TEST_CASE("LLMParamsDoc gets OPEA's defaults and honours legacy 'streaming'", "[message]") {
  v1::LLMParamsDoc doc;
  doc.set_query("q");
  runtime::apply_opea_defaults(doc);
  CHECK(runtime::to_json(doc).value() == json::parse(R"({
    "query": "q", "max_tokens": 1024, "max_new_tokens": 1024, "top_k": 10, "top_p": 0.95,
    "typical_p": 0.95, "temperature": 0.01, "frequency_penalty": 0, "presence_penalty": 0,
    "repetition_penalty": 1.03, "stream": true, "language": "auto"})"));

  auto legacy = runtime::from_json<v1::LLMParamsDoc>(json::parse(R"({"query": "q",
                                                                     "streaming": false})"));
  REQUIRE(legacy);
  runtime::apply_opea_defaults(*legacy);
  CHECK_FALSE(legacy->stream());

  auto both = runtime::from_json<v1::LLMParamsDoc>(json::parse(R"({"query": "q",
                                                                   "stream": true,
                                                                   "streaming": false})"));
  REQUIRE(both);
  runtime::apply_opea_defaults(*both);
  CHECK(both->stream());
}

TEST_CASE("ChatCompletionRequest gets OPEA's defaults, idempotently", "[message]") {
  auto request = runtime::from_json<v1::ChatCompletionRequest>(
      json::parse(R"({"messages": "hi", "stream": true, "k": 2})"));
  REQUIRE(request);
  runtime::apply_opea_defaults(*request);
  CHECK(request->stream());
  CHECK(request->k() == 2);
  CHECK(request->max_tokens() == 1024);
  CHECK(request->temperature() == 0.01);
  CHECK(request->tool_choice().string_value() == "none");
  CHECK(request->top_n() == 1);
  CHECK(request->fetch_k() == 20);
  REQUIRE(request->modalities_size() == 1);
  CHECK(request->modalities(0) == "text");
  CHECK_FALSE(request->has_top_p());  // OPEA default None
  auto once = runtime::to_json(*request).value();
  runtime::apply_opea_defaults(*request);
  CHECK(runtime::to_json(*request).value() == once);
}
