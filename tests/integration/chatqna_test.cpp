// ChatQnA end to end on a real opea-node process: OPEA's /v1/chatqna and
// OpenAI's /v1/chat/completions, streaming and not, empty retrieval, bad
// input, a client leaving mid-stream, and persistence across kill -9.

#include <condition_variable>
#include <csignal>
#include <mutex>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "tests/integration/cluster_fixture.hpp"
#include "tests/support/chatqna_config.hpp"

using namespace opea::itest;

namespace {

/// examples/chatqna/chatqna.yaml as node "cq", without its corpus when
/// `with_corpus` is false.
opea::test::chatqna_config chatqna(bool with_corpus) {
  opea::test::chatqna_config config;
  config.merge("node: {name: cq, log_level: warn}");
  if (!with_corpus) config.merge("dataprep: {corpus: null}");
  return config;
}

json ask(const node_process& node, const std::string& question) {
  auto r = post(node.url("/v1/chatqna"), {{"messages", question}, {"stream", false}});
  REQUIRE(r.status == 200);
  return body_of(r);
}

/// The data of each event of a `text/event-stream` body, but a final
/// `data: [DONE]`, which sets `done`.
std::vector<std::string> sse_data(const std::string& body, bool& done) {
  std::vector<std::string> events;
  done = false;
  size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    auto end = body.find("\n\n", pos);
    REQUIRE(end != std::string::npos);
    auto data = body.substr(pos + 6, end - pos - 6);
    pos = end + 2;
    if (data == "[DONE]")
      done = true;
    else
      events.push_back(std::move(data));
  }
  return events;
}

/// The pieces of an OPEA stream: each event `data: b'...'` decoded.
std::vector<std::string> opea_pieces(const std::string& body, bool& done) {
  std::vector<std::string> pieces;
  for (const auto& data : sse_data(body, done)) {
    REQUIRE(data.size() >= 3);
    REQUIRE(data[0] == 'b');
    std::string out;
    for (size_t i = 2; i + 1 < data.size(); ++i) {
      if (data[i] != '\\') {
        out.push_back(data[i]);
        continue;
      }
      char c = data[++i];
      if (c == 'n')
        out.push_back('\n');
      else if (c == 't')
        out.push_back('\t');
      else if (c == 'r')
        out.push_back('\r');
      else if (c == 'x') {
        out.push_back(static_cast<char>(std::stoi(data.substr(i + 1, 2), nullptr, 16)));
        i += 2;
      } else
        out.push_back(c);
    }
    pieces.push_back(out);
  }
  return pieces;
}

/// The chunks of an OpenAI chat completion stream, each `data:` event parsed.
std::vector<json> openai_chunks(const std::string& body, bool& done) {
  std::vector<json> chunks;
  for (const auto& data : sse_data(body, done)) chunks.push_back(json::parse(data));
  return chunks;
}

/// One turn of OPEA's ChatQnA UI (GenAIExamples ChatQnA/ui/react,
/// doConversation): the whole conversation after the UI's system prompt, the
/// new question last, a `model` and no `stream` (so /v1/chatqna streams).
/// Appends the question and the streamed answer to `conversation` and
/// returns the answer.
std::string ui_turn(const node_process& node, json& conversation, const std::string& question) {
  conversation.push_back({{"role", "user"}, {"content", question}});
  json messages = json::array({{{"role", "system"}, {"content", "You are helpful assistant"}}});
  for (const auto& m : conversation) messages.push_back(m);
  auto r = post(node.url("/v1/chatqna"), {{"messages", messages}, {"model", "Qwen/Qwen2-7B"}});
  INFO(r.body);
  REQUIRE(r.status == 200);
  REQUIRE(r.header("Content-Type") == "text/event-stream");
  bool done = false;
  std::string answer;
  for (auto& piece : opea_pieces(r.body, done)) answer += piece;
  REQUIRE(done);
  conversation.push_back({{"role", "assistant"}, {"content", answer}});
  return answer;
}

}  // namespace

