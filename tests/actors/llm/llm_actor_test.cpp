#include <catch2/catch.hpp>

#include <future>

#include <caf/all.hpp>

#include "actors/llm/llm_actor.hpp"
#include "monitoring/metrics_registry.hpp"
#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "runtime/text/text.hpp"
#include "tests/actors/llm/llm_support.hpp"

using namespace opea::actors;
using namespace opea::actors::test;
using namespace opea::runtime;
using json = nlohmann::json;

namespace {

struct fixture {
  caf::actor_system_config cfg;
  // Declared before the actor system: outlives every actor that counts in it.
  opea::monitoring::metrics_registry metrics{"test"};
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<http::client> client = std::make_shared<http::client>();
  fixture() {
    cfg.set("scheduler.max-threads", 2);
    cfg.set("logger.console", caf::atom("none"));
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  /// A megaservice whose only service is the built-in llm with `params`.
  std::unique_ptr<megaservice> llm_megaservice(const json& params) {
    service_catalog catalog;
    register_llm_builtins(catalog, client);
    auto svc = catalog.instantiate("llm", "llm", params);
    REQUIRE(svc);
    service_orchestrator o;
    o.add(std::move(*svc));
    return std::make_unique<megaservice>(*sys, o, megaservice_options{"chatqna"}, metrics);
  }
};

const json rag_input{
    {"query", "How many crashes make the supervisor mark a service failed?"},
    {"documents",
     {{{"text",
        "The supervisor restarts a crashed service actor. A service that crashes more than 5 "
        "times in 10 seconds is marked failed."},
       {"metadata", {{"source", "supervision.md"}}}},
      "Deadlines bound every request."}},
    {"max_tokens", 1024}};

const std::string rag_answer =
    "The supervisor restarts a crashed service actor. [1] A service that crashes more than 5 times "
    "in 10 seconds is marked failed. [1]\n\nSources: [1] supervision.md";

/// Runs `input` with a sink; the reply (or error) is noted in the sink's
/// record when the flow finishes, so the record shows the order of events.
caf::expected<flow_result> run_streamed(const megaservice& m, json input,
                                        std::shared_ptr<recording_sink> sink) {
  request_context ctx;
  ctx.sink = sink;
  std::promise<caf::expected<flow_result>> p;
  m.async_schedule(std::move(input), ctx, [&p, sink](caf::expected<flow_result> r) {
    sink->note(r ? "reply" : "error");
    p.set_value(std::move(r));
  });
  return p.get_future().get();
}

std::string concat(const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& p : pieces) out += p;
  return out;
}

}  // namespace

TEST_CASE("llm input follows OPEA's LLMParamsDoc", "[llm][actor]") {
  auto in = read_llm_params(rag_input);
  REQUIRE(in);
  CHECK(in->query == "How many crashes make the supervisor mark a service failed?");
  REQUIRE(in->documents.size() == 2);
  CHECK(in->documents[0].source == "supervision.md");
  CHECK(in->documents[1].source == "document 2");
  CHECK(in->stream);  // OPEA's default.
  CHECK(*in->max_tokens == 1024);

  auto legacy = read_llm_params({{"query", "q"}, {"streaming", false}});
  REQUIRE(legacy);
  CHECK_FALSE(legacy->stream);

  auto chat = read_llm_params(
      {{"messages",
        {{{"role", "system"}, {"content", "be brief"}}, {{"role", "user"}, {"content", "hi"}}}}});
  REQUIRE(chat);
  CHECK(chat->query == "hi");
  CHECK(chat->messages.size() == 2);

  auto searched =
      read_llm_params({{"initial_query", "q"},
                       {"retrieved_docs", {{{"text", "t"}, {"metadata", {{"source", "s.md"}}}}}}});
  REQUIRE(searched);
  CHECK(searched->query == "q");
  CHECK(searched->documents[0].source == "s.md");

  // The rerank service's output: bare texts plus the documents with metadata.
  auto reranked = read_llm_params(
      {{"query", "q"},
       {"documents", {"t1"}},
       {"reranked_docs", {{{"text", "t1"}, {"metadata", {{"source", "a.md"}}}, {"score", 0.9}}}}});
  REQUIRE(reranked);
  REQUIRE(reranked->documents.size() == 1);
  CHECK(reranked->documents[0].text == "t1");
  CHECK(reranked->documents[0].source == "a.md");

  auto bad = [](const json& j) {
    auto r = read_llm_params(j);
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == errc::bad_request);
    return subject_of(r.error());
  };
  CHECK(bad(json::array()) == "input");
  CHECK(bad({{"text", "q"}}) == "query");
  CHECK(bad({{"query", 3}}) == "query");
  CHECK(bad({{"query", "q"}, {"documents", {1}}}) == "documents[0]");
  CHECK(bad({{"query", "q"}, {"documents", {{{"title", "t"}}}}}) == "documents[0]");
  CHECK(bad({{"query", "q"}, {"max_tokens", 0}}) == "max_tokens");
  CHECK(bad({{"query", "q"}, {"temperature", "hot"}}) == "temperature");
  CHECK(bad({{"query", "q"}, {"stream", "yes"}}) == "stream");
  CHECK(bad({{"messages", {{{"content", "x"}}}}}) == "messages[0]");
}

