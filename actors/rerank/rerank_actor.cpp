#include "actors/rerank/rerank_actor.hpp"

#include <algorithm>
#include <utility>

#include <caf/all.hpp>

#include "actors/embedding/hashed_embedder.hpp"
#include "actors/kit/params.hpp"
#include "actors/rerank/tei_reranker.hpp"
#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "runtime/service/messages.hpp"
#include "runtime/service/reply_later.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::make_error;

caf::expected<rerank_request> parse_rerank_input(const json& input, size_t default_top_n) {
  if (!input.is_object())
    return make_error(errc::bad_request, "initial_query",
                      "input must be a JSON object, got " + std::string{input.type_name()});
  rerank_request out;
  auto q = input.find("initial_query");
  if (q == input.end()) return make_error(errc::bad_request, "initial_query", "is required");
  if (!q->is_string())
    return make_error(errc::bad_request, "initial_query",
                      "must be a string, got " + std::string{q->type_name()});
  out.query = q->get<std::string>();
  auto docs = input.find("retrieved_docs");
  if (docs == input.end()) return make_error(errc::bad_request, "retrieved_docs", "is required");
  if (!docs->is_array())
    return make_error(errc::bad_request, "retrieved_docs",
                      "must be a list of documents, got " + std::string{docs->type_name()});
  out.docs.reserve(docs->size());
  out.texts.reserve(docs->size());
  for (size_t i = 0; i < docs->size(); ++i) {
    const auto& d = (*docs)[i];
    auto where = "retrieved_docs[" + std::to_string(i) + "]";
    if (!d.is_object())
      return make_error(errc::bad_request, where,
                        "must be an object with a 'text', got " + std::string{d.type_name()});
    auto t = d.find("text");
    if (t == d.end() || !t->is_string())
      return make_error(errc::bad_request, where + ".text",
                        t == d.end() ? std::string{"is required"}
                                     : "must be a string, got " + std::string{t->type_name()});
    out.texts.push_back(t->get<std::string>());
    out.docs.push_back(d);
  }
  out.top_n = default_top_n;
  if (auto n = input.find("top_n"); n != input.end()) {
    if (!n->is_number_integer() || n->get<int64_t>() < 1)
      return make_error(errc::bad_request, "top_n", "must be a positive integer, got " + n->dump());
    out.top_n = static_cast<size_t>(n->get<int64_t>());
  }
  return out;
}

const std::vector<std::string>& llm_params_passthrough_fields() {
  static const std::vector<std::string> fields{"model",
                                               "max_tokens",
                                               "max_new_tokens",
                                               "top_k",
                                               "top_p",
                                               "typical_p",
                                               "temperature",
                                               "frequency_penalty",
                                               "presence_penalty",
                                               "repetition_penalty",
                                               "stream",
                                               "streaming",
                                               "language",
                                               "chat_template",
                                               "input_guardrail_params",
                                               "output_guardrail_params",
                                               "downstream_black_list"};
  return fields;
}

json make_rerank_output(const json& input, const rerank_request& req,
                        const std::vector<scored_text>& scores) {
  json documents = json::array();
  json reranked = json::array();
  auto n = std::min(req.top_n, scores.size());
  for (size_t i = 0; i < n; ++i) {
    const auto& s = scores[i];
    documents.push_back(req.texts[s.index]);
    json doc = req.docs[s.index];
    doc["score"] = s.score;
    reranked.push_back(std::move(doc));
  }
  json out{{"query", req.query},
           {"documents", std::move(documents)},
           {"reranked_docs", std::move(reranked)}};
  for (auto& key : llm_params_passthrough_fields())
    if (auto i = input.find(key); i != input.end()) out[key] = *i;
  return out;
}

