#include "actors/rerank/reranker.hpp"

#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/embedding/hashed_embedder.hpp"
#include "actors/rerank/tei_reranker.hpp"
#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "runtime/http/server.hpp"

using namespace opea::actors;
using namespace opea::runtime;
using json = nlohmann::json;

namespace {

/// Answers fixed vectors per text, synchronously.
class table_embedder : public embedder {
 public:
  explicit table_embedder(std::map<std::string, vector> table) : table_(std::move(table)) {}
  size_t dimension() const override { return 2; }
  std::string model() const override { return "table"; }
  void embed(std::vector<std::string> texts,
             std::function<void(caf::expected<std::vector<vector>>)> done) override {
    std::vector<vector> out;
    for (auto& t : texts) out.push_back(table_.at(t));
    done(std::move(out));
  }

 private:
  std::map<std::string, vector> table_;
};

/// Always fails, as a remote embedder that cannot be reached.
class failing_embedder : public embedder {
 public:
  size_t dimension() const override { return 0; }
  std::string model() const override { return "down"; }
  void embed(std::vector<std::string>,
             std::function<void(caf::expected<std::vector<vector>>)> done) override {
    done(make_error(errc::http_connect, "http://down/embed", "connection refused"));
  }
};

caf::expected<std::vector<scored_text>> run(reranker& r, std::string q,
                                            std::vector<std::string> texts) {
  std::promise<caf::expected<std::vector<scored_text>>> p;
  r.rerank(std::move(q), std::move(texts),
           [&](caf::expected<std::vector<scored_text>> res) { p.set_value(std::move(res)); });
  return p.get_future().get();
}

}  // namespace

TEST_CASE("hybrid reranker: exact blend of normalised BM25 and cosine", "[rerank][hybrid]") {
  // BM25 of "cat" over {"cat", "cat cat fish", "dog"}: the short exact match
  // d0 beats d1 (tf 2 but longer), d2 has no match; min-max: d0 = 1, d2 = 0,
  // d1 = s1 / s0.
  std::vector<std::string> texts{"cat", "cat cat fish", "dog"};
  auto raw = bm25_scores("cat", texts);
  REQUIRE(raw[0] > raw[1]);
  REQUIRE(raw[2] == 0.0);
  auto n1 = raw[1] / raw[0];
  auto emb = std::make_shared<table_embedder>(
      std::map<std::string, vector>{{"cat", {1, 0}}, {"cat cat fish", {0, 1}}, {"dog", {-1, 0}}});
  // Query "cat" embeds as {1, 0}: cos = 1, 0, -1 -> cos01 = 1, 0.5, 0.
  hybrid_reranker r{emb, 0.5};
  CHECK(r.name() == "bm25+table");
  auto res = run(r, "cat", texts);
  REQUIRE(res);
  REQUIRE(res->size() == 3);
  std::map<size_t, double> score;
  for (auto& s : *res) score[s.index] = s.score;
  CHECK(score[0] == Approx(0.5 * 1.0 + 0.5 * 1.0).epsilon(1e-12));
  CHECK(score[1] == Approx(0.5 * n1 + 0.5 * 0.5).epsilon(1e-12));
  CHECK(score[2] == Approx(0.0).margin(1e-12));
  // Sorted best first.
  CHECK((*res)[0].index == 0);
  CHECK((*res)[1].index == 1);
  CHECK((*res)[2].index == 2);

  // alpha = 1: BM25 alone; alpha = 0: cosine alone.
  hybrid_reranker lexical{emb, 1.0};
  auto l = run(lexical, "cat", texts);
  REQUIRE(l);
  CHECK(*l == std::vector<scored_text>{{0, 1.0}, {1, n1}, {2, 0.0}});
  hybrid_reranker semantic{emb, 0.0};
  auto s = run(semantic, "cat", texts);
  REQUIRE(s);
  CHECK(*s == std::vector<scored_text>{{0, 1.0}, {1, 0.5}, {2, 0.0}});
}

TEST_CASE("hybrid reranker on the hashed embedder orders by relevance", "[rerank][hybrid]") {
  hybrid_reranker r{std::make_shared<hashed_embedder>()};
  auto res = run(r, "How do I reset my password?",
                 {"The cafeteria opens at noon.", "Password policy: at least 12 characters.",
                  "To reset your password, open Settings and choose Reset password.",
                  "Resetting passwords requires admin rights."});
  REQUIRE(res);
  REQUIRE(res->size() == 4);
  CHECK((*res)[0].index == 2);
  CHECK((*res)[3].index == 0);
  for (auto& s : *res) {
    CHECK(s.score >= 0.0);
    CHECK(s.score <= 1.0);
  }
}