TEST_CASE_METHOD(fixture, "the extractive llm answers with OPEA's GeneratedDoc", "[llm][actor]") {
  auto m = llm_megaservice(json::object());
  auto in = rag_input;
  in["stream"] = false;
  auto res = m->schedule(in);
  REQUIRE(res);
  CHECK(*res->output ==
        json{{"text", rag_answer},
             {"prompt", "How many crashes make the supervisor mark a service failed?"},
             {"model", "opea-extractive-answerer"},
             {"usage",
              {{"prompt_tokens", 10 + 21 + 4}, {"completion_tokens", 26}, {"total_tokens", 61}}}});
}

TEST_CASE_METHOD(fixture, "the extractive llm streams word by word before it replies",
                 "[llm][actor]") {
  auto m = llm_megaservice(json::object());
  auto sink = std::make_shared<recording_sink>();
  auto res = run_streamed(*m, rag_input, sink);
  REQUIRE(res);
  auto text = res->output->at("text").get<std::string>();
  CHECK(text == rag_answer);
  auto pieces = sink->pieces();
  CHECK(concat(pieces) == text);
  CHECK(pieces.size() == opea::text::count_words(text));
  CHECK(pieces[0] == "The ");
  auto record = sink->record();
  REQUIRE(record.size() == pieces.size() + 1);
  CHECK(record.front() == "piece:The ");
  CHECK(record.back() == "reply");
}

TEST_CASE_METHOD(fixture, "a cancelled sink stops the extractive stream", "[llm][actor]") {
  auto m = llm_megaservice(json::object());
  auto sink = std::make_shared<recording_sink>();
  sink->cancel_after = 3;
  auto res = run_streamed(*m, rag_input, sink);
  REQUIRE_FALSE(res);
  CHECK(code_of(res.error()) == errc::cancelled);
  // The client leaving ends the flow at once (before the LLM's own answer).
  CHECK(detail_of(res.error()) ==
        "the request was cancelled (its client went away) before it finished");
  CHECK(sink->pieces() == std::vector<std::string>{"The ", "supervisor ", "restarts "});
}

TEST_CASE_METHOD(fixture, "max_tokens of the service bounds the request's", "[llm][actor]") {
  auto m = llm_megaservice({{"max_tokens", 5}});
  auto in = rag_input;
  in["stream"] = false;
  auto res = m->schedule(in);
  REQUIRE(res);
  CHECK(res->output->at("text") ==
        "A service that crashes more... [1]\n\nSources: [1] supervision.md");
  auto none = m->schedule({{"query", "anything"}, {"stream", false}});
  REQUIRE(none);
  CHECK(none->output->at("text") == extractive_answerer::no_documents_answer());
}

