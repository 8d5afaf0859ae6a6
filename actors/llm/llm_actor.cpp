#include "actors/llm/llm_actor.hpp"

#include <algorithm>
#include <atomic>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/kit/params.hpp"
#include "actors/llm/rag_prompt.hpp"
#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "runtime/service/messages.hpp"
#include "runtime/service/reply_later.hpp"
#include "runtime/text/text.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::json;
using runtime::json_ptr;
using runtime::make_error;

namespace {

/// Subject of the service's errors.
constexpr const char* service_name = "llm";

/// (llm_step_atom, stream id): write the next piece of a built-in answer.
using llm_step_atom = caf::atom_constant<caf::atom("llm_step")>;

caf::error bad(const std::string& field, const std::string& why) {
  return make_error(errc::bad_request, field, why);
}

json usage_json(int64_t prompt, int64_t completion) {
  return json{{"prompt_tokens", prompt},
              {"completion_tokens", completion},
              {"total_tokens", prompt + completion}};
}

json_ptr make_reply(std::string text, const std::string& query, const std::string& model,
                    json usage) {
  return std::make_shared<const json>(json{
      {"text", std::move(text)}, {"prompt", query}, {"model", model}, {"usage", std::move(usage)}});
}

int64_t effective_max_tokens(const llm_config& cfg, const llm_params& in) {
  return in.max_tokens ? std::min(*in.max_tokens, cfg.max_tokens) : cfg.max_tokens;
}

/// A built-in answer being streamed word by word.
struct pending_stream {
  std::vector<std::string> pieces;
  size_t next = 0;
  caf::typed_response_promise<json_ptr> rp;
  json_ptr reply;
  runtime::request_context_ptr ctx;
};

/// The chat request of a remote call: the conversation as given, else the
/// prompt OPEA's LLM microservice builds, as one user message.
chat_request make_chat_request(const llm_config& cfg, const llm_params& in,
                               const runtime::request_context& ctx, std::string& prompt_text) {
  chat_request req;
  if (in.messages.is_array()) {
    req.messages = in.messages;
    prompt_text.clear();
    for (const auto& m : in.messages) {
      auto c = m.find("content");
      if (c != m.end() && c->is_string()) prompt_text += c->get<std::string>() + "\n";
    }
  } else {
    std::vector<std::string> docs;
    docs.reserve(in.documents.size());
    for (const auto& d : in.documents) docs.push_back(d.text);
    const auto& model = in.model.empty() ? cfg.openai->config().model : in.model;
    prompt_text = build_llm_prompt(in.query, docs, in.chat_template, model);
    req.messages = json::array({json{{"role", "user"}, {"content", prompt_text}}});
  }
  req.model = in.model;
  req.max_tokens = effective_max_tokens(cfg, in);
  req.sampling = in.sampling;
  auto timeout = cfg.openai->config().timeout;
  if (ctx.deadline != runtime::clock_type::time_point::max()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.remaining());
    timeout = std::max(std::min(timeout, left), std::chrono::milliseconds{1});
  }
  req.timeout = timeout;
  req.headers.emplace_back("X-Request-Id", ctx.request_id);
  if (!ctx.traceparent.empty()) req.headers.emplace_back("traceparent", ctx.traceparent);
  if (!ctx.tracestate.empty()) req.headers.emplace_back("tracestate", ctx.tracestate);
  return req;
}

caf::behavior extractive_behavior(caf::event_based_actor* self, llm_config cfg) {
  auto streams = std::make_shared<std::unordered_map<uint64_t, pending_stream>>();
  auto next_id = std::make_shared<uint64_t>(0);
  return {
      [self, cfg, streams, next_id](
          runtime::invoke_atom, const json_ptr& input,
          const runtime::request_context_ptr& ctx) -> caf::result<json_ptr> {
        auto in = read_llm_params(*input);
        if (!in) return std::move(in.error());
        auto max = static_cast<size_t>(effective_max_tokens(cfg, *in));
        auto ans =
            extractive_answerer{}.answer(in->question, in->documents, max, cfg.abstain_below);
        auto prompt_words = static_cast<int64_t>(text::count_words(in->query));
        for (const auto& d : in->documents)
          prompt_words += static_cast<int64_t>(text::count_words(d.text));
        auto completion_words = static_cast<int64_t>(text::count_words(ans.text));
        auto pieces =
            in->stream && ctx->sink ? split_stream_pieces(ans.text) : std::vector<std::string>{};
        auto reply = make_reply(std::move(ans.text), in->query, extractive_answerer::model_name,
                                usage_json(prompt_words, completion_words));
        if (pieces.empty()) return reply;
        auto rp = self->make_response_promise<json_ptr>();
        auto id = (*next_id)++;
        streams->emplace(id, pending_stream{std::move(pieces), 0, rp, std::move(reply), ctx});
        self->send(self, llm_step_atom::value, id);
        return rp;
      },
      [self, streams](llm_step_atom, uint64_t id) {
        auto it = streams->find(id);
        if (it == streams->end()) return;
        auto& p = it->second;
        const auto& sink = p.ctx->sink;
        if (sink->cancelled()) {
          p.rp.deliver(make_error(errc::cancelled, service_name, "cancelled by client"));
          streams->erase(it);
          return;
        }
        if (p.ctx->expired()) {
          p.rp.deliver(make_error(errc::deadline_exceeded, service_name,
                                  "the request deadline passed while streaming the answer"));
          streams->erase(it);
          return;
        }
        sink->write(p.pieces[p.next++]);
        if (p.next == p.pieces.size()) {
          p.rp.deliver(p.reply);
          streams->erase(it);
          return;
        }
        self->send(self, llm_step_atom::value, id);
      },
  };
}

