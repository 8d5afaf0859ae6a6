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

std::string type_error(const char* what, const json& got) {
  return std::string{"must be "} + what + ", got " + got.type_name();
}

/// Reads an optional number field; null counts as absent.
caf::error read_number(const json& in, const char* key, std::optional<double>& out) {
  auto i = in.find(key);
  if (i == in.end() || i->is_null()) return {};
  if (!i->is_number()) return bad(key, type_error("a number", *i));
  out = i->get<double>();
  return {};
}

std::string source_name(const json& doc) {
  auto str = [](const json& obj, const char* key) -> std::string {
    auto i = obj.find(key);
    return i != obj.end() && i->is_string() ? i->get<std::string>() : std::string{};
  };
  auto meta = doc.find("metadata");
  if (meta != doc.end() && meta->is_object())
    for (auto key : {"source", "file_name", "filename", "title"})
      if (auto s = str(*meta, key); !s.empty()) return s;
  for (auto key : {"title", "source"})
    if (auto s = str(doc, key); !s.empty()) return s;
  return {};
}

caf::error read_documents(const json& docs, const std::string& field,
                          std::vector<context_document>& out) {
  if (docs.is_null()) return {};
  if (!docs.is_array()) return bad(field, type_error("a list", docs));
  for (size_t i = 0; i < docs.size(); ++i) {
    const auto& d = docs[i];
    auto where = field + "[" + std::to_string(i) + "]";
    if (d.is_string()) {
      out.push_back({d.get<std::string>(), {}});
    } else if (d.is_object()) {
      auto text = d.find("text");
      if (text == d.end() || !text->is_string())
        return bad(where, "must have a string field 'text'");
      out.push_back({text->get<std::string>(), source_name(d)});
    } else {
      return bad(where, type_error("a string or an object with 'text'", d));
    }
  }
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i].source.empty()) out[i].source = "document " + std::to_string(i + 1);
  return {};
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

int64_t effective_max_tokens(const llm_config& cfg, const llm_input& in) {
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
chat_request make_chat_request(const llm_config& cfg, const llm_input& in,
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
  req.temperature = in.temperature;
  req.top_p = in.top_p;
  req.frequency_penalty = in.frequency_penalty;
  req.presence_penalty = in.presence_penalty;
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
        auto in = parse_llm_input(*input);
        if (!in) return std::move(in.error());
        auto max = static_cast<size_t>(effective_max_tokens(cfg, *in));
        auto ans = extractive_answerer{}.answer(in->query, in->documents, max);
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
        auto in = parse_llm_input(*input);
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

caf::expected<llm_input> parse_llm_input(const json& in) {
  if (!in.is_object())
    return bad("input", std::string{"must be a JSON object, got "} + in.type_name());
  llm_input out;
  auto q = in.find("query");
  auto messages = in.find("messages");
  if (q != in.end() && !q->is_null()) {
    if (!q->is_string()) return bad("query", type_error("a string", *q));
    out.query = q->get<std::string>();
  }
  if (messages != in.end() && !messages->is_null()) {
    if (messages->is_string()) {
      if (out.query.empty()) out.query = messages->get<std::string>();
    } else if (messages->is_array()) {
      for (size_t i = 0; i < messages->size(); ++i) {
        const auto& m = (*messages)[i];
        auto where = "messages[" + std::to_string(i) + "]";
        if (!m.is_object()) return bad(where, type_error("an object", m));
        auto role = m.find("role");
        if (role == m.end() || !role->is_string())
          return bad(where, "must have a string field 'role'");
        auto content = m.find("content");
        if (role->get<std::string>() == "user" && content != m.end() && content->is_string() &&
            q == in.end())
          out.query = content->get<std::string>();
      }
      if (messages->empty()) return bad("messages", "must not be empty");
      out.messages = *messages;
    } else {
      return bad("messages", type_error("a string or a list of messages", *messages));
    }
  }
  if (out.query.empty() && out.messages.is_null()) {
    auto iq = in.find("initial_query");
    if (iq != in.end() && iq->is_string()) out.query = iq->get<std::string>();
  }
  if (out.query.empty() && out.messages.is_null())
    return bad("query", "input has no non-empty 'query' (or 'messages')");

  // The rerank service sends both `documents` (texts) and `reranked_docs`
  // (the same documents with their metadata), and ChatQnA's hook adds
  // `documents` beside a retriever's `retrieved_docs`: the lists with
  // metadata come first, since they name the sources.
  caf::error err;
  if (auto r = in.find("reranked_docs"); r != in.end() && !r->is_null())
    err = read_documents(*r, "reranked_docs", out.documents);
  else if (auto s = in.find("retrieved_docs"); s != in.end() && !s->is_null())
    err = read_documents(*s, "retrieved_docs", out.documents);
  else if (auto d = in.find("documents"); d != in.end())
    err = read_documents(*d, "documents", out.documents);
  if (err) return err;

  for (auto key : {"max_tokens", "max_new_tokens"}) {
    auto i = in.find(key);
    if (i == in.end() || i->is_null()) continue;
    if (!i->is_number_integer() || i->get<int64_t>() <= 0)
      return bad(key, "must be a positive integer, got " + i->dump());
    out.max_tokens = i->get<int64_t>();
    break;
  }
  if (auto e = read_number(in, "temperature", out.temperature)) return e;
  if (auto e = read_number(in, "top_p", out.top_p)) return e;
  if (auto e = read_number(in, "frequency_penalty", out.frequency_penalty)) return e;
  if (auto e = read_number(in, "presence_penalty", out.presence_penalty)) return e;

  auto s = in.find("stream");
  if (s == in.end() || s->is_null()) s = in.find("streaming");
  if (s != in.end() && !s->is_null()) {
    if (!s->is_boolean()) return bad("stream", type_error("a boolean", *s));
    out.stream = s->get<bool>();
  }
  if (auto t = in.find("chat_template"); t != in.end() && !t->is_null()) {
    if (!t->is_string()) return bad("chat_template", type_error("a string", *t));
    out.chat_template = t->get<std::string>();
  }
  if (auto m = in.find("model"); m != in.end() && !m->is_null()) {
    if (!m->is_string()) return bad("model", type_error("a string", *m));
    out.model = m->get<std::string>();
  }
  return out;
}

runtime::actor_body llm_actor(llm_config cfg) {
  return [cfg](caf::event_based_actor* self) -> caf::behavior {
    if (cfg.backend == "openai" && cfg.openai) return openai_behavior(self, cfg);
    return extractive_behavior(self, cfg);
  };
}

caf::expected<runtime::micro_service> make_llm_service(
    const json& params, std::shared_ptr<runtime::http::client> client) {
  using namespace kit;
  if (auto err =
          check_params(params, {"backend", "url", "model", "api_key", "max_tokens", "timeout_ms"}))
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
