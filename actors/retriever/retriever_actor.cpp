#include "actors/retriever/retriever_actor.hpp"

#include <chrono>
#include <utility>

#include "runtime/errors.hpp"
#include "runtime/service/messages.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::json;
using runtime::make_error;

caf::expected<json> retrieve(const vector_store& store, const json& input,
                             const retriever_options& options) {
  auto doc = read_embed_doc(input);
  if (!doc) return std::move(doc.error());
  auto started = std::chrono::steady_clock::now();
  auto hits = options.hybrid
                  ? store.hybrid_search(doc->embedding, doc->text, doc->search, options.fusion)
                  : store.search(doc->embedding, doc->search);
  if (options.search_seconds != nullptr)
    options.search_seconds->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!hits) return std::move(hits.error());
  json docs = json::array();
  for (auto& h : *hits)
    docs.push_back({{"id", h.id}, {"text", h.text}, {"metadata", h.metadata}, {"score", h.score}});
  return write_searched_doc(input, *doc, std::move(docs));
}

caf::behavior retriever_actor(caf::event_based_actor* self, vector_store_ptr store,
                              retriever_options options) {
  return {
      [store, options](runtime::invoke_atom, const runtime::json_ptr& input,
                       const runtime::request_context_ptr&) -> caf::result<runtime::json_ptr> {
        if (!input) return make_error(errc::bad_request, "input", "missing");
        auto out = retrieve(*store, *input, options);
        if (!out) return std::move(out.error());
        return std::make_shared<const json>(std::move(*out));
      },
  };
}

runtime::micro_service make_retriever_service(std::string name, vector_store_ptr store,
                                              retriever_options options) {
  auto svc = runtime::micro_service::actor(
      std::move(name),
      [store, options](caf::event_based_actor* self) {
        return retriever_actor(self, store, options);
      },
      runtime::service_type::retriever);
  return svc;
}

}  // namespace opea::actors
