#include "actors/docs/opea_docs.hpp"

#include <catch2/catch.hpp>

#include "runtime/dag/service_orchestrator.hpp"
#include "runtime/errors.hpp"

using nlohmann::json;
using namespace opea::actors;
using opea::runtime::errc;

TEST_CASE("a request's parameters travel TextDoc -> EmbedDoc -> SearchedDoc -> LLMParamsDoc",
          "[docs]") {
  json text = {{"text", "What is OPEA?"}, {"k", 2},         {"search_type", "mmr"}, {"top_n", 1},
               {"temperature", 0.1},      {"stream", false}};
  auto td = read_text_doc(text);
  REQUIRE(td);
  CHECK(td->texts == std::vector<std::string>{"What is OPEA?"});
  CHECK_FALSE(td->batch);

  auto embed = write_embed_doc(text, *td, {{0.6f, 0.8f}});
  REQUIRE(embed);
  // The embedding service keeps the retriever's fields only.
  CHECK(*embed == json{{"text", "What is OPEA?"},
                       {"embedding", {0.6f, 0.8f}},
                       {"k", 2},
                       {"search_type", "mmr"}});

  // The retriever reads its fields, with OPEA's defaults for the others.
  json embed_in = *embed;
  embed_in["top_n"] = 1;
  embed_in["temperature"] = 0.1;
  embed_in["stream"] = false;
  auto ed = read_embed_doc(embed_in);
  REQUIRE(ed);
  CHECK(ed->text == "What is OPEA?");
  CHECK(ed->embedding == std::vector<float>{0.6f, 0.8f});
  CHECK(ed->search.k == 2);
  CHECK(ed->search.search_type == "mmr");
  CHECK(ed->search.fetch_k == 20);
  CHECK(ed->search.lambda_mult == 0.5);

  json hits = json::array({{{"id", "a#0"}, {"text", "OPEA is a platform."}, {"score", 0.9}},
                           {{"id", "b#0"}, {"text", "Unrelated."}, {"score", 0.1}}});
  auto searched = write_searched_doc(embed_in, *ed, hits);
  // EmbedDoc's own fields stay behind; the rerank and LLM parameters go on.
  CHECK(searched == json{{"initial_query", "What is OPEA?"},
                         {"retrieved_docs", hits},
                         {"top_n", 1},
                         {"temperature", 0.1},
                         {"stream", false}});

  auto sd = read_searched_doc(searched, 4);
  REQUIRE(sd);
  CHECK(sd->initial_query == "What is OPEA?");
  CHECK(sd->texts == std::vector<std::string>{"OPEA is a platform.", "Unrelated."});
  CHECK(sd->top_n == 1);

  auto params = write_llm_params_doc(searched, *sd, {{0, 0.7}, {1, 0.2}});
  CHECK(params ==
        json{{"query", "What is OPEA?"},
             {"documents", {"OPEA is a platform."}},
             {"reranked_docs", {{{"id", "a#0"}, {"text", "OPEA is a platform."}, {"score", 0.7}}}},
             {"temperature", 0.1},
             {"stream", false}});

  auto llm = read_llm_params(params);
  REQUIRE(llm);
  CHECK(llm->query == "What is OPEA?");
  REQUIRE(llm->documents.size() == 1);
  CHECK(llm->documents[0].text == "OPEA is a platform.");
  CHECK(llm->documents[0].source == "document 1");
  CHECK(llm->sampling.temperature == 0.1);
  CHECK_FALSE(llm->stream);
}

TEST_CASE("each reader names the field it cannot read", "[docs]") {
  auto subject = [](const caf::error& e) { return opea::runtime::subject_of(e); };
  CHECK(subject(read_text_doc(json{{"text", {"a", 3}}}).error()) == "text[1]");
  CHECK(subject(read_embed_doc(json{{"text", "q"}}).error()) == "embedding");
  CHECK(subject(read_embed_doc(json{{"text", "q"}, {"embedding", {1}}, {"k", 0}}).error()) == "k");
  CHECK(
      subject(read_searched_doc(json{{"initial_query", "q"}, {"retrieved_docs", {{{"id", 1}}}}}, 4)
                  .error()) == "retrieved_docs[0].text");
  CHECK(subject(read_llm_params(json{{"temperature", "hot"}, {"query", "q"}}).error()) ==
        "temperature");
  auto none = read_llm_params(json::object());
  REQUIRE_FALSE(none);
  CHECK(none.error() == errc::bad_request);
  CHECK(opea::runtime::detail_of(none.error()) == "input has no non-empty 'query' (or 'messages')");
}

TEST_CASE("a SearchedDoc bound for an LLM gets LLMParamsDoc's query and documents", "[docs]") {
  json searched = {{"initial_query", "q"},
                   {"retrieved_docs", {{{"text", "one"}}, {{"text", "two"}}, "not a doc"}}};
  opea::runtime::align_result patch;
  searched_to_llm_params(searched, patch);
  REQUIRE(patch.patch);
  CHECK(*patch.patch == json{{"documents", {"one", "two"}}, {"query", "q"}});

  opea::runtime::align_result none;
  searched_to_llm_params(json{{"query", "q"}, {"documents", {"x"}}}, none);
  CHECK_FALSE(none.patch);
}
