#include "runtime/message/proto_json.hpp"

#include <string>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/wire_format_lite.h>
#include <catch2/catch.hpp>

#include "opea/v1/chat.pb.h"
#include "opea/v1/docs.pb.h"
#include "runtime/errors.hpp"

using nlohmann::json;
using namespace opea;
using opea::runtime::errc;

namespace {

/// JSON -> T -> JSON; the test fails if either step fails.
template <class T>
json round_trip(const json& in) {
  auto msg = runtime::from_json<T>(in);
  REQUIRE(msg);
  auto out = runtime::to_json(*msg);
  REQUIRE(out);
  return *out;
}

std::string detail_of(const caf::error& err) {
  return err.context().get_as<std::string>(1);
}

}  // namespace

TEST_CASE("TextDoc round-trips OPEA JSON exactly", "[message]") {
  auto in = json::parse(R"({
    "id": "5d8e6b0c3f6a4f0e9d1b2a3c4d5e6f70",
    "text": "What is the revenue of Nike in 2023?",
    "downstream_black_list": ["llm.*", "reranking"]
  })");
  CHECK(round_trip<v1::TextDoc>(in) == in);
  auto with_metadata = json::parse(R"({
    "text": "Nike's revenue in 2023 was $51.2 billion.",
    "metadata": {"source": "nke-10k-2023.pdf", "page": 35, "score": 0.87}
  })");
  CHECK(round_trip<v1::TextDoc>(with_metadata) == with_metadata);
}

TEST_CASE("EmbedDoc round-trips OPEA JSON exactly", "[message]") {
  auto in = json::parse(R"({
    "text": "What is the revenue of Nike in 2023?",
    "embedding": [0.1, -0.25, 0.0125, 0.0, 3.5e-05, -0.70710677, 0.018331455, 1e-38],
    "search_type": "similarity_score_threshold",
    "k": 4,
    "distance_threshold": 0.8,
    "fetch_k": 20,
    "lambda_mult": 0.5,
    "score_threshold": 0.2,
    "constraints": {"source": {"$eq": "nke-10k-2023.pdf"}},
    "index_name": "rag-redis"
  })");
  CHECK(round_trip<v1::EmbedDoc>(in) == in);
  // A list of constraint objects is the other shape OPEA accepts.
  auto list_constraints = json::parse(R"({"text": "q", "constraints": [{"a": 1}, {"b": "x"}]})");
  CHECK(round_trip<v1::EmbedDoc>(list_constraints) == list_constraints);
}

TEST_CASE("SearchedDoc and RerankedDoc round-trip OPEA JSON exactly", "[message]") {
  auto searched = json::parse(R"({
    "retrieved_docs": [
      {"id": "a1", "text": "Nike's revenue in 2023 was $51.2 billion."},
      {"id": "a2", "text": "Revenues for fiscal 2022 were $46.7 billion.",
       "metadata": {"source": "nke-10k-2023.pdf", "page": 36}}
    ],
    "initial_query": "What is the revenue of Nike in 2023?",
    "top_n": 1
  })");
  CHECK(round_trip<v1::SearchedDoc>(searched) == searched);
  auto reranked = json::parse(R"({
    "reranked_docs": [{"text": "Nike's revenue in 2023 was $51.2 billion."}],
    "initial_query": "What is the revenue of Nike in 2023?"
  })");
  CHECK(round_trip<v1::RerankedDoc>(reranked) == reranked);
}

TEST_CASE("LLMParamsDoc and GeneratedDoc round-trip OPEA JSON exactly", "[message]") {
  auto params = json::parse(R"({
    "model": "Intel/neural-chat-7b-v3-3",
    "query": "What is the revenue of Nike in 2023?",
    "max_tokens": 1024,
    "max_new_tokens": 1024,
    "top_k": 10,
    "top_p": 0.95,
    "typical_p": 0.95,
    "temperature": 0.01,
    "frequency_penalty": 0.0,
    "presence_penalty": 0.0,
    "repetition_penalty": 1.03,
    "stream": true,
    "language": "auto",
    "chat_template": "### Context: {context}\n### Question: {question}\n### Answer:",
    "documents": ["Nike's revenue in 2023 was $51.2 billion.",
                  {"title": "10-K", "text": "Revenues for fiscal 2022 were $46.7 billion."}],
    "input_guardrail_params": {"ban_substrings": {"enabled": true, "substrings": ["malware"]}}
  })");
  CHECK(round_trip<v1::LLMParamsDoc>(params) == params);
  // GenAIComps before 1.0 called the flag "streaming"; it round-trips too.
  auto legacy = json::parse(R"({"query": "hi", "streaming": false})");
  CHECK(round_trip<v1::LLMParamsDoc>(legacy) == legacy);
  auto generated = json::parse(R"({
    "text": "Nike's revenue in 2023 was $51.2 billion.",
    "prompt": "What is the revenue of Nike in 2023?"
  })");
  CHECK(round_trip<v1::GeneratedDoc>(generated) == generated);
}

