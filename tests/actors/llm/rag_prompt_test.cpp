#include <catch2/catch.hpp>

#include "actors/llm/rag_prompt.hpp"

using namespace opea::actors;

TEST_CASE("the default RAG prompt is OPEA's template", "[llm][prompt]") {
  REQUIRE(default_rag_prompt("What is OPEA?", {"doc one", "doc two"}) ==
          "\n### You are a helpful, respectful and honest assistant to help the user with "
          "questions. Please refer to the search results obtained from the local knowledge base. "
          "But be careful to not incorporate the information that you think is not relevant to "
          "the question. If you don't know the answer to a question, please don't share false "
          "information. \n\n"
          "### Search results: doc one\ndoc two \n\n"
          "### Question: What is OPEA? \n\n"
          "### Answer:\n");
}

TEST_CASE("a mostly Chinese context selects OPEA's Chinese template", "[llm][prompt]") {
  auto p = default_rag_prompt("Q", {"\u4f60\u597d ab"});  // 2 of 5 code points: 40%
  REQUIRE(p.rfind("\n### \u4f60\u5c06\u626e\u6f14", 0) == 0);
  REQUIRE(p.find("### \u641c\u7d22\u7ed3\u679c\uff1a\u4f60\u597d ab\n") != std::string::npos);
  REQUIRE(p.find("### \u95ee\u9898\uff1aQ\n") != std::string::npos);
  auto en = default_rag_prompt("Q", {"\u4f60 abcd"});  // 1 of 6: English
  REQUIRE(en.rfind("\n### You are a helpful", 0) == 0);
}

TEST_CASE("Llama 3.1 models get OPEA's Llama 3.1 template", "[llm][prompt]") {
  auto p = default_rag_prompt("Q?", {"C"}, "meta-llama/Meta-Llama-3.1-8B-Instruct");
  REQUIRE(p.find("<|begin_of_text|>") != std::string::npos);
  REQUIRE(p.find("            Question: Q?\n            Context: C\n") != std::string::npos);
}

TEST_CASE("chat_template is applied as in OPEA's LLM microservice", "[llm][prompt]") {
  std::vector<std::string> docs{"a", "b"};
  REQUIRE(build_llm_prompt("q", docs, "Context: {context} Q: {question} {{x}}") ==
          "Context: a\nb Q: q {x}");
  REQUIRE(build_llm_prompt("q", docs, "Just {question}") == "Just q");
  REQUIRE(build_llm_prompt("q", docs, "{other} {question}") == "q");
  REQUIRE(build_llm_prompt("q", {}, "") == "q");
  REQUIRE(build_llm_prompt("q", docs, "") == default_rag_prompt("q", docs));
  REQUIRE(template_variables("{b}{a}{{c}}{a}") == std::vector<std::string>{"a", "b"});
}
