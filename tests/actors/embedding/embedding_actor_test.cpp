#include "actors/embedding/embedding_actor.hpp"

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

json as_json(const vector& v) {
  json out = json::array();
  for (float x : v) out.push_back(x);
  return out;
}

struct fixture : opea::test::builtin_fixture {
  fixture() { register_embedding_builtins(catalog, client); }

  /// A megaservice with the single service "embedding" made from `params`.
  std::unique_ptr<megaservice> mega(const json& params) {
    return single("embedding", params, service_type::embedding, "embed");
  }

  caf::error param_error(const json& params) {
    return builtin_fixture::param_error("embedding", params);
  }
};

}  // namespace

TEST_CASE_METHOD(fixture, "embedding service: TextDoc in, EmbedDoc out", "[embedding][actor]") {
  auto m = mega({{"dimension", 32}});
  auto res = m->schedule({{"text", "What is OPEA?"}});
  REQUIRE(res);
  CHECK(*res->output ==
        json{{"text", "What is OPEA?"},
             {"embedding", as_json(hashed_embedder{32}.embed_one("What is OPEA?"))}});
}

TEST_CASE_METHOD(fixture, "embedding service passes the retriever parameters through",
                 "[embedding][actor]") {
  auto m = mega({{"dimension", 8}});
  json in{{"text", "hi"},
          {"search_type", "mmr"},
          {"k", 3},
          {"fetch_k", 10},
          {"lambda_mult", 0.3},
          {"score_threshold", 0.5},
          {"distance_threshold", 1.5},
          {"constraints", {{"source", "a.pdf"}}},
          {"index_name", "rag"},
          {"downstream_black_list", {"llm"}},
          {"id", "abc"},
          {"unrelated", true}};
  auto res = m->schedule(in);
  REQUIRE(res);
  CHECK(*res->output == json{{"text", "hi"},
                             {"embedding", as_json(hashed_embedder{8}.embed_one("hi"))},
                             {"search_type", "mmr"},
                             {"k", 3},
                             {"fetch_k", 10},
                             {"lambda_mult", 0.3},
                             {"score_threshold", 0.5},
                             {"distance_threshold", 1.5},
                             {"constraints", {{"source", "a.pdf"}}},
                             {"index_name", "rag"},
                             {"downstream_black_list", {"llm"}}});
}

TEST_CASE_METHOD(fixture, "embedding service: batch text and OpenAI-style input",
                 "[embedding][actor]") {
  hashed_embedder e{16};
  auto m = mega({{"backend", "builtin"}, {"dimension", 16}});
  auto batch = m->schedule({{"text", {"a b", "c"}}});
  REQUIRE(batch);
  CHECK(*batch->output ==
        json{{"text", {"a b", "c"}},
             {"embedding", {as_json(e.embed_one("a b")), as_json(e.embed_one("c"))}}});
  auto single = m->schedule({{"input", "c"}});
  REQUIRE(single);
  CHECK(*single->output == json{{"text", "c"}, {"embedding", as_json(e.embed_one("c"))}});
  auto list = m->schedule({{"input", {"c"}}});
  REQUIRE(list);
  CHECK(*list->output == json{{"text", {"c"}}, {"embedding", {as_json(e.embed_one("c"))}}});
  auto empty = m->schedule({{"text", json::array()}});
  REQUIRE(empty);
  CHECK(*empty->output == json{{"text", json::array()}, {"embedding", json::array()}});
}

TEST_CASE_METHOD(fixture, "embedding service: bad input names the field", "[embedding][actor]") {
  auto m = mega(json::object());
  auto check = [&](json in, const std::string& field, const std::string& detail) {
    auto res = m->schedule(std::move(in));
    REQUIRE(!res);
    CHECK(code_of(res.error()) == errc::bad_request);
    CHECK(subject_of(res.error()) == field);
    CHECK(detail_of(res.error()) == detail);
  };
  check({{"text", 3}}, "text", "must be a string or a list of strings, got number");
  check({{"text", {"a", 1}}}, "text[1]", "must be a string, got number");
  check({{"query", "x"}}, "text", "input has neither 'text' nor 'input'");
  check({{"input", nullptr}}, "input", "must be a string or a list of strings, got null");
}

TEST_CASE_METHOD(fixture, "embedding service on TEI answers from the HTTP I/O thread",
                 "[embedding][actor][tei]") {
  http::server_config scfg;
  scfg.host = "127.0.0.1";
  http::server tei{scfg};
  tei.add_route("/embed", {"POST"}, [](http::request&& req, auto w) {
    auto body = json::parse(req.body);
    json out = json::array();
    for (auto& t : body["inputs"]) out.push_back({t.get<std::string>().size(), 0.25});
    w->reply_json(200, out);
  });
  tei.add_route("/broken/embed", {"POST"},
                [](http::request&&, auto w) { w->reply(503, "text/plain", "warming up"); });
  auto port = tei.start();
  REQUIRE(port);
  auto base = "http://127.0.0.1:" + std::to_string(*port);
  auto m = mega({{"backend", "tei"}, {"url", base}});
  auto res = m->schedule({{"text", "four"}, {"k", 2}});
  REQUIRE(res);
  CHECK(*res->output == json{{"text", "four"}, {"embedding", {4.0, 0.25}}, {"k", 2}});

  auto broken = mega({{"backend", "tei"}, {"url", base + "/broken"}});
  auto err = broken->schedule({{"text", "x"}});
  REQUIRE(!err);
  CHECK(code_of(err.error()) == errc::http_status);
  CHECK(subject_of(err.error()) == base + "/broken/embed");
  CHECK(detail_of(err.error()) == "HTTP 503: warming up");
}