caf::behavior openai_behavior(caf::event_based_actor* self, llm_config cfg) {
  return {
      [self, cfg](runtime::invoke_atom, const json_ptr& input,
                  const runtime::request_context_ptr& ctx) -> caf::result<json_ptr> {
        auto in = read_llm_params(*input);
        if (!in) return std::move(in.error());
        std::string prompt_text;
        auto req = make_chat_request(cfg, *in, *ctx, prompt_text);
        auto prompt_words = static_cast<int64_t>(text::count_words(prompt_text));
        // The answer goes from the HTTP client's thread straight to the caller:
        // no actor state is touched there.
        runtime::reply_later reply{self};
        auto query = in->query;
        auto finish = [reply, query, prompt_words](caf::expected<chat_result> res, size_t pieces) {
          caf::message msg;
          if (!res) {
            msg = caf::make_message(std::move(res.error()));
          } else {
            auto usage = res->usage.reported
                             ? usage_json(res->usage.prompt_tokens, res->usage.completion_tokens)
                             : usage_json(prompt_words, static_cast<int64_t>(pieces));
            if (res->usage.reported) usage["total_tokens"] = res->usage.total_tokens;
            msg = caf::make_message(
                make_reply(std::move(res->text), query, res->model, std::move(usage)));
          }
          reply.deliver(std::move(msg));
        };
        if (!(in->stream && ctx->sink)) {
          cfg.openai->complete(std::move(req), [finish](caf::expected<chat_result> res) {
            auto words = res ? text::count_words(res->text) : 0;
            finish(std::move(res), words);
          });
          return caf::delegated<json_ptr>{};
        }
        auto sink = ctx->sink;
        auto count = std::make_shared<std::atomic<size_t>>(0);
        auto stream = cfg.openai->stream(
            std::move(req),
            [sink, count](std::string piece) {
              count->fetch_add(1, std::memory_order_relaxed);
              sink->write(std::move(piece));
            },
            [finish, count](caf::expected<chat_result> res) {
              finish(std::move(res), count->load(std::memory_order_relaxed));
            });
        // Weak: the sink outlives the stream and must not keep it alive.
        std::weak_ptr<chat_stream> weak = stream;
        sink->on_cancel([weak] {
          if (auto s = weak.lock()) s->cancel();
        });
        return caf::delegated<json_ptr>{};
      },
  };
}

}  // namespace

runtime::actor_body llm_actor(llm_config cfg) {
  return [cfg](caf::event_based_actor* self) -> caf::behavior {
    if (cfg.backend == "openai" && cfg.openai) return openai_behavior(self, cfg);
    return extractive_behavior(self, cfg);
  };
}

caf::expected<runtime::micro_service> make_llm_service(
    const json& params, std::shared_ptr<runtime::http::client> client) {
  using namespace kit;
  if (auto err = check_params(params, {"backend", "url", "model", "api_key", "max_tokens",
                                       "timeout_ms", "abstain_below"}))
    return err;
  const json& p = params;
  llm_config cfg;
  auto backend = string_param(p, "backend", "extractive");
  if (!backend) return std::move(backend.error());
  if (*backend != "extractive" && *backend != "openai")
    return bad("params.backend", "must be \"extractive\" or \"openai\", got \"" + *backend + "\"");
  cfg.backend = *backend;
  auto max = positive_param(p, "max_tokens", cfg.backend == "openai" ? 1024 : 128);
  if (!max) return std::move(max.error());
  cfg.max_tokens = *max;
  if (auto err = only_for_backends(p, "abstain_below", {"extractive"}, cfg.backend)) return err;
  auto abstain = number_param(p, "abstain_below", cfg.abstain_below, 0, 1);
  if (!abstain) return std::move(abstain.error());
  cfg.abstain_below = *abstain;
  if (cfg.backend == "openai") {
    openai_chat_config oc;
    auto url = string_param(p, "url", "");
    if (!url) return std::move(url.error());
    auto model = string_param(p, "model", "");
    if (!model) return std::move(model.error());
    auto key = string_param(p, "api_key", "");
    if (!key) return std::move(key.error());
    auto timeout = positive_param(p, "timeout_ms", 120000);
    if (!timeout) return std::move(timeout.error());
    oc.url = std::move(*url);
    oc.model = std::move(*model);
    oc.api_key = std::move(*key);
    oc.timeout = std::chrono::milliseconds{*timeout};
    auto backend_ptr = openai_chat_backend::make(std::move(oc), std::move(client));
    if (!backend_ptr) return std::move(backend_ptr.error());
    cfg.openai = std::move(*backend_ptr);
  } else {
    for (auto key : {"url", "model", "api_key", "timeout_ms"})
      if (has_param(p, key))
        return bad(std::string{"params."} + key, "only applies to backend \"openai\"");
  }
  auto svc =
      runtime::micro_service::actor("", llm_actor(std::move(cfg)), runtime::service_type::llm);
  return svc;
}

void register_llm_builtins(runtime::service_catalog& catalog,
                           std::shared_ptr<runtime::http::client> client) {
  catalog.add("llm",
              "answers a query from its documents: the built-in extractive answerer (quotes "
              "the best-matching sentences with citations; not a language model) or an "
              "OpenAI-compatible chat server (vLLM, TGI, Ollama, llama.cpp)",
              runtime::service_type::llm,
              [client](const json& params) { return make_llm_service(params, client); });
}

}  // namespace opea::actors
