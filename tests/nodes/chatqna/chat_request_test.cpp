#include <catch2/catch.hpp>

#include "nodes/chatqna/chat_format.hpp"
#include "nodes/chatqna/chat_request.hpp"
#include "runtime/errors.hpp"

using namespace opea::nodes;
using nlohmann::json;
namespace rt = opea::runtime;

namespace {

std::string error_of(const json& body, chat_api api = chat_api::opea_chatqna) {
  auto r = parse_chat_request(body, api);
  REQUIRE_FALSE(r);
  REQUIRE(rt::code_of(r.error()) == rt::errc::bad_request);
  return rt::subject_of(r.error()) + ": " + rt::detail_of(r.error());
}

}  // namespace

TEST_CASE("OPEA's message-to-prompt rules", "[chatqna]") {
  REQUIRE(*prompt_from_messages("What is OPEA?") == "What is OPEA?");
  REQUIRE(*prompt_from_messages(json::array({{{"role", "user"}, {"content", "Hi"}}})) ==
          "user: Hi\n");
  auto conversation = json::array({
      {{"role", "system"}, {"content", "Be brief."}},
      {{"role", "user"}, {"content", "first"}},
      {{"role", "assistant"}, {"content", "answer"}},
      {{"role", "user"},
       {"content", json::array({{{"type", "text"}, {"text", "second"}},
                                {{"type", "image_url"}, {"image_url", {{"url", "x"}}}},
                                {{"type", "text"}, {"text", "part"}}})}},
  });
  // Each role keeps its last message, in order of first appearance (OPEA keys by role).
  REQUIRE(*prompt_from_messages(conversation) ==
          "Be brief.\nuser: second\npart\nassistant: answer\n");
}

TEST_CASE("a chat request searches with its last user message", "[chatqna]") {
  REQUIRE(parse_chat_request({{"messages", "What is OPEA?"}}, chat_api::opea_chatqna)->query ==
          "What is OPEA?");
  auto r = parse_chat_request(
      {{"messages", json::array({{{"role", "system"}, {"content", "Be brief."}},
                                 {{"role", "user"}, {"content", "first"}},
                                 {{"role", "assistant"}, {"content", "answer"}},
                                 {{"role", "user"},
                                  {"content", json::array({{{"type", "text"}, {"text", "second"}},
                                                           {{"type", "text"}, {"text", "part"}}})}},
                                 {{"role", "assistant"}, {"content", "partial"}}})}},
      chat_api::openai);
  REQUIRE(r);
  REQUIRE(r->query == "second\npart");
  // The LLM still gets the conversation by OPEA's rules.
  REQUIRE(r->prompt == "Be brief.\nuser: second\npart\nassistant: partial\n");
  // Without a user message, the prompt is the query.
  auto only = parse_chat_request(
      {{"messages", json::array({{{"role", "assistant"}, {"content", "hello"}}})}},
      chat_api::openai);
  REQUIRE(only);
  REQUIRE(only->query == "assistant: hello\n");
}

TEST_CASE("chat request defaults differ between OPEA's and OpenAI's API", "[chatqna]") {
  json body = {{"messages", json::array({{{"role", "user"}, {"content", "q"}}})}};
  REQUIRE(parse_chat_request(body, chat_api::opea_chatqna)->stream);
  REQUIRE_FALSE(parse_chat_request(body, chat_api::openai)->stream);
  body["stream"] = false;
  body["max_tokens"] = 64;
  body["k"] = 2;
  body["top_n"] = 1;
  body["search_type"] = "mmr";
  body["temperature"] = 0.2;
  auto r = parse_chat_request(body, chat_api::opea_chatqna);
  REQUIRE(r);
  REQUIRE_FALSE(r->stream);
  REQUIRE(r->llm == json{{"max_tokens", 64}, {"temperature", 0.2}});
  REQUIRE(r->retriever == json{{"k", 2}, {"search_type", "mmr"}});
  REQUIRE(r->reranker == json{{"top_n", 1}});
}

TEST_CASE("bad chat requests name the field", "[chatqna]") {
  REQUIRE(error_of(json::object()) == "messages: is required");
  REQUIRE(error_of({{"messages", ""}}) == "messages: must not be empty");
  REQUIRE(error_of({{"messages", json::array()}}) == "messages: must not be empty");
  REQUIRE(error_of({{"messages", 5}}) ==
          "messages: must be a string or a list of messages, got number");
  REQUIRE(error_of({{"messages", "q"}}, chat_api::openai) ==
          "messages: must be a list of messages, got string");
  REQUIRE(error_of({{"messages", json::array({{{"role", "robot"}, {"content", "x"}}})}}) ==
          "messages[0].role: unknown role \"robot\" (expected system, user or assistant)");
  REQUIRE(error_of({{"messages", json::array({{{"content", "x"}}})}}) ==
          "messages[0].role: is required");
  REQUIRE(error_of({{"messages", json::array({{{"role", "user"}, {"content", 3}}})}}) ==
          "messages[0].content: must be a string or a list of content parts, got number");
  REQUIRE(error_of({{"messages", "q"}, {"stream", "yes"}}) ==
          "stream: must be a boolean, got string");
  REQUIRE(error_of({{"messages", "q"}, {"max_tokens", 0}}) ==
          "max_tokens: must be between 1.0 and 1000000.0, got 0");
  REQUIRE(error_of({{"messages", "q"}, {"k", "four"}}) == "k: must be an integer, got string");
  REQUIRE(error_of({{"messages", "q"}, {"search_type", "fuzzy"}}) ==
          "search_type: unknown search type \"fuzzy\" (expected similarity, "
          "similarity_distance_threshold, similarity_score_threshold or mmr)");
}

TEST_CASE("stream formats: OPEA's bytes repr and OpenAI's chunks", "[chatqna]") {
  REQUIRE(python_bytes_repr("Hello ") == "b'Hello '");
  REQUIRE(python_bytes_repr("it's") == "b\"it's\"");
  REQUIRE(python_bytes_repr("a'b\"c\n") == "b'a\\'b\"c\\n'");
  REQUIRE(python_bytes_repr("caf\xc3\xa9") == "b'caf\\xc3\\xa9'");
  REQUIRE(sse_event(python_bytes_repr("x")) == "data: b'x'\n\n");
  completion_meta meta{"chatcmpl-1", 1700000000, "chatqna"};
  std::string role = "assistant";
  std::string piece = "Hi";
  REQUIRE(
      openai_chunk(meta, &role, nullptr, nullptr).dump() ==
      R"({"choices":[{"delta":{"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1700000000,"id":"chatcmpl-1","model":"chatqna","object":"chat.completion.chunk"})");
  REQUIRE(openai_chunk(meta, nullptr, &piece, nullptr)["choices"][0]["delta"] ==
          json{{"content", "Hi"}});
  REQUIRE(openai_chunk(meta, nullptr, nullptr, "stop")["choices"][0]["finish_reason"] == "stop");
  auto full = openai_completion(meta, "two words", "one");
  REQUIRE(full["usage"] ==
          json{{"prompt_tokens", 1}, {"completion_tokens", 2}, {"total_tokens", 3}});
  REQUIRE(full["choices"][0]["message"] == json{{"role", "assistant"}, {"content", "two words"}});
}
