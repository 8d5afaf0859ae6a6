#include "actors/retriever/store_registry.hpp"

#include "actors/kit/params.hpp"
#include "actors/retriever/retriever_actor.hpp"
#include "runtime/errors.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::json;
using runtime::make_error;

caf::expected<vector_store_ptr> store_registry::open(const std::string& index, size_t dimension) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = stores_.find(index);
  if (i != stores_.end()) {
    if (dimension != 0 && i->second->dimension() != 0 && i->second->dimension() != dimension)
      return make_error(errc::bad_request, "params.dimension",
                        "index '" + index + "' has dimension " +
                            std::to_string(i->second->dimension()) + ", not " +
                            std::to_string(dimension));
    return i->second;
  }
  vector_store_options opts;
  opts.dimension = dimension;
  auto store = vector_store::open(data_dir_, index, opts);
  if (!store) return std::move(store.error());
  stores_.emplace(index, *store);
  return *store;
}

void register_retriever_builtins(runtime::service_catalog& catalog,
                                 std::shared_ptr<store_registry> stores) {
  catalog.add("retriever",
              "OPEA retriever: EmbedDoc -> SearchedDoc over a persistent hnswlib cosine index "
              "(similarity, similarity_distance_threshold, similarity_score_threshold, mmr)",
              runtime::service_type::retriever,
              [stores](const json& params) -> caf::expected<runtime::micro_service> {
                if (auto err = kit::check_params(params, {"index", "dimension"})) return err;
                auto index = kit::string_param(params, "index", "default");
                if (!index) return std::move(index.error());
                if (index->empty())
                  return make_error(errc::bad_request, "params.index",
                                    "must be a non-empty string");
                auto dimension = kit::positive_param(params, "dimension", 0);
                if (!dimension) return std::move(dimension.error());
                auto store = stores->open(*index, static_cast<size_t>(*dimension));
                if (!store) return std::move(store.error());
                return make_retriever_service("", std::move(*store));
              });
}

}  // namespace opea::actors
