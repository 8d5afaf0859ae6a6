#pragma once

#include <memory>

#include "runtime/http/fwd.hpp"
#include "runtime/service/service_catalog.hpp"

namespace opea::actors {

class store_registry;

/// Registers every built-in microservice of this module in `catalog`. Remote
/// backends (TEI, OpenAI-compatible servers) share `client`; when it is null
/// each remote service creates its own. Retrievers open their indexes in
/// `stores`; without it there is no "retriever" built-in.
void register_builtins(runtime::service_catalog& catalog,
                       std::shared_ptr<runtime::http::client> client = nullptr,
                       std::shared_ptr<store_registry> stores = nullptr);

}  // namespace opea::actors
