#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

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

  /// The stores opened so far, by index name.
  std::vector<std::pair<std::string, vector_store_ptr>> opened() const;

 private:
  std::string data_dir_;
  mutable std::mutex mtx_;
  std::map<std::string, vector_store_ptr> stores_;
};

/// Registers the built-in "retriever" (type retriever) on `stores`: params
/// `index` (default "default"), `dimension` (default 0: the store's),
/// `fusion` ("rrf", the default: hybrid search; "none": vectors only),
/// `rrf_k` (default 10) and `fusion_depth` (default 20): see retriever_options.
void register_retriever_builtins(runtime::service_catalog& catalog,
                                 std::shared_ptr<store_registry> stores);

}  // namespace opea::actors
