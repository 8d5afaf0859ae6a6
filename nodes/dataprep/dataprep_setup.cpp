#include "nodes/dataprep/dataprep_setup.hpp"

#include "actors/embedding/embedding_actor.hpp"
#include "runtime/errors.hpp"

namespace opea::nodes {

dataprep_parts open_dataprep_store(const node_config& cfg, actors::store_registry& stores) {
  const auto& file = cfg.source_name;
  if (!cfg.dataprep.enabled)
    throw config_error(file +
                       ": dataprep: missing section (it names the embedding and retriever "
                       "services to ingest with)");
  const auto* ret_cfg = cfg.find_service(cfg.dataprep.retriever);
  dataprep_parts parts;
  parts.index = "default";
  if (ret_cfg->params.is_object() && ret_cfg->params.contains("index") &&
      ret_cfg->params["index"].is_string())
    parts.index = ret_cfg->params["index"].get<std::string>();
  auto store = stores.open(parts.index, 0);
  if (!store)
    throw config_error(file + ": dataprep.retriever: " + runtime::describe(store.error()));
  parts.store = std::move(*store);
  return parts;
}

dataprep_parts resolve_dataprep(const node_config& cfg,
                                std::shared_ptr<runtime::http::client> client,
                                actors::store_registry& stores) {
  auto parts = open_dataprep_store(cfg, stores);
  const auto* emb_cfg = cfg.find_service(cfg.dataprep.embedding);
  auto embedder = actors::make_embedder_from_params(emb_cfg->params, std::move(client));
  if (!embedder)
    throw config_error(cfg.source_name + ": dataprep.embedding: " +
                       runtime::describe(embedder.error()));
  parts.embedder = std::move(*embedder);
  return parts;
}

}  // namespace opea::nodes
