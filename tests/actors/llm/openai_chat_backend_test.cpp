#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <mutex>

#include "actors/llm/openai_chat_backend.hpp"
#include "runtime/errors.hpp"
#include "tests/actors/llm/llm_support.hpp"

using namespace opea::actors;
using namespace opea::actors::test;
using opea::runtime::errc;
using json = nlohmann::json;
namespace http = opea::runtime::http;

namespace {

std::shared_ptr<const openai_chat_backend> make_backend(const std::string& base,
                                                        std::shared_ptr<http::client> client) {
  openai_chat_config cfg;
  cfg.url = base;
  cfg.model = "fake-model";
  cfg.api_key = "sk-test";
  auto b = openai_chat_backend::make(cfg, std::move(client));
  REQUIRE(b);
  return *b;
}

chat_request hello_request() {
  chat_request req;
  req.messages = json::array({json{{"role", "user"}, {"content", "Say hello"}}});
  req.max_tokens = 16;
  req.sampling.temperature = 0.5;
  return req;
}

caf::expected<chat_result> run_complete(const openai_chat_backend& b, chat_request req) {
  std::promise<caf::expected<chat_result>> p;
  b.complete(std::move(req), [&](caf::expected<chat_result> r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

/// Runs a stream; returns the pieces (in order) and the result.
std::pair<std::vector<std::string>, caf::expected<chat_result>> run_stream(
    const openai_chat_backend& b, chat_request req) {
  auto pieces = std::make_shared<std::vector<std::string>>();
  std::promise<caf::expected<chat_result>> p;
  b.stream(
      std::move(req), [pieces](std::string s) { pieces->push_back(std::move(s)); },
      [&](caf::expected<chat_result> r) { p.set_value(std::move(r)); });
  auto res = p.get_future().get();
  return {*pieces, std::move(res)};
}

const char* completion_body = R"({
  "id": "chatcmpl-9", "object": "chat.completion", "model": "fake-model",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there."},
               "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}})";

}  // namespace

TEST_CASE("the endpoint is {url}/v1/chat/completions", "[llm][openai]") {
  auto client = std::make_shared<http::client>();
  for (auto [base, endpoint] : std::vector<std::pair<std::string, std::string>>{
           {"http://vllm:8000", "http://vllm:8000/v1/chat/completions"},
           {"http://vllm:8000/", "http://vllm:8000/v1/chat/completions"},
           {"http://vllm:8000/v1", "http://vllm:8000/v1/chat/completions"},
           {"http://h/v1/chat/completions", "http://h/v1/chat/completions"}}) {
    openai_chat_config cfg;
    cfg.url = base;
    auto b = openai_chat_backend::make(cfg, client);
    REQUIRE(b);
    CHECK((*b)->endpoint() == endpoint);
  }
  openai_chat_config bad;
  bad.url = "https://api.openai.com";
  auto b = openai_chat_backend::make(bad, client);
  REQUIRE_FALSE(b);
  REQUIRE(opea::runtime::code_of(b.error()) == errc::bad_request);
  REQUIRE(opea::runtime::subject_of(b.error()) == "params.url");
}

TEST_CASE("a non-streaming completion is parsed with its usage", "[llm][openai]") {
  fake_openai_server srv{[](const json&, std::shared_ptr<http::response_writer> w) {
    w->reply(200, "application/json", completion_body);
  }};
  auto client = std::make_shared<http::client>();
  auto b = make_backend(srv.base, client);
  auto res = run_complete(*b, hello_request());
  REQUIRE(res);
  CHECK(res->text == "Hello there.");
  CHECK(res->model == "fake-model");
  CHECK(res->finish_reason == "stop");
  CHECK(res->usage.reported);
  CHECK(res->usage.prompt_tokens == 9);
  CHECK(res->usage.completion_tokens == 3);
  CHECK(res->usage.total_tokens == 12);
  auto seen = srv.seen();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].authorization == "Bearer sk-test");
  CHECK(seen[0].body == json{{"model", "fake-model"},
                             {"messages", {{{"role", "user"}, {"content", "Say hello"}}}},
                             {"max_tokens", 16},
                             {"temperature", 0.5},
                             {"stream", false}});
}

TEST_CASE("a streamed completion forwards each delta as it arrives", "[llm][openai]") {
  fake_openai_server srv{[](const json&, std::shared_ptr<http::response_writer> w) {
    w->begin_stream(200, "text/event-stream");
    w->write_chunk(": keep-alive\n\n");
    w->write_chunk(R"(data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]})"
                   "\n\n");
    auto e1 = delta_event("Hel");
    w->write_chunk(e1.substr(0, 10));  // An event split across chunks.
    w->write_chunk(e1.substr(10));
    w->write_chunk(delta_event("lo") + delta_event(" wor"));  // Two events in one chunk.
    w->write_chunk(delta_event(""));                          // Empty content: not forwarded.
    w->write_chunk(delta_event("ld"));
    w->write_chunk(
        R"(data: {"model":"fake-model","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],)"
        R"("usage":{"prompt_tokens":4,"completion_tokens":4,"total_tokens":8}})"
        "\n\n");
    w->write_chunk("data: [DONE]\n\n");
    w->end_stream();
  }};
  auto client = std::make_shared<http::client>();
  auto b = make_backend(srv.base, client);
  auto [pieces, res] = run_stream(*b, hello_request());
  REQUIRE(res);
  CHECK(pieces == std::vector<std::string>{"Hel", "lo", " wor", "ld"});
  CHECK(res->text == "Hello world");
  CHECK(res->model == "fake-model");
  CHECK(res->finish_reason == "stop");
  CHECK(res->usage.total_tokens == 8);
  auto seen = srv.seen();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].body.at("stream") == true);
}

