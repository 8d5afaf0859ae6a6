#include "actors/builtins.hpp"

#include "actors/text/text_actors.hpp"

namespace opea::actors {

void register_builtins(runtime::service_catalog& catalog) {
  register_text_builtins(catalog);
}

}  // namespace opea::actors