TEST_CASE("ChatQnA answers from the bundled corpus, streamed or not", "[integration][chatqna]") {
  node_process node{chatqna(true).yaml()};
  auto answer = ask(node, "How many restarts does the supervisor allow before a service fails?");
  REQUIRE(answer["object"] == "chat.completion");
  REQUIRE(answer["model"] == "chatqna");
  REQUIRE(answer["choices"][0]["finish_reason"] == "stop");
  REQUIRE(answer["choices"][0]["message"]["role"] == "assistant");
  auto text = answer["choices"][0]["message"]["content"].get<std::string>();
  REQUIRE_THAT(text, Catch::Contains("Sources: [1] "));
  REQUIRE_THAT(text, Catch::Contains("supervision-and-restarts.md"));

  SECTION("absent stream means streaming, in OPEA's event format") {
    auto r =
        post(node.url("/v1/chatqna"),
             {{"messages", "How many restarts does the supervisor allow before a service fails?"}});
    REQUIRE(r.status == 200);
    REQUIRE(r.header("Content-Type") == "text/event-stream");
    bool done = false;
    auto pieces = opea_pieces(r.body, done);
    REQUIRE(done);
    REQUIRE(pieces.size() > 10);
    std::string joined;
    for (auto& p : pieces) joined += p;
    REQUIRE(joined == text);  // the same deterministic answer, word by word
  }
  SECTION("OpenAI's chat completions, streaming chunk by chunk") {
    auto r = post(node.url("/v1/chat/completions"),
                  {{"model", "my-model"},
                   {"stream", true},
                   {"messages", json::array({{{"role", "user"},
                                              {"content",
                                               "How many restarts does the supervisor "
                                               "allow before a service fails?"}}})}});
    REQUIRE(r.status == 200);
    bool done = false;
    auto chunks = openai_chunks(r.body, done);
    REQUIRE(done);
    REQUIRE(chunks.size() > 3);
    for (auto& c : chunks) {
      REQUIRE(c["object"] == "chat.completion.chunk");
      REQUIRE(c["model"] == "my-model");
      REQUIRE(c["id"] == chunks.front()["id"]);
      REQUIRE(c["choices"][0]["index"] == 0);
    }
    REQUIRE(chunks.front()["choices"][0]["delta"] == json{{"role", "assistant"}});
    REQUIRE(chunks.back()["choices"][0]["delta"] == json::object());
    REQUIRE(chunks.back()["choices"][0]["finish_reason"] == "stop");
    std::string joined;
    for (size_t i = 1; i + 1 < chunks.size(); ++i) {
      REQUIRE(chunks[i]["choices"][0]["finish_reason"].is_null());
      joined += chunks[i]["choices"][0]["delta"]["content"].get<std::string>();
    }
    REQUIRE(joined == text);
  }
  SECTION("bad input names the field") {
    auto missing = call("POST", node.url("/v1/chatqna"), R"({"stream": false})");
    REQUIRE(missing.status == 400);
    REQUIRE(body_of(missing)["error"]["message"] == "messages: is required");
    auto role = post(node.url("/v1/chat/completions"),
                     {{"messages", json::array({{{"role", "robot"}, {"content", "x"}}})}});
    REQUIRE(role.status == 400);
    REQUIRE(body_of(role)["error"]["message"] ==
            "messages[0].role: unknown role \"robot\" (expected system, user or assistant)");
    auto type = post(node.url("/v1/chatqna"), {{"messages", "q"}, {"k", "four"}});
    REQUIRE(type.status == 400);
    REQUIRE(body_of(type)["error"]["message"] == "k: must be an integer, got string");
  }
}

