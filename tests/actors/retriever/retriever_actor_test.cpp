#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include "actors/retriever/retriever_actor.hpp"
#include "runtime/errors.hpp"
#include "runtime/service/local_service_actor.hpp"
#include "runtime/service/messages.hpp"
#include "tests/actors/retriever/temp_dir.hpp"

using namespace opea::actors;
using nlohmann::json;
using opea::actors::testing::temp_dir;
using opea::runtime::errc;

namespace {

std::shared_ptr<vector_store> filled_store(const temp_dir& dir) {
  auto store = vector_store::open(dir.path(), "idx");
  REQUIRE(store);
  REQUIRE((*store)->add({chunk{"a#0", "apples", json{{"source", "a.txt"}}, {1, 0, 0}},
                         chunk{"b#0", "bananas", json{{"source", "b.txt"}}, {0.8f, 0.6f, 0}},
                         chunk{"c#0", "cherries", json{{"source", "c.txt"}}, {0, 0, 1}}}));
  return *store;
}

std::string bad_field(const vector_store& store, const json& input) {
  auto out = retrieve(store, input);
  REQUIRE(!out);
  REQUIRE(opea::runtime::code_of(out.error()) == errc::bad_request);
  return opea::runtime::subject_of(out.error());
}

}  // namespace

TEST_CASE("retrieve maps EmbedDoc to SearchedDoc and passes LLM params through", "[retriever]") {
  temp_dir dir;
  auto store = filled_store(dir);
  json in{{"text", "fruit?"},
          {"embedding", {1, 0, 0}},
          {"k", 2},
          {"search_type", "similarity"},
          {"top_n", 1},
          {"max_tokens", 64},
          {"temperature", 0.2},
          {"stream", false},
          {"id", "req-1"}};
  auto out = retrieve(*store, in);
  REQUIRE(out);
  REQUIRE(out->at("initial_query") == "fruit?");
  REQUIRE(out->at("top_n") == 1);
  REQUIRE(out->at("max_tokens") == 64);
  REQUIRE(out->at("temperature") == 0.2);
  REQUIRE(out->at("stream") == false);
  REQUIRE(out->at("id") == "req-1");
  REQUIRE(!out->contains("embedding"));
  REQUIRE(!out->contains("k"));
  REQUIRE(!out->contains("text"));
  auto& docs = out->at("retrieved_docs");
  REQUIRE(docs.size() == 2);
  REQUIRE(docs[0]["id"] == "a#0");
  REQUIRE(docs[0]["text"] == "apples");
  REQUIRE(docs[0]["metadata"] == json{{"source", "a.txt"}});
  REQUIRE(docs[0]["score"].get<double>() == Approx(1.0));
  REQUIRE(docs[1]["id"] == "b#0");
  REQUIRE(docs[1]["score"].get<double>() == Approx(0.8));
  // OPEA defaults: k 4, and TEI's [[...]] shape.
  auto all = retrieve(*store, json{{"text", "q"}, {"embedding", {{0, 0, 1}}}});
  REQUIRE(all);
  REQUIRE(all->at("retrieved_docs").size() == 3);
  REQUIRE(all->at("retrieved_docs")[0]["id"] == "c#0");
  // score threshold default 0.2 applies to similarity_score_threshold.
  auto thr = retrieve(
      *store,
      json{{"text", "q"}, {"embedding", {1, 0, 0}}, {"search_type", "similarity_score_threshold"}});
  REQUIRE(thr->at("retrieved_docs").size() == 2);
}

TEST_CASE("retrieve rejects bad input naming the field", "[retriever]") {
  temp_dir dir;
  auto store = filled_store(dir);
  REQUIRE(bad_field(*store, json{{"text", "q"}}) == "embedding");
  REQUIRE(bad_field(*store, json{{"text", "q"}, {"embedding", json::array()}}) == "embedding");
  REQUIRE(bad_field(*store, json{{"text", "q"}, {"embedding", {1, "x", 0}}}) == "embedding");
  REQUIRE(bad_field(*store, json{{"text", "q"}, {"embedding", {1, 0}}}) == "embedding");
  REQUIRE(bad_field(*store, json{{"text", "q"}, {"embedding", "1,0,0"}}) == "embedding");
  REQUIRE(bad_field(*store, json{{"embedding", {1, 0, 0}}}) == "text");
  REQUIRE(bad_field(*store, json{{"text", "q"}, {"embedding", {1, 0, 0}}, {"k", 0}}) == "k");
  REQUIRE(bad_field(*store, json{{"text", "q"}, {"embedding", {1, 0, 0}}, {"k", "4"}}) == "k");
  REQUIRE(bad_field(*store, json{{"text", "q"}, {"embedding", {1, 0, 0}}, {"search_type", "x"}}) ==
          "search_type");
  REQUIRE(bad_field(*store, json::array()) == "input");
  auto detail = retrieve(*store, json{{"text", "q"}, {"embedding", {1, 0}}});
  REQUIRE(opea::runtime::detail_of(detail.error()) == "has 2 values, the store's dimension is 3");
}

TEST_CASE("the retriever actor answers invoke requests", "[retriever]") {
  temp_dir dir;
  auto store = filled_store(dir);
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  auto svc = make_retriever_service("retriever", store);
  REQUIRE(svc.type == opea::runtime::service_type::retriever);
  auto actor = sys.spawn(opea::runtime::guarded_service_actor, svc.name, svc.body);
  caf::scoped_actor self{sys};
  auto ctx = std::make_shared<const opea::runtime::request_context>();
  auto in = std::make_shared<const json>(
      json{{"text", "q"}, {"embedding", {0.8, 0.6, 0}}, {"k", 1}, {"top_n", 1}});
  json answer;
  self->request(actor, caf::infinite, opea::runtime::invoke_atom::value, in, ctx)
      .receive([&](const opea::runtime::json_ptr& out) { answer = *out; },
               [&](const caf::error& err) { FAIL(opea::runtime::describe(err)); });
  REQUIRE(answer["retrieved_docs"].size() == 1);
  REQUIRE(answer["retrieved_docs"][0]["id"] == "b#0");
  REQUIRE(answer["top_n"] == 1);
  auto bad = std::make_shared<const json>(json{{"text", "q"}});
  caf::error failure;
  self->request(actor, caf::infinite, opea::runtime::invoke_atom::value, bad, ctx)
      .receive([&](const opea::runtime::json_ptr&) { FAIL("expected an error"); },
               [&](const caf::error& err) { failure = err; });
  REQUIRE(opea::runtime::code_of(failure) == errc::bad_request);
  REQUIRE(opea::runtime::subject_of(failure) == "embedding");
  self->send_exit(actor, caf::exit_reason::user_shutdown);
}