TEST_CASE("ChatCompletionRequest keeps messages as a string or as a list", "[message]") {
  SECTION("string (OPEA prompt form)") {
    auto in = json::parse(R"({"messages": "What is OPEA?", "max_tokens": 17, "stream": false})");
    auto msg = runtime::from_json<v1::ChatCompletionRequest>(in);
    REQUIRE(msg);
    CHECK(msg->messages().string_value() == "What is OPEA?");
    CHECK(runtime::to_json(*msg).value() == in);
  }
  SECTION("list of OpenAI messages, with multimodal content parts") {
    auto in = json::parse(R"({
      "model": "Intel/neural-chat-7b-v3-3",
      "messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": [
          {"type": "text", "text": "What is in this image?"},
          {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
        ]}
      ],
      "stream": true
    })");
    auto msg = runtime::from_json<v1::ChatCompletionRequest>(in);
    REQUIRE(msg);
    REQUIRE(msg->messages().list_value().values_size() == 2);
    CHECK(
        msg->messages().list_value().values(0).struct_value().fields().at("role").string_value() ==
        "system");
    CHECK(runtime::to_json(*msg).value() == in);
  }
}

TEST_CASE("ChatCompletionRequest round-trips OpenAI and OPEA fields exactly", "[message]") {
  auto in = json::parse(R"({
    "messages": [{"role": "user", "content": "What is the revenue of Nike in 2023?"}],
    "model": "meta-llama/Meta-Llama-3-8B-Instruct",
    "modalities": ["text"],
    "frequency_penalty": 0.5,
    "logit_bias": {"50256": -100, "198": 2.5},
    "logprobs": true,
    "top_logprobs": 3,
    "max_tokens": 256,
    "n": 1,
    "presence_penalty": 0.25,
    "response_format": {"type": "json_object"},
    "seed": 1234567890123,
    "stop": ["</s>", "\n\n"],
    "stream": true,
    "stream_options": {"include_usage": true},
    "temperature": 0.7,
    "top_p": 0.9,
    "tools": [{"type": "function", "function": {
      "name": "get_weather", "description": "Current weather",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                     "required": ["city"]}}}],
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    "parallel_tool_calls": false,
    "user": "user-42",
    "repetition_penalty": 1.03,
    "top_k": 10,
    "chat_template": "{context} {question}",
    "documents": [{"title": "10-K", "text": "Revenue was $51.2B."}],
    "input": "What is the revenue of Nike in 2023?",
    "embedding": [0.5, -0.25],
    "search_type": "mmr",
    "k": 8,
    "fetch_k": 40,
    "lambda_mult": 0.25,
    "score_threshold": 0.3,
    "retrieved_docs": [{"text": "Revenue was $51.2B.", "metadata": {"page": 35}}],
    "index_name": "rag-redis",
    "top_n": 2,
    "reranked_docs": [{"text": "Revenue was $51.2B.", "score": 0.93}],
    "request_type": "chat"
  })");
  auto out = round_trip<v1::ChatCompletionRequest>(in);
  CHECK(out == in);
  // int64 is printed as a JSON number (OpenAI), not as protobuf's string form.
  CHECK(out.at("seed").is_number_integer());
  // stop as a single string is the other shape OpenAI accepts.
  auto single_stop = json::parse(R"({"messages": "hi", "stop": "</s>", "tool_choice": "none"})");
  CHECK(round_trip<v1::ChatCompletionRequest>(single_stop) == single_stop);
}