TEST_CASE("a question the documents do not answer gets the abstention, streamed or not",
          "[integration][chatqna]") {
  node_process node{chatqna(true).yaml()};
  const std::string abstention = "I could not find this in the documents.";
  for (const char* question :
       {"Who wrote Hamlet?", "Is there a Helm chart for deploying opea-cpp on Kubernetes?"}) {
    INFO(question);
    // OPEA's shape, not streamed.
    auto answer = ask(node, question);
    REQUIRE(answer["object"] == "chat.completion");
    REQUIRE(answer["choices"][0]["finish_reason"] == "stop");
    REQUIRE(answer["choices"][0]["message"] ==
            json{{"role", "assistant"}, {"content", abstention}});
    REQUIRE(answer["usage"]["completion_tokens"].get<int>() > 0);
    // OPEA's stream.
    auto r = post(node.url("/v1/chatqna"), {{"messages", question}});
    REQUIRE(r.status == 200);
    bool done = false;
    auto pieces = opea_pieces(r.body, done);
    REQUIRE(done);
    std::string joined;
    for (auto& p : pieces) joined += p;
    REQUIRE(joined == abstention);
    // OpenAI's, not streamed and streamed.
    json messages = json::array({{{"role", "user"}, {"content", question}}});
    auto plain = post(node.url("/v1/chat/completions"), {{"messages", messages}});
    REQUIRE(plain.status == 200);
    auto body = body_of(plain);
    REQUIRE(body["object"] == "chat.completion");
    REQUIRE(body["choices"][0]["finish_reason"] == "stop");
    REQUIRE(body["choices"][0]["message"]["content"] == abstention);
    auto streamed =
        post(node.url("/v1/chat/completions"), {{"messages", messages}, {"stream", true}});
    REQUIRE(streamed.status == 200);
    auto chunks = openai_chunks(streamed.body, done);
    REQUIRE(done);
    REQUIRE(chunks.size() >= 3);
    REQUIRE(chunks.front()["choices"][0]["delta"] == json{{"role", "assistant"}});
    REQUIRE(chunks.back()["choices"][0]["finish_reason"] == "stop");
    joined.clear();
    for (size_t i = 1; i + 1 < chunks.size(); ++i)
      joined += chunks[i]["choices"][0]["delta"]["content"].get<std::string>();
    REQUIRE(joined == abstention);
  }
  // The threshold is the llm's params key abstain_below; 0 never abstains.
  auto config = chatqna(true);
  config.set("services.llm.params.abstain_below", "0");
  node_process never{config.yaml()};
  auto quoted = ask(never, "Is there a Helm chart for deploying opea-cpp on Kubernetes?");
  REQUIRE_THAT(quoted["choices"][0]["message"]["content"].get<std::string>(),
               Catch::Contains("Sources: [1] "));
}

TEST_CASE("a follow-up question is answered from its own documents, as OPEA's UI sends it",
          "[integration][chatqna]") {
  node_process node{chatqna(true).yaml()};
  json conversation = json::array();
  auto a1 = ui_turn(node, conversation, "How does the supervisor restart a crashed service?");
  REQUIRE_THAT(a1, Catch::Contains("supervision-and-restarts.md"));
  auto a2 = ui_turn(node, conversation, "What does the reranker do?");
  // Retrieval searched with the last question, not the first one's topic.
  REQUIRE_THAT(a2, Catch::Contains("rerank.md"));
  REQUIRE_THAT(a2, Catch::Contains("The reranker is ChatQnA's third stage."));
  REQUIRE_THAT(a2, !Catch::Contains("supervision-and-restarts.md"));
}

TEST_CASE("every subset of the ChatQnA pipeline answers OPEA's UI, follow-ups included",
          "[integration][chatqna]") {
  auto flow = GENERATE(std::string{"[llm]"}, std::string{"[embedding >> retriever >> llm]"},
                       std::string{"[embedding >> retriever >> rerank >> llm, retriever >> llm]"});
  INFO(flow);
  node_process node{chatqna(true).set("megaservices.0.flows", flow).yaml()};
  json conversation = json::array();
  auto a1 = ui_turn(node, conversation, "How does the supervisor restart a crashed service?");
  auto a2 = ui_turn(node, conversation, "What does the reranker do?");
  if (flow == "[llm]") {
    // No retrieval: the extractive LLM has no documents to quote, and says so.
    REQUIRE_THAT(a1, Catch::StartsWith("I found nothing in the indexed documents"));
    REQUIRE_THAT(a2, Catch::StartsWith("I found nothing in the indexed documents"));
  } else {
    REQUIRE_THAT(a1, Catch::Contains("supervision-and-restarts.md"));
    REQUIRE_THAT(a2, Catch::Contains("rerank.md"));
  }
}

TEST_CASE("ChatQnA skips rerank when retrieval finds nothing", "[integration][chatqna]") {
  node_process node{chatqna(false).yaml()};
  auto answer = ask(node, "What is opea-cpp?");
  auto text = answer["choices"][0]["message"]["content"].get<std::string>();
  REQUIRE_FALSE(text.empty());
  auto m = call("GET", node.url("/metrics")).body;
  REQUIRE(
      metric_value(
          m,
          R"(opea_service_requests_total{node="cq",megaservice="chatqna",service="retriever"})") ==
      1);
  REQUIRE(
      metric_value(
          m, R"(opea_service_requests_total{node="cq",megaservice="chatqna",service="rerank"})") ==
      0);
  REQUIRE(metric_value(
              m, R"(opea_service_requests_total{node="cq",megaservice="chatqna",service="llm"})") ==
          1);
}

