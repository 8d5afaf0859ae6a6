#include "actors/builtins.hpp"

#include "actors/embedding/embedding_actor.hpp"
#include "actors/llm/llm_actor.hpp"
#include "actors/rerank/rerank_actor.hpp"
#include "actors/retriever/store_registry.hpp"
#include "actors/text/text_actors.hpp"

namespace opea::actors {

void register_builtins(runtime::service_catalog& catalog,
                       std::shared_ptr<runtime::http::client> client,
                       std::shared_ptr<store_registry> stores) {
  register_text_builtins(catalog);
  register_embedding_builtins(catalog, client);
  register_rerank_builtins(catalog, client);
  register_llm_builtins(catalog, client);
  if (stores) register_retriever_builtins(catalog, std::move(stores));
}

}  // namespace opea::actors