TEST_CASE("ChatCompletionResponse and ChatCompletionChunk round-trip OpenAI JSON exactly",
          "[message]") {
  auto response = json::parse(R"({
    "id": "chatcmpl-3kUj9eYzR7cM2pVxW8bQ4n",
    "object": "chat.completion",
    "created": 1718000000,
    "model": "Intel/neural-chat-7b-v3-3",
    "choices": [{"index": 0,
                 "message": {"role": "assistant", "content": "Nike's revenue was $51.2B."},
                 "finish_reason": "stop",
                 "logprobs": null}],
    "usage": {"prompt_tokens": 42, "total_tokens": 51, "completion_tokens": 9}
  })");
  auto out = round_trip<v1::ChatCompletionResponse>(response);
  CHECK(out == response);
  CHECK(out.at("created").is_number_integer());
  auto chunk = json::parse(R"({
    "id": "chatcmpl-3kUj9eYzR7cM2pVxW8bQ4n",
    "object": "chat.completion.chunk",
    "created": 1718000000,
    "model": "Intel/neural-chat-7b-v3-3",
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Nike"}}]
  })");
  CHECK(round_trip<v1::ChatCompletionChunk>(chunk) == chunk);
  auto last = json::parse(R"({
    "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1718000001,
    "model": "m", "choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]
  })");
  CHECK(round_trip<v1::ChatCompletionChunk>(last) == last);
}

TEST_CASE("embeddings keep float32 precision, printed in shortest form", "[message]") {
  // numpy's float32.tolist() widens 0.70710677f to 0.7071067690849304; that is
  // the same float32, printed back the way TEI prints it.
  auto numpy = json::parse(R"({"embedding": [0.7071067690849304, 0.1]})");
  CHECK(round_trip<v1::EmbedDoc>(numpy) == json::parse(R"({"embedding": [0.70710677, 0.1]})"));
}

TEST_CASE("to_json prints present zeros and never invents defaults", "[message]") {
  auto in = json::parse(R"({"text": "q", "k": 0, "lambda_mult": 0, "search_type": ""})");
  CHECK(round_trip<v1::EmbedDoc>(in) == in);
  v1::EmbedDoc empty;
  CHECK(runtime::to_json(empty).value() == json::object());
}

TEST_CASE("documented normalisations: null on a typed field and [] mean absent", "[message]") {
  auto in = json::parse(R"({"query": "q", "model": null, "downstream_black_list": []})");
  CHECK(round_trip<v1::LLMParamsDoc>(in) == json::parse(R"({"query": "q"})"));
  // A google.protobuf.Value field keeps an explicit null.
  auto stop_null = json::parse(R"({"messages": "q", "stop": null})");
  CHECK(round_trip<v1::ChatCompletionRequest>(stop_null) == stop_null);
}

TEST_CASE("a wrong JSON type is a bad_request naming the message and the field", "[message]") {
  auto doc = runtime::from_json<v1::EmbedDoc>(json::parse(R"({"text": "q", "k": "four"})"));
  REQUIRE_FALSE(doc);
  CHECK(runtime::code_of(doc.error()) == errc::bad_request);
  CHECK(runtime::subject_of(doc.error()) == "opea.v1.EmbedDoc");
  CHECK(detail_of(doc.error()) == R"((k): invalid value "four" for type TYPE_INT32)");
  CHECK(runtime::http_status_of(doc.error()) == 400);

  auto nested =
      runtime::from_json<v1::SearchedDoc>(json::parse(R"({"retrieved_docs": [{"text": 42}]})"));
  REQUIRE_FALSE(nested);
  CHECK(runtime::subject_of(nested.error()) == "opea.v1.SearchedDoc");
  CHECK_THAT(detail_of(nested.error()), Catch::StartsWith("(retrieved_docs[0].text)"));
}

TEST_CASE("unknown JSON fields are rejected by name unless explicitly ignored", "[message]") {
  auto in = json::parse(R"({"query": "q", "top_kk": 5})");
  auto strict = runtime::from_json<v1::LLMParamsDoc>(in);
  REQUIRE_FALSE(strict);
  CHECK(runtime::code_of(strict.error()) == errc::bad_request);
  CHECK(detail_of(strict.error()) == "top_kk: Cannot find field.");

  runtime::json_parse_options lenient;
  lenient.ignore_unknown_fields = true;
  auto accepted = runtime::from_json<v1::LLMParamsDoc>(in, lenient);
  REQUIRE(accepted);
  CHECK(accepted->query() == "q");
}