TEST_CASE("a client leaving mid-stream leaves nothing pending", "[integration][chatqna]") {
  node_process node{chatqna(true).merge("node: {log_level: debug}").yaml()};
  {
    namespace net = boost::asio;
    net::io_context ioc;
    net::ip::tcp::socket sock{ioc};
    sock.connect({net::ip::make_address("127.0.0.1"), node.port});
    std::string body = R"({"messages": "Explain how the flows of a megaservice run"})";
    std::string req =
        "POST /v1/chatqna HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    net::write(sock, net::buffer(req));
    std::string got;
    char buf[256];
    while (got.find("data: ") == std::string::npos) {
      auto n = sock.read_some(net::buffer(buf));
      got.append(buf, n);
    }
  }  // closed after the first event
  // The flow ends (cancelled, or done if the answer was already written)
  // and the gauge is back to 0.
  wait_requests_done(*node.proc, "chatqna", 1);
  auto m = call("GET", node.url("/metrics")).body;
  REQUIRE(metric_value(m, R"(megaservice_request_pending{node="cq",megaservice="chatqna"})") == 0);
}

TEST_CASE("tokens reach the client while the model is still generating", "[integration][chatqna]") {
  // A model server in this process that sends its first token, then holds
  // the rest back until the test has seen that token at the ChatQnA client.
  // A node that buffered anything would never show it: the read below would
  // wait on a stream the model has not finished.
  std::mutex mu;
  std::condition_variable cv;
  std::shared_ptr<opea::runtime::http::response_writer> held;
  auto chunk = [](const std::string& content) {
    json c{{"id", "m1"},
           {"object", "chat.completion.chunk"},
           {"created", 1},
           {"model", "held-back"},
           {"choices", {{{"index", 0}, {"delta", {{"content", content}}}}}}};
    return "data: " + c.dump() + "\n\n";
  };
  opea::runtime::http::server model{{"127.0.0.1", 0}};
  model.add_route("/v1/chat/completions", {"POST"},
                  [&](opea::runtime::http::request&&,
                      std::shared_ptr<opea::runtime::http::response_writer> out) {
                    out->begin_stream(200, "text/event-stream");
                    out->write_chunk(chunk("First"));
                    std::lock_guard<std::mutex> lock{mu};
                    held = std::move(out);
                    cv.notify_all();
                  });
  auto model_port = model.start();
  REQUIRE(model_port);
  auto yaml = chatqna(false)
                  .set("services.llm",
                       "{builtin: llm, params: {backend: openai, model: held-back, url: "
                       "\"http://127.0.0.1:" +
                           std::to_string(*model_port) + "\"}}")
                  .yaml();
  node_process node{yaml};

  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::socket sock{ioc};
  sock.connect({net::ip::make_address("127.0.0.1"), node.port});
  std::string body =
      R"({"model": "m", "stream": true, "messages": [{"role": "user", "content": "Hi?"}]})";
  std::string req =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  net::write(sock, net::buffer(req));
  std::string got;
  char buf[512];
  while (got.find(R"("content":"First")") == std::string::npos) {
    auto n = sock.read_some(net::buffer(buf));
    got.append(buf, n);
  }
  REQUIRE(got.find("[DONE]") == std::string::npos);
  {
    std::unique_lock<std::mutex> lock{mu};
    REQUIRE(cv.wait_for(lock, 10s, [&] { return held != nullptr; }));
  }
  held->write_chunk(chunk(" and last"));
  held->write_chunk("data: [DONE]\n\n");
  held->end_stream();
  while (got.find("data: [DONE]") == std::string::npos) {
    auto n = sock.read_some(net::buffer(buf));
    got.append(buf, n);
  }
  REQUIRE(got.find(R"("content":" and last")") != std::string::npos);
  REQUIRE(got.find(R"("content":"First")") < got.find(R"("content":" and last")"));
}

