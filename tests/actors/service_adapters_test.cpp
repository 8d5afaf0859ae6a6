// service_embedder and service_reranker: the embedder and reranker that call
// a supervised microservice through a megaservice (what dataprep,
// /v1/embeddings and /rerank use on a node).
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/embedding/embedding_actor.hpp"
#include "actors/embedding/hashed_embedder.hpp"
#include "actors/embedding/service_embedder.hpp"
#include "actors/rerank/rerank_actor.hpp"
#include "actors/rerank/service_reranker.hpp"
#include "monitoring/metrics_registry.hpp"
#include "runtime/errors.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "tests/support/builtin_fixture.hpp"

using namespace opea::actors;
using namespace opea::runtime;
using json = nlohmann::json;

namespace {

using fixture = opea::test::builtin_fixture;

template <class T, class F>
caf::expected<T> wait_for(F start) {
  std::promise<caf::expected<T>> p;
  start([&p](caf::expected<T> res) { p.set_value(std::move(res)); });
  return p.get_future().get();
}

/// A service_call answering `answer` to every call.
service_call fixed(json answer) {
  return [answer](json, std::function<void(caf::expected<json_ptr>)> done) {
    done(std::make_shared<const json>(answer));
  };
}

}  // namespace

TEST_CASE_METHOD(fixture, "service_embedder: the embedding service's vectors, as the backend's",
                 "[embedding][service]") {
  auto backend = std::make_shared<hashed_embedder>(64);
  service_orchestrator o;
  auto svc = make_embedding_service(backend);
  svc.name = "embedding";
  o.add(svc);
  megaservice m{*sys, o, {"mega"}, metrics};
  service_embedder via{m.caller("embedding"), "embedding", backend->model()};
  CHECK(via.model() == "opea-hashed-ngram-64");
  CHECK(via.dimension() == 0);
  std::vector<std::string> texts{"sea otters hold hands", "the supervisor restarts"};
  auto got = wait_for<std::vector<vector>>([&](auto done) { via.embed(texts, done); });
  auto want = wait_for<std::vector<vector>>([&](auto done) { backend->embed(texts, done); });
  REQUIRE(got);
  REQUIRE(want);
  CHECK(*got == *want);
  CHECK(via.dimension() == 64);
  auto one = wait_for<std::vector<vector>>([&](auto done) { via.embed({"otters"}, done); });
  REQUIRE(one);
  REQUIRE(one->size() == 1);
  CHECK(one->front().size() == 64);
  auto none = wait_for<std::vector<vector>>([&](auto done) { via.embed({}, done); });
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("service_embedder: a malformed answer names the service and the field",
          "[embedding][service]") {
  auto run = [](json answer, std::vector<std::string> texts) {
    service_embedder e{fixed(std::move(answer)), "emb", "m"};
    auto res = wait_for<std::vector<vector>>([&](auto done) { e.embed(texts, done); });
    REQUIRE_FALSE(res);
    CHECK(code_of(res.error()) == errc::bad_response);
    return describe(res.error());
  };
  CHECK(run(json::array(), {"a"}) == "service 'emb': answer must be a JSON object, got array");
  CHECK(run({{"text", "a"}}, {"a"}) == "service 'emb': answer field 'embedding' is missing");
  CHECK(run({{"embedding", {{1.0}, {2.0}}}}, {"a", "b", "c"}) ==
        "service 'emb': answer field 'embedding' has 2 vectors for 3 texts");
  CHECK(run({{"embedding", {{1.0}, {"x"}}}}, {"a", "b"}) ==
        "service 'emb': answer field 'embedding[1][0]' must be a number, got string");
}

TEST_CASE_METHOD(fixture, "service_reranker: the rerank service's scores, as the backend's",
                 "[rerank][service]") {
  auto backend = std::make_shared<hybrid_reranker>(std::make_shared<hashed_embedder>(64));
  service_orchestrator o;
  auto svc = make_rerank_service(backend, 1);  // its default top_n does not cut the answer
  svc.name = "rerank";
  o.add(svc);
  megaservice m{*sys, o, {"mega"}, metrics};
  service_reranker via{m.caller("rerank"), "rerank"};
  CHECK(via.name() == "service:rerank");
  std::vector<std::string> texts{"otters sleep holding hands", "a supervisor restarts actors",
                                 "restarts are limited by intensity"};
  auto query = "how are restarts limited?";
  auto got =
      wait_for<std::vector<scored_text>>([&](auto done) { via.rerank(query, texts, done); });
  auto want =
      wait_for<std::vector<scored_text>>([&](auto done) { backend->rerank(query, texts, done); });
  REQUIRE(got);
  REQUIRE(want);
  CHECK(*got == *want);
  CHECK(got->size() == 3);
  auto none = wait_for<std::vector<scored_text>>([&](auto done) { via.rerank(query, {}, done); });
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("service_reranker: a malformed answer names the service and the field",
          "[rerank][service]") {
  auto run = [](json answer) {
    service_reranker r{fixed(std::move(answer)), "rr"};
    auto res = wait_for<std::vector<scored_text>>([&](auto done) { r.rerank("q", {"a", "b"}, done); });
    REQUIRE_FALSE(res);
    CHECK(code_of(res.error()) == errc::bad_response);
    return describe(res.error());
  };
  CHECK(run({{"documents", json::array()}}) == "service 'rr': answer field 'reranked_docs' is missing");
  CHECK(run({{"reranked_docs", {{{"index", 0}, {"score", 1}}}}}) ==
        "service 'rr': answer field 'reranked_docs' has 1 documents for 2 candidates");
  CHECK(run({{"reranked_docs", {{{"index", 0}, {"score", 1}}, {{"index", 2}, {"score", 1}}}}}) ==
        "service 'rr': answer field 'reranked_docs[1].index' must be an integer in [0, 2)");
  CHECK(run({{"reranked_docs", {{{"index", 0}, {"score", 1}}, {{"index", 0}, {"score", 1}}}}}) ==
        "service 'rr': answer field 'reranked_docs[1].index' repeats candidate 0");
  CHECK(run({{"reranked_docs", {{{"index", 0}, {"score", 1}}, {{"index", 1}}}}}) ==
        "service 'rr': answer field 'reranked_docs[1].score' must be a number");
}
