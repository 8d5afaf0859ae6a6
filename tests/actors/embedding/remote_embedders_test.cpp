#include "actors/embedding/remote_embedders.hpp"

#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "runtime/http/server.hpp"

using namespace opea::actors;
using namespace opea::runtime;
using json = nlohmann::json;

namespace {

/// A local server answering as TEI and an OpenAI-compatible API would, plus
/// broken variants under path prefixes ("/500/embed", "/badjson/embed", ...).
/// It records the last request seen.
struct fake_backends {
  fake_backends() : srv(config()) {
    auto record = [this](const http::request& req) {
      std::lock_guard<std::mutex> guard{mtx};
      last_body = json::parse(req.body, nullptr, false);
      last_auth = req.header("authorization");
      last_path = req.path;
    };
    srv.add_route("/embed", {"POST"}, [record](http::request&& req, auto w) {
      record(req);
      auto body = json::parse(req.body);
      json out = json::array();
      // Vector i of text t: {len(t), i, 0.5}.
      for (size_t i = 0; i < body["inputs"].size(); ++i)
        out.push_back({body["inputs"][i].get<std::string>().size(), i, 0.5});
      w->reply_json(200, out);
    });
    srv.add_route("/v1/embeddings", {"POST"}, [record](http::request&& req, auto w) {
      record(req);
      auto body = json::parse(req.body);
      json data = json::array();
      // Answers in reverse order: the client must sort by index.
      for (size_t i = body["input"].size(); i-- > 0;)
        data.push_back({{"object", "embedding"},
                        {"index", i},
                        {"embedding", {i + 1.0, body["input"][i].get<std::string>().size()}}});
      w->reply_json(200, {{"object", "list"}, {"data", data}, {"model", body["model"]}});
    });
    srv.add_route("/500/embed", {"POST"}, [](http::request&&, auto w) {
      w->reply(500, "application/json", R"({"error":"model overloaded"})");
    });
    srv.add_route("/badjson/embed", {"POST"},
                  [](http::request&&, auto w) { w->reply(200, "application/json", "[[1,2],"); });
    srv.add_route("/count/embed", {"POST"}, [](http::request&&, auto w) {
      w->reply_json(200, json::array({json::array({1, 2})}));
    });
    srv.add_route("/shape/embed", {"POST"}, [](http::request&&, auto w) {
      w->reply_json(200, json{{"embeddings", json::array()}});
    });
    srv.add_route("/ragged/embed", {"POST"}, [](http::request&&, auto w) {
      w->reply_json(200, json::array({json::array({1, 2}), json::array({1})}));
    });
    srv.add_route("/count/v1/embeddings", {"POST"}, [](http::request&&, auto w) {
      w->reply_json(200, {{"data", {{{"index", 0}, {"embedding", {1}}}}}});
    });
    srv.add_route("/dupindex/v1/embeddings", {"POST"}, [](http::request&&, auto w) {
      w->reply_json(
          200,
          {{"data", {{{"index", 0}, {"embedding", {1}}}, {{"index", 0}, {"embedding", {2}}}}}});
    });
    srv.add_route("/strings/v1/embeddings", {"POST"}, [](http::request&&, auto w) {
      w->reply_json(200, {{"data", {{{"index", 0}, {"embedding", "AAAA"}}}}});
    });
    srv.add_route("/401/v1/embeddings", {"POST"}, [](http::request&&, auto w) {
      w->reply(401, "application/json", R"({"error":{"message":"Incorrect API key"}})");
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

  http::server srv;
  std::string base;
  std::mutex mtx;
  json last_body;
  std::string last_auth;
  std::string last_path;
};

caf::expected<std::vector<vector>> run(embedder& e, std::vector<std::string> texts) {
  std::promise<caf::expected<std::vector<vector>>> p;
  e.embed(std::move(texts),
          [&](caf::expected<std::vector<vector>> res) { p.set_value(std::move(res)); });
  return p.get_future().get();
}

struct fixture {
  std::shared_ptr<http::client> client = std::make_shared<http::client>();
  fake_backends backends;

  embedder_ptr tei(const std::string& prefix = "") {
    remote_embedder_config cfg;
    cfg.url = backends.base + prefix;
    auto e = tei_embedder::make(client, cfg);
    REQUIRE(e);
    return *e;
  }

  embedder_ptr openai(const std::string& prefix = "", std::string key = "") {
    remote_embedder_config cfg;
    cfg.url = backends.base + prefix;
    cfg.model = "BAAI/bge-base-en-v1.5";
    cfg.api_key = std::move(key);
    auto e = openai_embedder::make(client, cfg);
    REQUIRE(e);
    return *e;
  }
};

void require_error(const caf::expected<std::vector<vector>>& res, errc code, const std::string& url,
                   const std::string& detail_part) {
  REQUIRE(!res);
  CHECK(code_of(res.error()) == code);
  CHECK(subject_of(res.error()) == url);
  INFO(detail_of(res.error()));
  CHECK(detail_of(res.error()).find(detail_part) != std::string::npos);
}

}  // namespace

TEST_CASE_METHOD(fixture, "TEI embedder posts inputs with truncate and reads the vectors",
                 "[embedding][tei]") {
  auto e = tei("/");  // A trailing slash is ignored.
  CHECK(e->dimension() == 0);
  CHECK(e->model() == "tei");
  auto res = run(*e, {"hello", "hi"});
  REQUIRE(res);
  CHECK(*res == std::vector<vector>{{5, 0, 0.5f}, {2, 1, 0.5f}});
  CHECK(e->dimension() == 3);
  std::lock_guard<std::mutex> guard{backends.mtx};
  CHECK(backends.last_path == "/embed");
  CHECK(backends.last_body == json{{"inputs", {"hello", "hi"}}, {"truncate", true}});
}

TEST_CASE_METHOD(fixture, "TEI embedder: an empty batch makes no request", "[embedding][tei]") {
  auto e = tei();
  auto res = run(*e, {});
  REQUIRE(res);
  CHECK(res->empty());
  CHECK(backends.srv.requests_received() == 0);
}

TEST_CASE_METHOD(fixture, "TEI embedder errors name the URL and the cause", "[embedding][tei]") {
  require_error(run(*tei("/500"), {"x"}), errc::http_status, backends.base + "/500/embed",
                R"(HTTP 500: {"error":"model overloaded"})");
  require_error(run(*tei("/badjson"), {"x"}), errc::bad_response, backends.base + "/badjson/embed",
                "not valid JSON: [[1,2],");
  require_error(run(*tei("/count"), {"x", "y"}), errc::bad_response, backends.base + "/count/embed",
                "expected 2 embeddings, got 1");
  require_error(run(*tei("/shape"), {"x"}), errc::bad_response, backends.base + "/shape/embed",
                "expected a list of embeddings, got object");
  require_error(run(*tei("/ragged"), {"x", "y"}), errc::bad_response,
                backends.base + "/ragged/embed", "embeddings differ in length: 2 and 1");
}

TEST_CASE_METHOD(fixture, "TEI embedder: connection refused is http_connect", "[embedding][tei]") {
  std::string url;
  {
    http::server_config cfg;
    cfg.host = "127.0.0.1";
    http::server gone{cfg};
    auto port = gone.start();
    REQUIRE(port);
    url = "http://127.0.0.1:" + std::to_string(*port);
    gone.stop();
  }
  remote_embedder_config cfg;
  cfg.url = url;
  auto e = tei_embedder::make(client, cfg);
  REQUIRE(e);
  auto res = run(**e, {"x"});
  REQUIRE(!res);
  CHECK(code_of(res.error()) == errc::http_connect);
  CHECK(subject_of(res.error()) == url + "/embed");
  CHECK(detail_of(res.error()).rfind("POST " + url + "/embed: ", 0) == 0);
}

TEST_CASE("remote embedders validate their configuration", "[embedding][tei][openai]") {
  remote_embedder_config cfg;
  auto no_url = tei_embedder::make(nullptr, cfg);
  REQUIRE(!no_url);
  CHECK(subject_of(no_url.error()) == "url");
  cfg.url = "https://secure:443";
  auto https = tei_embedder::make(nullptr, cfg);
  REQUIRE(!https);
  CHECK(code_of(https.error()) == errc::bad_request);
  CHECK(subject_of(https.error()) == "url");
  cfg.url = "http://localhost:8080";
  auto no_model = openai_embedder::make(nullptr, cfg);
  REQUIRE(!no_model);
  CHECK(subject_of(no_model.error()) == "model");
  cfg.model = "m";
  auto ok = openai_embedder::make(nullptr, cfg);
  REQUIRE(ok);
  CHECK((*ok)->model() == "m");
  CHECK(static_cast<openai_embedder&>(**ok).endpoint() == "http://localhost:8080/v1/embeddings");
}

TEST_CASE_METHOD(fixture, "OpenAI embedder sends model and key, orders by index",
                 "[embedding][openai]") {
  auto e = openai("", "sk-test");
  CHECK(e->model() == "BAAI/bge-base-en-v1.5");
  auto res = run(*e, {"abc", "de", "f"});
  REQUIRE(res);
  CHECK(*res == std::vector<vector>{{1, 3}, {2, 2}, {3, 1}});
  CHECK(e->dimension() == 2);
  std::lock_guard<std::mutex> guard{backends.mtx};
  CHECK(backends.last_path == "/v1/embeddings");
  CHECK(backends.last_body ==
        json{{"input", {"abc", "de", "f"}}, {"model", "BAAI/bge-base-en-v1.5"}});
  CHECK(backends.last_auth == "Bearer sk-test");
}

TEST_CASE_METHOD(fixture, "OpenAI embedder without key sends no Authorization",
                 "[embedding][openai]") {
  auto res = run(*openai(), {"x"});
  REQUIRE(res);
  std::lock_guard<std::mutex> guard{backends.mtx};
  CHECK(backends.last_auth.empty());
}

TEST_CASE_METHOD(fixture, "OpenAI embedder errors name the URL and the cause",
                 "[embedding][openai]") {
  require_error(run(*openai("/401", "bad"), {"x"}), errc::http_status,
                backends.base + "/401/v1/embeddings", "HTTP 401: ");
  require_error(run(*openai("/count"), {"x", "y"}), errc::bad_response,
                backends.base + "/count/v1/embeddings", "expected 2 embeddings, got 1");
  require_error(run(*openai("/dupindex"), {"x", "y"}), errc::bad_response,
                backends.base + "/dupindex/v1/embeddings", "data[1].index 0 is repeated");
  require_error(run(*openai("/strings"), {"x"}), errc::bad_response,
                backends.base + "/strings/v1/embeddings",
                "data[0].embedding must be a non-empty list of numbers, got string");
  // A TEI server has no /v1/embeddings under /500: the 404 is reported.
  require_error(run(*openai("/500"), {"x"}), errc::http_status,
                backends.base + "/500/v1/embeddings", "HTTP 404");
}
