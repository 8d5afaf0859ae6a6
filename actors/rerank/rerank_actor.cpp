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

caf::behavior rerank_actor(caf::event_based_actor* self, reranker_ptr rr, size_t default_top_n) {
  return {
      [self, rr, default_top_n](
          runtime::invoke_atom, const runtime::json_ptr& input,
          const runtime::request_context_ptr&) -> caf::result<runtime::json_ptr> {
        auto req = read_searched_doc(*input, default_top_n);
        if (!req) return std::move(req.error());
        if (req->docs.empty())
          return runtime::json_ptr{
              std::make_shared<const json>(write_llm_params_doc(*input, *req, {}))};
        auto query = req->initial_query;
        auto texts = req->texts;
        // The reranker may complete on an HTTP I/O thread.
        runtime::reply_later reply{self};
        rr->rerank(
            std::move(query), std::move(texts),
            [reply, input, req = std::move(*req)](caf::expected<std::vector<scored_text>> res) {
              if (!res) return reply.deliver(caf::make_message(std::move(res.error())));
              reply.deliver(caf::make_message(runtime::json_ptr{
                  std::make_shared<const json>(write_llm_params_doc(*input, req, *res))}));
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