// Streamed requests get chunked bodies here: runtime::http::client cannot
// stream a Content-Length body yet (Boost 1.74's parser rejects any body when
// the stream's body_limit is boost::none; see the llm report).
TEST_CASE("a server that ignores stream:true still yields its answer", "[llm][openai]") {
  fake_openai_server srv{[](const json&, std::shared_ptr<http::response_writer> w) {
    w->begin_stream(200, "application/json");
    w->write_chunk(completion_body);
    w->end_stream();
  }};
  auto client = std::make_shared<http::client>();
  auto [pieces, res] = run_stream(*make_backend(srv.base, client), hello_request());
  REQUIRE(res);
  CHECK(pieces == std::vector<std::string>{"Hello there."});
  CHECK(res->usage.total_tokens == 12);
}

TEST_CASE("backend errors name the service and the cause", "[llm][openai]") {
  fake_openai_server srv{[](const json& body, std::shared_ptr<http::response_writer> w) {
    auto content = body.at("messages")[0].at("content").get<std::string>();
    if (content == "status") {
      w->reply(404, "application/json",
               R"({"object":"error","message":"The model `x` does not exist.","code":404})");
    } else if (content == "garbage") {
      w->reply(200, "application/json", "not json");
    } else if (content == "no content") {
      w->reply(200, "application/json", R"({"choices":[{"message":{"content":null}}]})");
    } else if (content == "error event") {
      w->begin_stream(200, "text/event-stream");
      w->write_chunk(delta_event("partial"));
      w->write_chunk(R"(data: {"error":{"message":"out of memory","code":500}})"
                     "\n\n");
      w->write_chunk(delta_event("ignored"));
      w->end_stream();
    } else if (content == "typed error event") {
      w->begin_stream(200, "text/event-stream");
      w->write_chunk("event: error\ndata: overloaded\n\n");
      w->end_stream();
    } else if (content == "bad event") {
      w->begin_stream(200, "text/event-stream");
      w->write_chunk("data: {nope\n\n");
      w->end_stream();
    } else if (body.value("stream", false)) {
      w->begin_stream(500, "application/json");
      w->write_chunk(R"({"error":{"message":"boom","type":"server"}})");
      w->end_stream();
    } else {
      w->reply(500, "application/json", R"({"error":{"message":"boom","type":"server"}})");
    }
  }};
  auto client = std::make_shared<http::client>();
  auto b = make_backend(srv.base, client);
  auto ask = [](std::string content) {
    chat_request req;
    req.messages = json::array({json{{"role", "user"}, {"content", std::move(content)}}});
    return req;
  };
  const auto url = srv.base + "/v1/chat/completions";

  auto status = run_complete(*b, ask("status"));
  REQUIRE_FALSE(status);
  CHECK(opea::runtime::code_of(status.error()) == errc::http_status);
  CHECK(opea::runtime::describe(status.error()) ==
        "service 'llm': HTTP 404 from " + url + ": The model `x` does not exist.");

  auto garbage = run_complete(*b, ask("garbage"));
  REQUIRE_FALSE(garbage);
  CHECK(opea::runtime::code_of(garbage.error()) == errc::bad_response);
  CHECK(opea::runtime::detail_of(garbage.error()) ==
        "response of " + url + " is not a JSON object: not json");

  auto none = run_complete(*b, ask("no content"));
  REQUIRE_FALSE(none);
  CHECK(opea::runtime::code_of(none.error()) == errc::bad_response);

  auto plain_status = run_complete(*b, ask("boom"));
  REQUIRE_FALSE(plain_status);
  CHECK(opea::runtime::detail_of(plain_status.error()) == "HTTP 500 from " + url + ": boom");

  auto streamed_status = run_stream(*b, ask("boom"));
  REQUIRE_FALSE(streamed_status.second);
  CHECK(opea::runtime::code_of(streamed_status.second.error()) == errc::http_status);
  CHECK(opea::runtime::detail_of(streamed_status.second.error()) ==
        "HTTP 500 from " + url + ": boom");
  CHECK(streamed_status.first.empty());

  auto ev = run_stream(*b, ask("error event"));
  REQUIRE_FALSE(ev.second);
  CHECK(opea::runtime::code_of(ev.second.error()) == errc::service_failed);
  CHECK(opea::runtime::detail_of(ev.second.error()) == url + " streamed an error: out of memory");
  CHECK(ev.first == std::vector<std::string>{"partial"});

  auto typed = run_stream(*b, ask("typed error event"));
  REQUIRE_FALSE(typed.second);
  CHECK(opea::runtime::detail_of(typed.second.error()) == url + " streamed an error: overloaded");

  auto bad_event = run_stream(*b, ask("bad event"));
  REQUIRE_FALSE(bad_event.second);
  CHECK(opea::runtime::code_of(bad_event.second.error()) == errc::bad_response);

  openai_chat_config refused;
  refused.url = "http://127.0.0.1:1";
  auto dead = openai_chat_backend::make(refused, client);
  REQUIRE(dead);
  auto conn = run_complete(**dead, ask("x"));
  REQUIRE_FALSE(conn);
  CHECK(opea::runtime::code_of(conn.error()) == errc::http_connect);
  CHECK(opea::runtime::subject_of(conn.error()) == "llm");
}

