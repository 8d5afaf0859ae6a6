#include "runtime/instrumented_actor.hpp"

#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>

#include "runtime/errors.hpp"

namespace opea::runtime {

std::string failure_reason(const caf::error& err) {
  if (!err || err == caf::exit_reason::normal || err == caf::exit_reason::user_shutdown) return {};
  if (err.category() == error_category) return to_string(static_cast<errc>(err.code()));
  if (err.category() == caf::make_error(caf::exit_reason::kill).category())
    return caf::to_string(static_cast<caf::exit_reason>(err.code()));
  if (err.category() == caf::make_error(caf::sec::runtime_error).category())
    return caf::to_string(static_cast<caf::sec>(err.code()));
  return "other";
}

}  // namespace opea::runtime