TEST_CASE_METHOD(fixture, "the openai llm sends OPEA's RAG prompt and streams the deltas",
                 "[llm][actor]") {
  fake_openai_server srv{[](const json& body, std::shared_ptr<http::response_writer> w) {
    if (body.value("stream", false)) {
      w->begin_stream(200, "text/event-stream");
      for (auto piece : {"Five", " crashes", " in", " ten", " seconds."})
        w->write_chunk(delta_event(piece));
      w->write_chunk("data: [DONE]\n\n");
      w->end_stream();
    } else {
      w->reply(200, "application/json",
               R"({"model":"served","choices":[{"message":{"content":"Five crashes."}}],)"
               R"("usage":{"prompt_tokens":50,"completion_tokens":3,"total_tokens":53}})");
    }
  }};
  auto m = llm_megaservice(
      {{"backend", "openai"}, {"url", srv.base}, {"model", "m1"}, {"api_key", "k"}});

  auto sink = std::make_shared<recording_sink>();
  auto res = run_streamed(*m, rag_input, sink);
  REQUIRE(res);
  CHECK(sink->pieces() == std::vector<std::string>{"Five", " crashes", " in", " ten", " seconds."});
  CHECK(sink->record().back() == "reply");
  CHECK(res->output->at("text") == "Five crashes in ten seconds.");
  CHECK(res->output->at("model") == "fake-model");  // As the server names it.
  CHECK(res->output->at("prompt") == "How many crashes make the supervisor mark a service failed?");

  auto in = rag_input;
  in["stream"] = false;
  auto plain = m->schedule(in);
  REQUIRE(plain);
  CHECK(*plain->output ==
        json{{"text", "Five crashes."},
             {"prompt", "How many crashes make the supervisor mark a service failed?"},
             {"model", "served"},
             {"usage", {{"prompt_tokens", 50}, {"completion_tokens", 3}, {"total_tokens", 53}}}});

  auto seen = srv.seen();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].authorization == "Bearer k");
  auto expected_prompt =
      "\n### You are a helpful, respectful and honest assistant to help the user with questions. "
      "Please refer to the search results obtained from the local knowledge base. But be careful "
      "to not incorporate the information that you think is not relevant to the question. If you "
      "don't know the answer to a question, please don't share false information. \n\n"
      "### Search results: The supervisor restarts a crashed service actor. A service that crashes "
      "more than 5 times in 10 seconds is marked failed.\nDeadlines bound every request. \n\n"
      "### Question: How many crashes make the supervisor mark a service failed? \n\n### Answer:\n";
  CHECK(seen[1].body == json{{"model", "m1"},
                             {"messages", {{{"role", "user"}, {"content", expected_prompt}}}},
                             {"max_tokens", 1024},
                             {"stream", false}});
}

TEST_CASE_METHOD(fixture, "a cancelled sink closes the openai upstream connection",
                 "[llm][actor][abort]") {
  std::promise<void> closed;
  auto upstream_closed = closed.get_future();
  std::promise<std::shared_ptr<http::response_writer>> held;
  fake_openai_server srv{[&](const json&, std::shared_ptr<http::response_writer> w) {
    w->on_close([&closed] { closed.set_value(); });
    w->begin_stream(200, "text/event-stream");
    w->write_chunk(delta_event("Five"));
    held.set_value(std::move(w));  // The model "keeps generating" until the client leaves.
  }};
  auto m = llm_megaservice({{"backend", "openai"}, {"url", srv.base}});
  auto sink = std::make_shared<recording_sink>();
  sink->cancel_after = 1;  // The downstream client leaves after the first piece.
  auto res = run_streamed(*m, rag_input, sink);
  REQUIRE_FALSE(res);
  CHECK(code_of(res.error()) == errc::cancelled);
  CHECK(sink->pieces() == std::vector<std::string>{"Five"});
  REQUIRE(upstream_closed.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
}

TEST_CASE_METHOD(fixture, "llm built-in parameters are validated", "[llm][actor]") {
  service_catalog catalog;
  register_llm_builtins(catalog, client);
  REQUIRE(catalog.find("llm") != nullptr);
  CHECK(catalog.find("llm")->type == service_type::llm);
  auto err = [&](const json& params) {
    auto r = catalog.instantiate("llm", "llm", params);
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == errc::bad_request);
    return subject_of(r.error());
  };
  CHECK(err({{"backend", "gpt"}}) == "params.backend");
  CHECK(err({{"backend", "openai"}}) == "params.url");
  CHECK(err({{"backend", "openai"}, {"url", "ftp://x"}}) == "params.url");
  CHECK(err({{"backend", "openai"}, {"url", "http://x"}, {"timeout_ms", -1}}) ==
        "params.timeout_ms");
  CHECK(err({{"max_tokens", "many"}}) == "params.max_tokens");
  CHECK(err({{"url", "http://x"}}) == "params.url");
  CHECK(err({{"temprature", 1}}) == "params.temprature");
  auto ok = catalog.instantiate("llm", "llm", {{"backend", "openai"}, {"url", "http://vllm:8000"}});
  REQUIRE(ok);
  CHECK(ok->name == "llm");
  CHECK(ok->type == service_type::llm);
}
