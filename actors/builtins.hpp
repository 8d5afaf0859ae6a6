#pragma once

#include <memory>

#include "runtime/service/service_catalog.hpp"

namespace opea::runtime::http {
class client;
}

namespace opea::actors {

/// Registers every built-in microservice of this module in `catalog`. Remote
/// backends (TEI, OpenAI-compatible servers) share `client`; when it is null
/// each remote service creates its own.
void register_builtins(runtime::service_catalog& catalog,
                       std::shared_ptr<runtime::http::client> client = nullptr);

}  // namespace opea::actors