TEST_CASE_METHOD(fixture, "embedding built-in validates its parameters", "[embedding][params]") {
  auto subject = [&](const json& p) { return subject_of(param_error(p)); };
  CHECK(subject({{"backend", "onnx"}}) == "params.backend");
  CHECK(detail_of(param_error({{"backend", "onnx"}})) ==
        "must be one of builtin, tei, openai, got 'onnx'");
  CHECK(subject({{"dimension", "384"}}) == "params.dimension");
  CHECK(subject({{"dimension", 0}}) == "params.dimension");
  CHECK(subject({{"dimension", 70000}}) == "params.dimension");
  CHECK(subject({{"dimensions", 8}}) == "params.dimensions");
  CHECK(subject({{"backend", "tei"}}) == "params.url");
  CHECK(subject({{"backend", "tei"}, {"url", "ftp://x"}}) == "params.url");
  CHECK(subject({{"backend", "tei"}, {"url", "http://x"}, {"dimension", 8}}) == "params.dimension");
  CHECK(subject({{"backend", "openai"}, {"url", "http://x"}}) == "params.model");
  CHECK(subject({{"backend", "tei"}, {"url", "http://x"}, {"api_key", "k"}}) == "params.api_key");
  CHECK(subject({{"url", "http://x"}}) == "params.url");
  CHECK(subject(json::array()) == "params");
  CHECK(catalog.instantiate("e", "embedding", nullptr));
  CHECK(catalog.instantiate("e", "embedding",
                            {{"backend", "openai"},
                             {"url", "http://x"},
                             {"model", "m"},
                             {"api_key", "k"},
                             {"timeout_ms", 500}}));
}

TEST_CASE("OpenAI embeddings response has OpenAI's exact shape", "[embedding][openai-api]") {
  std::vector<vector> vs{{0.5f, -0.25f, 1.0f}, {0.0f, 1.0f, 0.0f}};
  json req{{"input", {"hello  world", " one\ttwo three "}}, {"model", "whatever"}};
  auto res = openai_embeddings_response(req, vs, "opea-hashed-ngram-3");
  REQUIRE(res);
  CHECK(*res == json{{"object", "list"},
                     {"data",
                      {{{"object", "embedding"}, {"index", 0}, {"embedding", {0.5, -0.25, 1.0}}},
                       {{"object", "embedding"}, {"index", 1}, {"embedding", {0.0, 1.0, 0.0}}}}},
                     {"model", "opea-hashed-ngram-3"},
                     {"usage", {{"prompt_tokens", 5}, {"total_tokens", 5}}}});

  auto cut =
      openai_embeddings_response({{"input", "a"}, {"dimensions", 2}}, {{0.5f, -0.25f, 1.0f}}, "m");
  REQUIRE(cut);
  CHECK((*cut)["data"][0]["embedding"] == json{0.5, -0.25});
  CHECK((*cut)["usage"] == json{{"prompt_tokens", 1}, {"total_tokens", 1}});

  auto mismatch = openai_embeddings_response(req, {{1.0f}}, "m");
  REQUIRE(!mismatch);
  CHECK(code_of(mismatch.error()) == errc::service_failed);
}

TEST_CASE("OpenAI embeddings request validation names the field", "[embedding][openai-api]") {
  auto field = [](const json& req) {
    auto res = parse_openai_embeddings_request(req);
    REQUIRE(!res);
    CHECK(code_of(res.error()) == errc::bad_request);
    return subject_of(res.error());
  };
  CHECK(field(json::object()) == "input");
  CHECK(field({{"input", json::array()}}) == "input");
  CHECK(field({{"input", {1, 2, 3}}}) == "input");
  CHECK(field({{"input", {"a", nullptr}}}) == "input[1]");
  CHECK(field({{"input", "a"}, {"model", 1}}) == "model");
  CHECK(field({{"input", "a"}, {"encoding_format", "int8"}}) == "encoding_format");
  CHECK(field({{"input", "a"}, {"dimensions", 0}}) == "dimensions");
  CHECK(field({{"input", "a"}, {"user", false}}) == "user");
  auto ok = parse_openai_embeddings_request(
      {{"input", {"a", ""}}, {"model", "m"}, {"encoding_format", "float"}, {"dimensions", 4}});
  REQUIRE(ok);
  CHECK(*ok == std::vector<std::string>{"a", ""});
  CHECK(count_whitespace_words("") == 0);
  CHECK(count_whitespace_words("  a  b\n") == 2);
}

TEST_CASE("OpenAI embeddings in base64, as the official SDKs request them", "[embedding]") {
  // 1.0f = 0x3f800000 -> bytes 00 00 80 3f; -2.0f = 0xc0000000 -> 00 00 00 c0.
  auto res = openai_embeddings_response({{"input", "a"}, {"encoding_format", "base64"}},
                                        {{1.0f, -2.0f}}, "m");
  REQUIRE(res);
  CHECK((*res)["data"][0]["embedding"] == "AACAPwAAAMA=");
}
