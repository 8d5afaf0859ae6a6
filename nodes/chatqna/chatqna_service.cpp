#include "nodes/chatqna/chatqna_service.hpp"

#include <mutex>
#include <optional>
#include <vector>

#include "actors/docs/opea_docs.hpp"
#include "nodes/chatqna/chat_format.hpp"
#include "runtime/errors.hpp"
#include "runtime/http/error_body.hpp"
#include "runtime/http/json_route.hpp"
#include "runtime/http/request_parsing.hpp"

namespace opea::nodes {

namespace rt = runtime;
namespace http = runtime::http;
using nlohmann::json;

namespace {

/// Sets the request's parameters of `group` ("retriever", "reranker",
/// "llm") on the patch of a service's input.
void merge_params(rt::align_result& r, const rt::request_context& ctx, const char* group) {
  if (!ctx.params || !ctx.params->is_object()) return;
  auto g = ctx.params->find(group);
  if (g == ctx.params->end() || !g->is_object()) return;
  for (auto it = g->begin(); it != g->end(); ++it) r.set(it.key(), it.value());
}

}  // namespace

void set_chatqna_hooks(rt::service_orchestrator& o) {
  // By graph index (add order), as the hooks are called.
  std::vector<rt::service_type> types;
  for (const auto& s : o.services()) types.push_back(s.type);
  // For each retriever: which successors to prune without documents (the
  // reranks) and with documents (the LLMs, when a rerank follows).
  struct retriever_edges {
    std::vector<size_t> without_docs, with_docs;
  };
  std::vector<std::optional<retriever_edges>> prune(types.size());
  const auto& services = o.services();
  for (size_t i = 0; i < services.size(); ++i) {
    if (types[i] != rt::service_type::retriever) continue;
    std::vector<size_t> reranks, llms;
    for (const auto& next : o.successors(services[i].name)) {
      size_t j = 0;
      while (services[j].name != next) ++j;
      if (types[j] == rt::service_type::rerank) reranks.push_back(j);
      if (types[j] == rt::service_type::llm) llms.push_back(j);
    }
    prune[i] = retriever_edges{reranks, reranks.empty() ? std::vector<size_t>{} : llms};
  }
  o.set_align_inputs(
      [types](const json& in, const rt::align_node& node, const rt::request_context& ctx) {
        rt::align_result r;
        if (node.index >= types.size() || !in.is_object()) return r;
        // A black list is meant for the edges of the service that wrote it; a
        // service that passes its input through must not carry it further.
        if (in.contains("downstream_black_list")) r.erase("downstream_black_list");
        switch (types[node.index]) {
          case rt::service_type::retriever:
            merge_params(r, ctx, "retriever");
            break;
          case rt::service_type::rerank:
            merge_params(r, ctx, "reranker");
            break;
          case rt::service_type::llm: {
            actors::searched_to_llm_params(in, r);
            merge_params(r, ctx, "llm");
            break;
          }
          default:
            break;
        }
        return r;
      });
  o.set_align_outputs([prune](const json& out, const rt::align_node& node, const json&,
                              const rt::request_context&) {
    rt::align_result r;
    if (node.index >= prune.size() || !prune[node.index] || !out.is_object()) return r;
    auto docs = out.find("retrieved_docs");
    bool empty = docs == out.end() || !docs->is_array() || docs->empty();
    r.pruned = empty ? prune[node.index]->without_docs : prune[node.index]->with_docs;
    return r;
  });
}

namespace {

/// Streams one answer to one client in the API's event format. Pieces come
/// from the LLM's thread; begin/finish from the flow's callback; a mutex keeps
/// them in order.
class chat_stream final : public rt::stream_sink {
 public:
  chat_stream(std::shared_ptr<http::response_writer> out, chat_api api, completion_meta meta,
              std::string request_id)
      : out_(std::move(out)),
        api_(api),
        meta_(std::move(meta)),
        request_id_(std::move(request_id)) {}

  void write(std::string piece) override {
    if (cancelled() || piece.empty()) return;
    std::lock_guard<std::mutex> guard{mtx_};
    if (finished_) return;
    begin_locked();
    emit_locked(piece);
  }