TEST_CASE("cancelling a stream stops forwarding and completes it at once", "[llm][openai]") {
  std::promise<std::shared_ptr<http::response_writer>> writer;
  fake_openai_server srv{[&](const json&, std::shared_ptr<http::response_writer> w) {
    w->begin_stream(200, "text/event-stream");
    w->write_chunk(delta_event("first"));
    writer.set_value(std::move(w));
  }};
  auto client = std::make_shared<http::client>();
  auto b = make_backend(srv.base, client);
  std::promise<void> got_first;
  std::mutex mtx;
  std::vector<std::string> pieces;
  std::promise<caf::expected<chat_result>> done;
  int done_calls = 0;
  auto s = b->stream(
      hello_request(),
      [&](std::string piece) {
        std::lock_guard<std::mutex> guard{mtx};
        pieces.push_back(piece);
        if (pieces.size() == 1) got_first.set_value();
      },
      [&](caf::expected<chat_result> r) {
        ++done_calls;
        done.set_value(std::move(r));
      });
  got_first.get_future().get();
  s->cancel();
  auto res = done.get_future().get();
  REQUIRE_FALSE(res);
  CHECK(opea::runtime::code_of(res.error()) == errc::cancelled);
  CHECK(opea::runtime::detail_of(res.error()) == "cancelled by client");
  CHECK(s->cancelled());
  s->cancel();  // Idempotent.
  auto w = writer.get_future().get();
  w->write_chunk(delta_event("second"));
  w->end_stream();
  b.reset();
  client.reset();  // Joins the I/O thread: every callback has run.
  CHECK(done_calls == 1);
  std::lock_guard<std::mutex> guard{mtx};
  CHECK(pieces == std::vector<std::string>{"first"});
}

