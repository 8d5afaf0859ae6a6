#pragma once

#include <stdexcept>
#include <string>

namespace opea::nodes {

/// The one exception the configuration loader throws. `what()` is a single line
/// that names the file, the key path and the problem, ready to print as is:
///
///     cluster.yaml: services.s2.url: "htp://x" is not an http URL (expected http://host:port/path)
///     cluster.yaml:3:5: YAML syntax error: end of map not found
///
/// Thrown only at start-up (see CONVENTIONS.md, "Errors"); `main` catches it once.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace opea::nodes