TEST_CASE("from_json_text parses an HTTP body and rejects malformed JSON", "[message]") {
  auto ok = runtime::from_json_text<v1::TextDoc>(R"({"text": "hello"})");
  REQUIRE(ok);
  CHECK(ok->text() == "hello");
  CHECK(runtime::to_json_text(*ok).value() == R"({"text":"hello"})");
  auto bad = runtime::from_json_text<v1::TextDoc>(R"({"text": )");
  REQUIRE_FALSE(bad);
  CHECK(runtime::code_of(bad.error()) == errc::bad_request);
  CHECK(runtime::subject_of(bad.error()) == "opea.v1.TextDoc");
}

TEST_CASE("fields of a newer schema survive a binary hop through an older node", "[message]") {
  namespace pb = google::protobuf;
  // What a v2 node would send: TextDoc fields 2 and 3, plus field 100 (a
  // string) and field 101 (a varint) that this build's TextDoc lacks.
  std::string newer;
  {
    pb::io::StringOutputStream raw{&newer};
    pb::io::CodedOutputStream out{&raw};
    out.WriteTag(pb::internal::WireFormatLite::MakeTag(
        2, pb::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
    out.WriteVarint32(5);
    out.WriteString("hello");
    out.WriteTag(pb::internal::WireFormatLite::MakeTag(
        3, pb::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
    out.WriteVarint32(3);
    out.WriteString("llm");
    out.WriteTag(pb::internal::WireFormatLite::MakeTag(
        100, pb::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
    out.WriteVarint32(7);
    out.WriteString("from-v2");
    out.WriteTag(
        pb::internal::WireFormatLite::MakeTag(101, pb::internal::WireFormatLite::WIRETYPE_VARINT));
    out.WriteVarint64(7);
  }
  auto older = runtime::from_wire<v1::TextDoc>(newer);
  REQUIRE(older);
  CHECK(older->text() == "hello");
  CHECK(older->downstream_black_list_size() == 1);
  const auto& unknown = older->GetReflection()->GetUnknownFields(*older);
  REQUIRE(unknown.field_count() == 2);
  // The older node edits a known field and forwards the document.
  older->set_text("hello!");
  auto forwarded = runtime::to_wire(*older);
  REQUIRE(forwarded);
  CHECK(forwarded->find("from-v2") != std::string::npos);
  pb::UnknownFieldSet fields;
  REQUIRE(fields.ParseFromString(*forwarded));
  bool saw_100 = false;
  bool saw_101 = false;
  for (int i = 0; i < fields.field_count(); ++i) {
    const auto& field = fields.field(i);
    if (field.number() == 100) {
      saw_100 = true;
      CHECK(field.length_delimited() == "from-v2");
    } else if (field.number() == 101) {
      saw_101 = true;
      CHECK(field.varint() == 7);
    } else if (field.number() == 2) {
      CHECK(field.length_delimited() == "hello!");
    }
  }
  CHECK(saw_100);
  CHECK(saw_101);
  // Unchanged, the bytes are forwarded bit for bit.
  auto untouched = runtime::from_wire<v1::TextDoc>(newer);
  REQUIRE(untouched);
  CHECK(runtime::to_wire(*untouched).value() == newer);
  // JSON has no place for them (documented): they are not printed.
  CHECK(runtime::to_json(*older).value() ==
        json::parse(R"({"text": "hello!", "downstream_black_list": ["llm"]})"));
}

TEST_CASE("malformed binary is a bad_request naming the message type", "[message]") {
  // Tag for field 2 (length-delimited) announcing 50 bytes that never come.
  const std::string truncated{"\x12\x32hello", 7};
  auto doc = runtime::from_wire<v1::TextDoc>(truncated);
  REQUIRE_FALSE(doc);
  CHECK(runtime::code_of(doc.error()) == errc::bad_request);
  CHECK(runtime::subject_of(doc.error()) == "opea.v1.TextDoc");
}
