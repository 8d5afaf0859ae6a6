// OPEA's megaservice metrics on a real ChatQnA node, exact values: streamed
// and JSON answers are timed, first and inter-token latencies counted per
// streamed piece, clients that leave neither timed nor left pending.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "runtime/http/server.hpp"
#include "tests/integration/cluster_fixture.hpp"
#include "tests/integration/holding_upstream.hpp"
#include "tests/support/chatqna_config.hpp"

using namespace opea::itest;

namespace {

namespace net = boost::asio;
using opea::runtime::http::response_writer;

json chunk(const std::string& content) {
  return json{{"id", "m1"},
              {"object", "chat.completion.chunk"},
              {"created", 1},
              {"model", "m"},
              {"choices", {{{"index", 0}, {"delta", {{"content", content}}}}}}};
}

/// An OpenAI-compatible model server in this process: a request whose last
/// message says "hold" is held unanswered; others get "One two three." as
/// three streamed deltas or as one completion.
bool answer(const opea::runtime::http::request& req, response_writer& out) {
  auto body = json::parse(req.body, nullptr, false);
  if (!body.is_object() || body.dump().find("hold") != std::string::npos) return false;
  if (body.value("stream", false)) {
    out.begin_stream(200, "text/event-stream");
    for (const char* piece : {"One ", "two ", "three."})
      out.write_chunk("data: " + chunk(piece).dump() + "\n\n");
    out.write_chunk("data: [DONE]\n\n");
    out.end_stream();
    return true;
  }
  out.reply_json(
      200, json{{"id", "m1"},
                {"object", "chat.completion"},
                {"created", 1},
                {"model", "m"},
                {"choices",
                 {{{"index", 0},
                   {"message", {{"role", "assistant"}, {"content", "One two three."}}},
                   {"finish_reason", "stop"}}}},
                {"usage", {{"prompt_tokens", 1}, {"completion_tokens", 3}, {"total_tokens", 4}}}});
  return true;
}

}  // namespace

TEST_CASE("OPEA's megaservice metrics count streamed, JSON and abandoned requests exactly",
          "[integration][metrics]") {
  holding_upstream model{"/v1/chat/completions", {}, answer};
  REQUIRE(model.port != 0);
  node_process node{opea::test::chatqna_config{}
                        .merge("node: {name: mm, log_level: debug}\ndataprep: {corpus: null}")
                        .set("services.llm",
                             "{builtin: llm, params: {backend: openai, model: m, url: "
                             "\"http://127.0.0.1:" +
                                 std::to_string(model.port) + "\"}}")
                        .yaml()};
  const std::string route = node.url("/v1/chatqna");
  // OPEA's statistics: every megaservice and service, null until observed.
  auto stats = body_of(call("GET", node.url("/v1/statistics")));
  const json empty{{"p50_latency", nullptr},
                   {"p99_latency", nullptr},
                   {"average_latency", nullptr},
                   {"p50_latency_first_token", nullptr},
                   {"p99_latency_first_token", nullptr},
                   {"average_latency_first_token", nullptr}};
  REQUIRE(stats["chatqna"] == empty);
  REQUIRE(stats["chatqna/llm"] == empty);
  // Registered at start: present before any request.
  auto before = call("GET", node.url("/metrics")).body;
  const std::string labels = R"({node="mm",megaservice="chatqna"})";
  REQUIRE(metric_value(before, "megaservice_request_pending" + labels) == 0);
  REQUIRE(metric_value(before, "megaservice_request_latency_count" + labels) == 0);
  REQUIRE(metric_value(before, "megaservice_first_token_latency_count" + labels) == 0);
  REQUIRE(metric_value(before, "megaservice_inter_token_latency_count" + labels) == 0);

  const int streamed = 3, plain = 2, abandoned = 4;
  for (int i = 0; i < streamed; ++i) {
    auto r = post(route, {{"messages", "What is a bulkhead?"}, {"stream", true}});
    REQUIRE(r.status == 200);
    REQUIRE_THAT(r.body, Catch::Contains("three.") && Catch::Contains("[DONE]"));
  }
  for (int i = 0; i < plain; ++i) {
    auto r = post(route, {{"messages", "What is a bulkhead?"}, {"stream", false}});
    REQUIRE(r.status == 200);
    REQUIRE_THAT(r.body, Catch::Contains("One two three."));
  }
  // Clients that leave before the first token: the model holds their
  // requests, they close, the node cancels the upstream calls.
  {
    net::io_context ioc;
    auto socks = raw_posts(ioc, node.port, "/v1/chatqna",
                           R"({"messages": "hold on", "stream": true})", abandoned);
    REQUIRE(model.opened(abandoned, 10s));
    for (auto& s : socks) s.close();
    REQUIRE(model.closed(abandoned, 5s));
  }
  wait_requests_done(*node.proc, "chatqna", abandoned, 499);
  wait_requests_done(*node.proc, "chatqna", streamed + plain, 200);

  auto m = call("GET", node.url("/metrics")).body;
  INFO(m);
  CHECK(metric_value(m, "megaservice_request_pending" + labels) == 0);
  // Every answered request is timed, JSON or streamed; the abandoned ones not.
  CHECK(metric_value(m, "megaservice_request_latency_count" + labels) == streamed + plain);
  // One first token per streamed answer; the pieces after it, two per answer.
  CHECK(metric_value(m, "megaservice_first_token_latency_count" + labels) == streamed);
  CHECK(metric_value(m, "megaservice_inter_token_latency_count" + labels) == 2 * streamed);
  CHECK(metric_value(
            m, R"(opea_megaservice_requests_total{node="mm",code="200",megaservice="chatqna"})") ==
        streamed + plain);
  CHECK(metric_value(
            m, R"(opea_megaservice_requests_total{node="mm",code="499",megaservice="chatqna"})") ==
        abandoned);
  // Every request searched the index once (the abandoned ones got past
  // retrieval before they were held at the model); the retriever actor
  // handled one message per call; no actor has a message waiting.
  CHECK(metric_value(m, R"(opea_index_search_duration_seconds_count{node="mm",index="chatqna"})") ==
        streamed + plain + abandoned);
  CHECK(metric_value(m, R"(opea_actor_messages_total{node="mm",actor="retriever",)"
                        R"(megaservice="chatqna",service="retriever"})") ==
        streamed + plain + abandoned);
  for (size_t pos = 0; (pos = m.find("\nopea_actor_mailbox_depth{", pos)) != std::string::npos;
       ++pos) {
    auto line = m.substr(pos + 1, m.find('\n', pos + 1) - pos - 1);
    INFO(line);
    CHECK(line.substr(line.rfind(' ') + 1) == "0");
  }
  // The same requests in OPEA's statistics: the megaservice's latency and
  // first-token latency, each service's call latency.
  stats = body_of(call("GET", node.url("/v1/statistics")));
  INFO(stats.dump());
  const auto& mega = stats["chatqna"];
  for (const char* suffix : {"latency", "latency_first_token"}) {
    auto p50 = std::string{"p50_"} + suffix, p99 = std::string{"p99_"} + suffix;
    REQUIRE(mega[p50].is_number());
    CHECK(mega[p50].get<double>() > 0);
    CHECK(mega[p50].get<double>() <= mega[p99].get<double>());
    CHECK(mega["average_" + std::string{suffix}].is_number());
  }
  CHECK(stats["chatqna/llm"]["p50_latency"].is_number());
  CHECK(stats["chatqna/llm"]["p50_latency_first_token"].is_null());
}
