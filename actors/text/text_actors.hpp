#pragma once

#include "runtime/service/service_catalog.hpp"

namespace opea::actors {

/// Registers the text built-ins:
/// - `echo`: returns its input document unchanged.
/// - `append`: returns its input with `params.suffix` appended to the string
///   field `params.field` (default "text"), like OPEA's `/v1/add` test services;
///   with `params.prefix` also prepended. A missing or non-string field is a
///   bad request naming the field.
/// - `uppercase`: returns its input with the string field `params.field`
///   (default "text") upper-cased (ASCII).
void register_text_builtins(runtime::service_catalog& catalog);

}  // namespace opea::actors
