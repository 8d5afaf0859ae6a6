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

std::vector<std::pair<std::string, vector_store_ptr>> store_registry::opened() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return {stores_.begin(), stores_.end()};
}

void register_retriever_builtins(runtime::service_catalog& catalog,
                                 std::shared_ptr<store_registry> stores) {
  catalog.add("retriever",
              "OPEA retriever: EmbedDoc -> SearchedDoc over a persistent hnswlib cosine index "
              "and a Xapian BM25 index, fused by reciprocal rank for similarity searches "
              "(similarity, similarity_distance_threshold, similarity_score_threshold, mmr)",
              runtime::service_type::retriever,
              [stores](const json& params) -> caf::expected<runtime::micro_service> {
                if (auto err = kit::check_params(
                        params, {"index", "dimension", "fusion", "rrf_k", "fusion_depth"}))
                  return err;
                auto index = kit::string_param(params, "index", "default");
                if (!index) return std::move(index.error());
                if (index->empty())
                  return make_error(errc::bad_request, "params.index",
                                    "must be a non-empty string");
                auto dimension = kit::positive_param(params, "dimension", 0);
                if (!dimension) return std::move(dimension.error());
                auto store = stores->open(*index, static_cast<size_t>(*dimension));
                if (!store) return std::move(store.error());
                retriever_options options;
                auto fusion = kit::string_param(params, "fusion", "rrf", {"rrf", "none"});
                if (!fusion) return std::move(fusion.error());
                options.hybrid = *fusion == "rrf";
                auto rrf_k = kit::number_param(params, "rrf_k", options.fusion.rrf_k, 0, 1000);
                if (!rrf_k) return std::move(rrf_k.error());
                options.fusion.rrf_k = *rrf_k;
                auto depth = kit::integer_param(
                    params, "fusion_depth", static_cast<int64_t>(options.fusion.depth), 1, 10000);
                if (!depth) return std::move(depth.error());
                options.fusion.depth = static_cast<size_t>(*depth);
                options.search_seconds = stores->search_histogram(*index);
                return make_retriever_service("", std::move(*store), options);
              });
}

}  // namespace opea::actors
