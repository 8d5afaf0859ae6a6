#include "actors/rerank/rerank_actor.hpp"

#include <future>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include "tests/support/builtin_fixture.hpp"

#include "actors/embedding/hashed_embedder.hpp"
#include "monitoring/metrics_registry.hpp"
#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "runtime/http/server.hpp"
#include "runtime/megaservice/megaservice.hpp"

using namespace opea::actors;
using namespace opea::runtime;

namespace {

struct fixture : opea::test::builtin_fixture {
  fixture() { register_rerank_builtins(catalog, client); }

  std::unique_ptr<megaservice> mega(const json& params) {
    return single("rerank", params, service_type::rerank, "rerank");
  }

  std::string param_subject(const json& params) {
    return subject_of(builtin_fixture::param_error("rerank", params));
  }
};

/// The scores the built-in reranker gives, computed outside the actor.
std::vector<scored_text> expected_scores(const std::string& q, std::vector<std::string> texts,
                                         double alpha = 0.5) {
  hybrid_reranker r{std::make_shared<hashed_embedder>(), alpha};
  std::vector<scored_text> out;
  r.rerank(q, std::move(texts), [&](caf::expected<std::vector<scored_text>> res) {
    REQUIRE(res);
    out = *res;
  });
  return out;
}

const std::vector<std::string> texts{
    "Paris is the capital of France.",       "The Eiffel Tower is in Paris, France.",
    "Bananas are rich in potassium.",        "France borders Spain and Italy.",
    "What is the capital of France? Paris.", "Python is a programming language."};

json searched_doc(json extra = json::object()) {
  json docs = json::array();
  for (size_t i = 0; i < texts.size(); ++i)
    docs.push_back({{"text", texts[i]}, {"metadata", {{"source", "doc" + std::to_string(i)}}}});
  json in{{"initial_query", "What is the capital of France?"}, {"retrieved_docs", docs}};
  in.update(extra);
  return in;
}

}  // namespace

TEST_CASE_METHOD(fixture, "rerank service: SearchedDoc in, top 4 documents out",
                 "[rerank][actor]") {
  auto m = mega(json::object());
  auto res = m->schedule(searched_doc());
  REQUIRE(res);
  auto scores = expected_scores("What is the capital of France?", texts);
  json documents = json::array();
  json reranked = json::array();
  for (size_t i = 0; i < 4; ++i) {
    auto idx = scores[i].index;
    documents.push_back(texts[idx]);
    reranked.push_back({{"text", texts[idx]},
                        {"metadata", {{"source", "doc" + std::to_string(idx)}}},
                        {"score", scores[i].score}});
  }
  CHECK(*res->output == json{{"query", "What is the capital of France?"},
                             {"documents", documents},
                             {"reranked_docs", reranked}});
  // The two documents naming both query terms come first; bananas and Python are dropped.
  CHECK(scores[0].index == 4);
  for (size_t i = 0; i < 4; ++i) CHECK(scores[i].index != 2);
}

TEST_CASE_METHOD(fixture, "rerank service: top_n from the input, LLM params passed through",
                 "[rerank][actor]") {
  auto m = mega({{"alpha", 1.0}, {"top_n", 3}});
  auto res = m->schedule(searched_doc({{"top_n", 2},
                                       {"max_tokens", 17},
                                       {"temperature", 0.2},
                                       {"stream", false},
                                       {"model", "llama"},
                                       {"chat_template", "{context} {question}"},
                                       {"search_type", "mmr"}}));
  REQUIRE(res);
  auto scores = expected_scores("What is the capital of France?", texts, 1.0);
  const auto& out = *res->output;
  CHECK(out["documents"] == json{texts[scores[0].index], texts[scores[1].index]});
  CHECK(out["reranked_docs"].size() == 2);
  CHECK(out["reranked_docs"][0]["score"] == scores[0].score);
  CHECK(out["max_tokens"] == 17);
  CHECK(out["temperature"] == 0.2);
  CHECK(out["stream"] == false);
  CHECK(out["model"] == "llama");
  CHECK(out["chat_template"] == "{context} {question}");
  CHECK(out.count("search_type") == 0);
  CHECK(out.count("initial_query") == 0);
  CHECK(out.count("retrieved_docs") == 0);
  // The service's own top_n (3) applies when the input has none.
  auto dflt = m->schedule(searched_doc());
  REQUIRE(dflt);
  CHECK((*dflt->output)["documents"].size() == 3);
}