TEST_CASE("ingested documents survive kill -9", "[integration][chatqna]") {
  temp_dir data;
  auto yaml = chatqna(false).yaml();
  auto start = [&] {
    auto cfg = data.write("cq.yaml", yaml);
    auto p = std::make_unique<opea::test::child_process>(
        OPEA_NODE_BINARY, std::vector<std::string>{"--config", cfg, "--http-port", "0",
                                                   "--data-dir", (data.path / "d").string()});
    auto port = wait_for_port(*p);
    return std::make_pair(std::move(p), port);
  };
  auto [first, port1] = start();
  auto url1 = "http://127.0.0.1:" + std::to_string(port1);
  auto ingest = post(url1 + "/v1/dataprep/ingest",
                     {{"text",
                       "The zebra protocol carries striped packets between lighthouses. "
                       "Lighthouses answer zebra packets with foghorn acknowledgements."}});
  REQUIRE(ingest.status == 200);
  REQUIRE(body_of(ingest)["chunks"] == 1);
  auto q = json{{"messages", "What carries striped packets?"}, {"stream", false}};
  auto before = body_of(post(url1 + "/v1/chatqna", q))["choices"][0]["message"]["content"];
  REQUIRE_THAT(before.get<std::string>(), Catch::Contains("zebra protocol"));
  first->kill(SIGKILL);
  first->wait();
  auto [second, port2] = start();
  auto url2 = "http://127.0.0.1:" + std::to_string(port2);
  auto after = body_of(post(url2 + "/v1/chatqna", q))["choices"][0]["message"]["content"];
  REQUIRE(after == before);
  auto files = body_of(call("POST", url2 + "/v1/dataprep/get"));
  REQUIRE(files.size() == 1);
}

TEST_CASE("remote backends: embedding, rerank and LLM served by another opea-node",
          "[integration][chatqna]") {
  // Node A: the built-in ChatQnA with the corpus, serving OpenAI's APIs. It
  // stands in for a model server: B's LLM stage sends it a whole RAG prompt,
  // not a user's question, so its answerer must not abstain.
  node_process a{chatqna(true).set("services.llm.params.abstain_below", "0").yaml()};
  auto base = "http://127.0.0.1:" + std::to_string(a.port);
  // Node B: the same graph, but its embedding, rerank and LLM are A's endpoints.
  auto yaml =
      chatqna(true)
          .merge("node: {name: cqb}")
          .set("services.embedding",
               "{builtin: embedding, params: {backend: openai, url: \"" + base + "\", model: m}}")
          .set("services.rerank",
               "{builtin: rerank, params: {top_n: 4, backend: tei, url: \"" + base + "\"}}")
          .set("services.llm",
               "{builtin: llm, params: {backend: openai, url: \"" + base + "\", model: chatqna}}")
          .yaml();
  node_process b{yaml};
  auto q = json{{"messages", "How are restarts of a crashed service limited?"}, {"stream", false}};
  auto r = post(b.url("/v1/chatqna"), q);
  REQUIRE(r.status == 200);
  auto text = body_of(r)["choices"][0]["message"]["content"].get<std::string>();
  REQUIRE_THAT(text, Catch::Contains("Sources:"));
  SECTION("streaming through the remote LLM token by token") {
    auto s = post(b.url("/v1/chatqna"),
                  {{"messages", "How are restarts of a crashed service limited?"}});
    REQUIRE(s.status == 200);
    bool done = false;
    auto pieces = opea_pieces(s.body, done);
    REQUIRE(done);
    REQUIRE(pieces.size() > 5);
  }
  // A really served them: its OpenAI routes saw B's calls.
  auto m = call("GET", a.url("/metrics")).body;
  REQUIRE(metric_value(
              m, R"(opea_http_requests_total{node="cq",code="200",route="/v1/embeddings"})") >= 2);
  REQUIRE(metric_value(m, R"(opea_http_requests_total{node="cq",code="200",route="/rerank"})") >=
          2);
  REQUIRE(
      metric_value(
          m, R"(opea_http_requests_total{node="cq",code="200",route="/v1/chat/completions"})") >=
      1);
  // ... through A's one supervised embedding and rerank actors: each of B's
  // /v1/embeddings and /rerank calls is one call of A's ChatQnA service, as
  // is each ChatQnA flow A ran for B's LLM calls (the corpus loaded at start
  // is not a call).
  auto http_ok = [&](const std::string& route) {
    return metric_value(
        m, R"(opea_http_requests_total{node="cq",code="200",route=")" + route + "\"}");
  };
  auto service_calls = [&](const std::string& service) {
    return metric_value(
        m, R"(opea_service_requests_total{node="cq",megaservice="chatqna",service=")" + service +
               "\"}");
  };
  CHECK(service_calls("embedding") == http_ok("/v1/embeddings") + http_ok("/v1/chat/completions"));
  CHECK(service_calls("rerank") == http_ok("/rerank") + http_ok("/v1/chat/completions"));
}

