#pragma once

#include "runtime/service/service_catalog.hpp"

namespace opea::actors {

/// Registers every built-in microservice of this module in `catalog`.
void register_builtins(runtime::service_catalog& catalog);

}  // namespace opea::actors