TEST_CASE_METHOD(fixture, "rerank service: no retrieved documents is an empty answer",
                 "[rerank][actor]") {
  auto m = mega(json::object());
  auto res =
      m->schedule({{"initial_query", "q"}, {"retrieved_docs", json::array()}, {"max_tokens", 5}});
  REQUIRE(res);
  CHECK(*res->output == json{{"query", "q"},
                             {"documents", json::array()},
                             {"reranked_docs", json::array()},
                             {"max_tokens", 5}});
}

TEST_CASE_METHOD(fixture, "rerank service: bad input names the field", "[rerank][actor]") {
  auto m = mega(json::object());
  auto check = [&](json in, const std::string& field, const std::string& detail) {
    auto res = m->schedule(std::move(in));
    REQUIRE(!res);
    CHECK(code_of(res.error()) == errc::bad_request);
    CHECK(subject_of(res.error()) == field);
    CHECK(detail_of(res.error()) == detail);
  };
  check({{"retrieved_docs", json::array()}}, "initial_query", "is required");
  check({{"initial_query", 1}, {"retrieved_docs", json::array()}}, "initial_query",
        "must be a string, got number");
  check({{"initial_query", "q"}}, "retrieved_docs", "is required");
  check({{"initial_query", "q"}, {"retrieved_docs", "a"}}, "retrieved_docs",
        "must be a list of documents, got string");
  check({{"initial_query", "q"}, {"retrieved_docs", {{{"text", "a"}}, "b"}}}, "retrieved_docs[1]",
        "must be an object with a 'text', got string");
  check({{"initial_query", "q"}, {"retrieved_docs", {{{"metadata", {}}}}}},
        "retrieved_docs[0].text", "is required");
  check({{"initial_query", "q"}, {"retrieved_docs", json::array()}, {"top_n", 0}}, "top_n",
        "must be a positive integer, got 0");
}

TEST_CASE_METHOD(fixture, "rerank service on TEI answers from the HTTP I/O thread",
                 "[rerank][actor][tei]") {
  http::server_config scfg;
  scfg.host = "127.0.0.1";
  http::server tei{scfg};
  tei.add_route("/rerank", {"POST"}, [](http::request&& req, auto w) {
    auto body = json::parse(req.body);
    // Shorter texts score higher; answered sorted, as TEI does.
    json out = json::array();
    std::vector<std::pair<double, size_t>> s;
    for (size_t i = 0; i < body["texts"].size(); ++i)
      s.emplace_back(1.0 / (1.0 + body["texts"][i].get<std::string>().size()), i);
    std::sort(s.rbegin(), s.rend());
    for (auto& [score, i] : s) out.push_back({{"index", i}, {"score", score}});
    w->reply_json(200, out);
  });
  auto port = tei.start();
  REQUIRE(port);
  auto base = "http://127.0.0.1:" + std::to_string(*port);
  auto m = mega({{"backend", "tei"}, {"url", base}, {"top_n", 2}});
  auto res =
      m->schedule({{"initial_query", "q"},
                   {"retrieved_docs", {{{"text", "ccc"}}, {{"text", "a"}}, {{"text", "bb"}}}}});
  REQUIRE(res);
  CHECK(*res->output ==
        json{{"query", "q"},
             {"documents", {"a", "bb"}},
             {"reranked_docs",
              {{{"text", "a"}, {"score", 0.5}}, {{"text", "bb"}, {"score", 1.0 / 3.0}}}}});
}

TEST_CASE_METHOD(fixture, "rerank built-in validates its parameters", "[rerank][params]") {
  CHECK(param_subject({{"backend", "cohere"}}) == "params.backend");
  CHECK(param_subject({{"alpha", 1.5}}) == "params.alpha");
  CHECK(param_subject({{"alpha", "0.5"}}) == "params.alpha");
  CHECK(param_subject({{"top_n", 0}}) == "params.top_n");
  CHECK(param_subject({{"top_n", 2.5}}) == "params.top_n");
  CHECK(param_subject({{"dimension", -1}}) == "params.dimension");
  CHECK(param_subject({{"backend", "tei"}}) == "params.url");
  CHECK(param_subject({{"backend", "tei"}, {"url", "nope"}}) == "params.url");
  CHECK(param_subject({{"backend", "tei"}, {"url", "http://x"}, {"alpha", 0.5}}) == "params.alpha");
  CHECK(param_subject({{"url", "http://x"}}) == "params.url");
  CHECK(param_subject({{"k", 1}}) == "params.k");
  CHECK(catalog.instantiate("r", "rerank", {{"alpha", 0}, {"top_n", 1}, {"dimension", 64}}));
  CHECK(catalog.instantiate("r", "rerank",
                            {{"backend", "tei"}, {"url", "http://x:1"}, {"timeout_ms", 10}}));
}