TEST_CASE("dataprep: the ingest command and the HTTP API, with bad uploads refused whole",
          "[integration][chatqna]") {
  temp_dir dir;
  auto docs = dir.path / "docs";
  std::filesystem::create_directories(docs);
  std::ofstream{docs / "otters.md"} << "# Otters\n\nSea otters hold hands while they sleep so "
                                       "that they do not drift apart.\n";
  auto cfg = dir.write("cq.yaml", chatqna(false).yaml());
  auto data = (dir.path / "data").string();
  opea::test::child_process ingest{
      "/bin/sh",
      {"-c", std::string{OPEA_NODE_BINARY} + " --config " + cfg + " --data-dir " + data +
                 " ingest " + docs.string() + " 2>&1"}};
  REQUIRE(ingest.wait_for_line("done: 1 documents, 1 chunks", 20s));
  REQUIRE(ingest.wait() == 0);

  auto node = std::make_unique<opea::test::child_process>(
      OPEA_NODE_BINARY,
      std::vector<std::string>{"--config", cfg, "--http-port", "0", "--data-dir", data});
  auto base = "http://127.0.0.1:" + std::to_string(wait_for_port(*node));
  auto answer = body_of(post(base + "/v1/chatqna",
                             {{"messages", "Why do sea otters hold hands?"}, {"stream", false}}));
  REQUIRE_THAT(answer["choices"][0]["message"]["content"].get<std::string>(),
               Catch::Contains("otters.md"));

  // A multipart upload with one good and one unsupported file stores nothing.
  std::string boundary = "XyZ";
  std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n"
      "Content-Type: text/plain\r\n\r\nApples are red.\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"b.pdf\"\r\n"
      "Content-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--XyZ--\r\n";
  auto bad = call("POST", base + "/v1/dataprep/ingest", body,
                  {{"Content-Type", "multipart/form-data; boundary=" + boundary}});
  REQUIRE(bad.status == 400);
  REQUIRE_THAT(body_of(bad)["error"]["message"].get<std::string>(), Catch::Contains("b.pdf"));
  auto files = body_of(call("POST", base + "/v1/dataprep/get"));
  REQUIRE(files.size() == 1);
  REQUIRE(files[0]["name"] == "otters.md");
  // The same upload without the PDF goes in, and again does not duplicate.
  std::string good =
      "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n"
      "Content-Type: text/plain\r\n\r\nApples are red.\r\n--XyZ--\r\n";
  for (int i = 0; i < 2; ++i) {
    auto ok = call("POST", base + "/v1/dataprep/ingest", good,
                   {{"Content-Type", "multipart/form-data; boundary=XyZ"}});
    REQUIRE(ok.status == 200);
    REQUIRE(body_of(ok)["chunks"] == 1);
  }
  REQUIRE(body_of(call("POST", base + "/v1/dataprep/get")).size() == 2);
  auto del = post(base + "/v1/dataprep/delete", {{"file_path", "a.txt"}});
  REQUIRE(del.status == 200);
  REQUIRE(body_of(call("POST", base + "/v1/dataprep/get")).size() == 1);
  // The node counted the two uploads it stored (not the refused one, nor the
  // ingest command's); the index holds otters.md alone again.
  auto m = call("GET", base + "/metrics").body;
  CHECK(metric_value(m, R"(opea_dataprep_documents_total{node="cq",index="chatqna"})") == 2);
  CHECK(metric_value(m, R"(opea_dataprep_chunks_total{node="cq",index="chatqna"})") == 2);
  CHECK(metric_value(m, R"(opea_index_chunks{node="cq",index="chatqna"})") == 1);
  CHECK(metric_value(m, R"(opea_index_sources{node="cq",index="chatqna"})") == 1);
}