TEST_CASE("hybrid reranker: ties keep input order, errors pass through", "[rerank][hybrid]") {
  hybrid_reranker r{std::make_shared<hashed_embedder>()};
  auto tie = run(r, "zzz", {"same text", "same text"});
  REQUIRE(tie);
  CHECK((*tie)[0].index == 0);
  CHECK((*tie)[1].index == 1);
  CHECK((*tie)[0].score == (*tie)[1].score);
  auto none = run(r, "q", {});
  REQUIRE(none);
  CHECK(none->empty());
  hybrid_reranker down{std::make_shared<failing_embedder>()};
  auto err = run(down, "q", {"a"});
  REQUIRE(!err);
  CHECK(code_of(err.error()) == errc::http_connect);
}

namespace {

struct tei_fixture {
  tei_fixture() : srv(config()) {
    srv.add_route("/rerank", {"POST"}, [this](http::request&& req, auto w) {
      {
        std::lock_guard<std::mutex> guard{mtx};
        last_body = json::parse(req.body, nullptr, false);
      }
      auto body = json::parse(req.body);
      // Score = length of the text / 100, answered in input order (unsorted).
      json out = json::array();
      for (size_t i = 0; i < body["texts"].size(); ++i)
        out.push_back(
            {{"index", i}, {"score", body["texts"][i].get<std::string>().size() / 100.0}});
      w->reply_json(200, out);
    });
    srv.add_route("/500/rerank", {"POST"}, [](http::request&&, auto w) {
      w->reply(500, "text/plain", "CUDA out of memory");
    });
    srv.add_route("/badjson/rerank", {"POST"},
                  [](http::request&&, auto w) { w->reply(200, "application/json", "{"); });
    srv.add_route("/count/rerank", {"POST"}, [](http::request&&, auto w) {
      w->reply_json(200, json::array({{{"index", 0}, {"score", 0.5}}}));
    });
    srv.add_route("/range/rerank", {"POST"}, [](http::request&&, auto w) {
      w->reply_json(200,
                    json::array({{{"index", 0}, {"score", 0.5}}, {{"index", 7}, {"score", 0.1}}}));
    });
    srv.add_route("/repeat/rerank", {"POST"}, [](http::request&&, auto w) {
      w->reply_json(200,
                    json::array({{{"index", 1}, {"score", 0.5}}, {{"index", 1}, {"score", 0.1}}}));
    });
    auto port = srv.start();
    REQUIRE(port);
    base = "http://127.0.0.1:" + std::to_string(*port);
  }

  static http::server_config config() {
    http::server_config cfg;
    cfg.host = "127.0.0.1";
    return cfg;
  }

  reranker_ptr tei(const std::string& prefix = "") {
    auto r = tei_reranker::make(client, base + prefix);
    REQUIRE(r);
    return *r;
  }

  std::shared_ptr<http::client> client = std::make_shared<http::client>();
  http::server srv;
  std::string base;
  std::mutex mtx;
  json last_body;
};

void require_error(const caf::expected<std::vector<scored_text>>& res, errc code,
                   const std::string& url, const std::string& detail) {
  REQUIRE(!res);
  CHECK(code_of(res.error()) == code);
  CHECK(subject_of(res.error()) == url);
  CHECK(detail_of(res.error()) == detail);
}

}  // namespace

TEST_CASE_METHOD(tei_fixture, "TEI reranker posts query and texts, sorts by score",
                 "[rerank][tei]") {
  auto r = tei("/");
  CHECK(r->name() == "tei-rerank " + base + "/rerank");
  auto res = run(*r, "q", {"ab", "abcd", "a"});
  REQUIRE(res);
  CHECK(*res == std::vector<scored_text>{{1, 0.04}, {0, 0.02}, {2, 0.01}});
  std::lock_guard<std::mutex> guard{mtx};
  CHECK(last_body == json{{"query", "q"}, {"texts", {"ab", "abcd", "a"}}, {"raw_scores", false}});
}

TEST_CASE_METHOD(tei_fixture, "TEI reranker errors name the URL and the cause", "[rerank][tei]") {
  require_error(run(*tei("/500"), "q", {"a"}), errc::http_status, base + "/500/rerank",
                "HTTP 500: CUDA out of memory");
  require_error(run(*tei("/badjson"), "q", {"a"}), errc::bad_response, base + "/badjson/rerank",
                "not valid JSON: {");
  require_error(run(*tei("/count"), "q", {"a", "b"}), errc::bad_response, base + "/count/rerank",
                "expected 2 scores, got 1");
  require_error(run(*tei("/range"), "q", {"a", "b"}), errc::bad_response, base + "/range/rerank",
                "[1].index 7 is out of range [0, 2)");
  require_error(run(*tei("/repeat"), "q", {"a", "b"}), errc::bad_response, base + "/repeat/rerank",
                "[1].index 1 is repeated");
  auto bad = tei_reranker::make(client, "tei:8808");
  REQUIRE(!bad);
  CHECK(subject_of(bad.error()) == "url");
}
