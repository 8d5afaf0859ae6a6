#include "actors/retriever/store_registry.hpp"

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
                if (!params.is_object())
                  return make_error(errc::bad_request, "params", "must be a map");
                std::string index = "default";
                size_t dimension = 0;
                for (auto it = params.begin(); it != params.end(); ++it) {
                  if (it.key() == "index") {
                    if (!it->is_string() || it->get<std::string>().empty())
                      return make_error(errc::bad_request, "params.index",
                                        "must be a non-empty string");
                    index = it->get<std::string>();
                  } else if (it.key() == "dimension") {
                    if (!it->is_number_unsigned())
                      return make_error(errc::bad_request, "params.dimension",
                                        "must be a positive integer");
                    dimension = it->get<size_t>();
                  } else {
                    return make_error(errc::bad_request, "params." + it.key(),
                                      "unknown parameter (valid: index, dimension)");
                  }
                }
                auto store = stores->open(index, dimension);
                if (!store) return std::move(store.error());
                return make_retriever_service("", std::move(*store));
              });
}

}  // namespace opea::actors