  /// Ends a successful answer; `text` is written first when nothing was
  /// streamed (a backend that does not stream).
  void finish(const std::string& text) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (finished_) return;
    finished_ = true;
    if (!started_) {
      begin_locked();
      if (!text.empty()) emit_locked(text);
    }
    if (api_ == chat_api::openai)
      out_->write_chunk(sse_event(openai_chunk(meta_, nullptr, nullptr, "stop").dump()));
    out_->write_chunk(sse_done());
    out_->end_stream();
  }

  /// Ends a failed answer: a JSON error response when nothing was streamed,
  /// else an error event and the end of the stream.
  void fail(const caf::error& err) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (finished_) return;
    finished_ = true;
    if (!started_) {
      http::reply_error(*out_, err, request_id_);
      return;
    }
    auto status = rt::http_status_of(err);
    out_->write_chunk(
        sse_event(http::error_body(status, rt::describe(err), "stream_error").dump()));
    out_->write_chunk(sse_done());
    out_->end_stream();
  }

 private:
  void begin_locked() {
    if (started_) return;
    started_ = true;
    out_->begin_stream(200, "text/event-stream",
                       {{"Cache-Control", "no-cache"}, {"X-Request-Id", request_id_}});
    if (api_ == chat_api::openai) {
      static const std::string role = "assistant";
      out_->write_chunk(sse_event(openai_chunk(meta_, &role, nullptr, nullptr).dump()));
    }
  }

  void emit_locked(const std::string& piece) {
    if (api_ == chat_api::openai)
      out_->write_chunk(sse_event(openai_chunk(meta_, nullptr, &piece, nullptr).dump()));
    else
      out_->write_chunk(sse_event(python_bytes_repr(piece)));
  }

  std::shared_ptr<http::response_writer> out_;
  chat_api api_;
  completion_meta meta_;
  std::string request_id_;
  std::mutex mtx_;
  bool started_ = false;
  bool finished_ = false;
};

/// The LLM's text in a flow result, or an error naming what came back.
caf::expected<std::string> answer_text(const rt::flow_result& res) {
  const auto& out = *res.output;
  if (out.is_object()) {
    auto t = out.find("text");
    if (t != out.end() && t->is_string()) return t->get<std::string>();
  }
  auto leaf = res.leaves.empty() ? std::string{"chatqna"} : res.leaves.front();
  return rt::make_error(
      rt::errc::bad_response, leaf,
      "the last service answered without a \"text\" string: " + out.dump().substr(0, 200));
}

}  // namespace

http::handler chatqna_handler(rt::flow_runner run, chat_api api) {
  return http::json_route([run = std::move(run), api](json body, rt::request_context ctx,
                                                      http::responder out) {
    auto chat = parse_chat_request(body, api);
    if (!chat) {
      out.fail(chat.error());
      return;
    }
    auto llm = chat->llm;
    llm["stream"] = chat->stream;
    // The LLM answers the conversation (OPEA's prompt); the services before
    // it search with the last user message (the flow's input). This also
    // makes a flow of the LLM alone answer.
    llm["query"] = chat->prompt;
    // The question alone, for an answerer that quotes documents (the
    // extractive one answers it, not the conversation).
    llm["question"] = chat->query;
    ctx.params = std::make_shared<const json>(json{
        {"llm", std::move(llm)}, {"retriever", chat->retriever}, {"reranker", chat->reranker}});
    auto model =
        api == chat_api::opea_chatqna || chat->model.empty() ? std::string{"chatqna"} : chat->model;
    auto meta = make_completion_meta(model);
    json input = {{"text", chat->query}};
    if (chat->stream) {
      auto stream = std::make_shared<chat_stream>(out.writer(), api, meta, out.request_id());
      ctx.sink = stream;
      out.writer()->on_close([stream] { stream->cancel(); });
      run(std::move(input), std::move(ctx), [stream](caf::expected<rt::flow_result> res) {
        if (!res) {
          stream->fail(res.error());
          return;
        }
        auto text = answer_text(*res);
        if (!text)
          stream->fail(text.error());
        else
          stream->finish(*text);
      });
      return;
    }
    auto prompt = chat->prompt;
    // The client leaving cancels the flow and the calls it has in flight.
    out.cancel_on_close(ctx);
    run(std::move(input), std::move(ctx), [out, meta, prompt](caf::expected<rt::flow_result> res) {
      if (!res) {
        out.fail(res.error());
        return;
      }
      auto text = answer_text(*res);
      if (!text)
        out.fail(text.error());
      else
        out.reply(openai_completion(meta, *text, prompt));
    });
  });
}

}  // namespace opea::nodes