caf::behavior rerank_actor(caf::event_based_actor* self, reranker_ptr rr, size_t default_top_n) {
  return {
      [self, rr, default_top_n](
          runtime::invoke_atom, const runtime::json_ptr& input,
          const runtime::request_context_ptr&) -> caf::result<runtime::json_ptr> {
        auto req = parse_rerank_input(*input, default_top_n);
        if (!req) return std::move(req.error());
        if (req->docs.empty())
          return runtime::json_ptr{
              std::make_shared<const json>(make_rerank_output(*input, *req, {}))};
        auto query = req->query;
        auto texts = req->texts;
        // The reranker may complete on an HTTP I/O thread.
        runtime::reply_later reply{self};
        rr->rerank(std::move(query), std::move(texts),
                   [reply, input,
                    req = std::move(*req)](caf::expected<std::vector<scored_text>> res) {
                     caf::message answer;
                     if (!res)
                       answer = caf::make_message(std::move(res.error()));
                     else
                       answer = caf::make_message(runtime::json_ptr{
                           std::make_shared<const json>(make_rerank_output(*input, req, *res))});
                     reply.deliver(std::move(answer));
                   });
        return caf::delegated<runtime::json_ptr>{};
      },
  };
}

runtime::micro_service make_rerank_service(reranker_ptr rr, size_t default_top_n) {
  return runtime::micro_service::actor(
      "",
      [rr, default_top_n](caf::event_based_actor* self) {
        return rerank_actor(self, rr, default_top_n);
      },
      runtime::service_type::rerank);
}

caf::expected<configured_reranker> make_reranker_from_params(
    const json& params, std::shared_ptr<runtime::http::client> client) {
  using namespace kit;
  if (auto err =
          check_params(params, {"backend", "top_n", "alpha", "dimension", "url", "timeout_ms"}))
    return err;
  auto backend = string_param(params, "backend", "builtin", {"builtin", "tei"});
  if (!backend) return std::move(backend.error());
  auto builtin = *backend == "builtin";
  for (const char* key : {"alpha", "dimension"})
    if (auto err = only_for_backends(params, key, {"builtin"}, *backend)) return err;
  for (const char* key : {"url", "timeout_ms"})
    if (auto err = only_for_backends(params, key, {"tei"}, *backend)) return err;
  auto top_n = integer_param(params, "top_n", default_rerank_top_n, 1, 1000000);
  if (!top_n) return std::move(top_n.error());
  reranker_ptr rr;
  if (builtin) {
    auto alpha = number_param(params, "alpha", hybrid_reranker::default_alpha, 0.0, 1.0);
    if (!alpha) return std::move(alpha.error());
    auto dim = integer_param(params, "dimension", hashed_embedder::default_dimension, 1,
                             hashed_embedder::max_dimension);
    if (!dim) return std::move(dim.error());
    rr = std::make_shared<hybrid_reranker>(
        std::make_shared<hashed_embedder>(static_cast<size_t>(*dim)), *alpha);
  } else {
    auto url = string_param(params, "url", "");
    if (!url) return std::move(url.error());
    if (url->empty())
      return make_error(errc::bad_request, "params.url", "is required for backend 'tei'");
    auto timeout = integer_param(params, "timeout_ms", 30000, 1, 3600000);
    if (!timeout) return std::move(timeout.error());
    auto made = tei_reranker::make(client, *url, std::chrono::milliseconds{*timeout});
    if (!made) return make_error(errc::bad_request, "params.url", runtime::detail_of(made.error()));
    rr = std::move(*made);
  }
  return configured_reranker{std::move(rr), static_cast<size_t>(*top_n)};
}

void register_rerank_builtins(runtime::service_catalog& catalog,
                              std::shared_ptr<runtime::http::client> client) {
  catalog.add("rerank",
              "OPEA reranking microservice: SearchedDoc -> LLMParamsDoc with the top_n documents "
              "(backend builtin: BM25 + embedding cosine | tei)",
              runtime::service_type::rerank,
              [client](const json& params) -> caf::expected<runtime::micro_service> {
                auto made = make_reranker_from_params(params, client);
                if (!made) return std::move(made.error());
                return make_rerank_service(std::move(made->reranker), made->top_n);
              });
}

}  // namespace opea::actors
