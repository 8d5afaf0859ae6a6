#include <catch2/catch.hpp>

#include <caf/exit_reason.hpp>

#include "runtime/errors.hpp"

using namespace opea::runtime;

TEST_CASE("the error accessors accept an empty error", "[errors]") {
  // caf::error::category() dereferences the data of an empty error: these
  // crashed on an actor's normal exit reason before they checked for it.
  caf::error none;
  CHECK(code_of(none) == static_cast<errc>(0));
  CHECK(subject_of(none).empty());
  CHECK(detail_of(none).empty());
  CHECK(describe(none) == "no error");
  caf::error shutdown = caf::exit_reason::user_shutdown;
  CHECK(code_of(shutdown) == static_cast<errc>(0));
}

TEST_CASE("restart_intensity names the supervisor and maps to 503", "[errors]") {
  auto err = make_error(errc::restart_intensity, "top", "child 'mid' exited");
  CHECK(std::string{to_string(code_of(err))} == "restart_intensity");
  CHECK(subject_of(err) == "top");
  CHECK(describe(err) == "supervisor 'top' reached its restart intensity: child 'mid' exited");
  CHECK(http_status_of(err) == 503);
}
