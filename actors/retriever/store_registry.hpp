#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <caf/expected.hpp>

#include "actors/retriever/vector_store.hpp"
#include "runtime/service/service_catalog.hpp"

namespace opea::actors {

/// The vector stores of one node, by index name, all under one data
/// directory: the retriever services and dataprep share a store by naming the
/// same index. Thread-safe (a mutex guards the map; the stores are themselves
/// thread-safe).
class store_registry {
 public:
  explicit store_registry(std::string data_dir) : data_dir_(std::move(data_dir)) {}

  /// The store of `index`, opened (or created) in `<data_dir>/<index>/` on
  /// first use; `dimension` 0 accepts whatever the store has.
  [[nodiscard]] caf::expected<vector_store_ptr> open(const std::string& index, size_t dimension);

  const std::string& data_dir() const { return data_dir_; }

  /// Where retrievers observe their search times: one series per index
  /// (opea_index_search_duration_seconds). Set before the services are made.
  void set_search_histograms(prometheus::Family<prometheus::Histogram>* family,
                             prometheus::Histogram::BucketBoundaries buckets) {
    search_family_ = family;
    search_buckets_ = std::move(buckets);
  }
  /// The search-time series of `index`, or null when none was set.
  prometheus::Histogram* search_histogram(const std::string& index) const {
    return search_family_ == nullptr ? nullptr
                                     : &search_family_->Add({{"index", index}}, search_buckets_);
  }

  /// The stores opened so far, by index name.
  std::vector<std::pair<std::string, vector_store_ptr>> opened() const;

 private:
  std::string data_dir_;
  mutable std::mutex mtx_;
  std::map<std::string, vector_store_ptr> stores_;
  prometheus::Family<prometheus::Histogram>* search_family_ = nullptr;
  prometheus::Histogram::BucketBoundaries search_buckets_;
};

/// Registers the built-in "retriever" (type retriever) on `stores`: params
/// `index` (default "default"), `dimension` (default 0: the store's),
/// `fusion` ("rrf", the default: hybrid search; "none": vectors only),
/// `rrf_k` (default 10) and `fusion_depth` (default 20): see retriever_options.
void register_retriever_builtins(runtime::service_catalog& catalog,
                                 std::shared_ptr<store_registry> stores);

}  // namespace opea::actors