namespace {

/// Upper bound of the waits below; each ends as soon as its event happens.
constexpr std::chrono::seconds patience{10};

/// A fake server whose streams send `first` and then hold the connection
/// until the client leaves; `closed` is set when it does. Non-streaming
/// requests get `completion_body`.
struct holding_openai_server {
  explicit holding_openai_server(std::string first)
      : srv{[this, first](const json& body, std::shared_ptr<http::response_writer> w) {
          if (!body.value("stream", false)) {
            w->reply(200, "application/json", completion_body);
            return;
          }
          w->on_close([this] { closed.set_value(); });
          w->begin_stream(200, "text/event-stream");
          w->write_chunk(first);
          writer.set_value(std::move(w));
        }} {}

  std::promise<void> closed;
  std::promise<std::shared_ptr<http::response_writer>> writer;
  fake_openai_server srv;
};

}  // namespace

TEST_CASE("cancelling a stream closes the upstream connection at once", "[llm][openai][abort]") {
  holding_openai_server upstream{delta_event("first")};
  auto closed = upstream.closed.get_future();
  auto writer = upstream.writer.get_future();
  auto client = std::make_shared<http::client>();
  auto b = make_backend(upstream.srv.base, client);
  std::promise<void> got_first;
  auto first = got_first.get_future();
  std::promise<caf::expected<chat_result>> done;
  auto result = done.get_future();
  auto s = b->stream(
      hello_request(), [&](std::string) { got_first.set_value(); },
      [&](caf::expected<chat_result> r) { done.set_value(std::move(r)); });
  REQUIRE(first.wait_for(patience) == std::future_status::ready);

  s->cancel();
  REQUIRE(result.wait_for(patience) == std::future_status::ready);
  auto res = result.get();
  REQUIRE_FALSE(res);
  CHECK(opea::runtime::code_of(res.error()) == errc::cancelled);
  CHECK(opea::runtime::detail_of(res.error()) == "cancelled by client");
  // The model server sees the disconnect well before any stream timeout.
  REQUIRE(closed.wait_for(patience) == std::future_status::ready);
  REQUIRE(writer.wait_for(patience) == std::future_status::ready);
  CHECK(writer.get()->closed());

  // The aborted connection is not reused; the next call opens a new one.
  auto next = run_complete(*b, hello_request());
  REQUIRE(next);
  CHECK(next->text == "Hello there.");
  CHECK(client->connections_opened() == 2);
}

TEST_CASE("a stream that fails mid-way closes the upstream connection", "[llm][openai][abort]") {
  holding_openai_server upstream{R"(data: {"error":{"message":"out of memory","code":500}})"
                                 "\n\n"};
  auto closed = upstream.closed.get_future();
  auto client = std::make_shared<http::client>();
  auto b = make_backend(upstream.srv.base, client);
  std::promise<caf::expected<chat_result>> done;
  auto result = done.get_future();
  b->stream(
      hello_request(), [](std::string) {},
      [&](caf::expected<chat_result> r) { done.set_value(std::move(r)); });
  REQUIRE(result.wait_for(patience) == std::future_status::ready);
  auto res = result.get();
  REQUIRE_FALSE(res);
  CHECK(opea::runtime::code_of(res.error()) == errc::service_failed);
  CHECK(opea::runtime::detail_of(res.error()) ==
        upstream.srv.base + "/v1/chat/completions streamed an error: out of memory");
  REQUIRE(closed.wait_for(patience) == std::future_status::ready);
}
