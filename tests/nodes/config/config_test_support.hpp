#pragma once

// Helpers shared by the config loader's tests.

#include <string>

#include "nodes/config/node_config.hpp"

namespace opea::nodes::test {

/// Path of a file under tests/nodes/config/data/.
inline std::string data_file(const std::string& name) {
  std::string here = __FILE__;
  return here.substr(0, here.find_last_of('/')) + "/data/" + name;
}

/// The message of the config_error that parsing `yaml` (named "t.yaml")
/// throws, or "<no error>".
inline std::string error_of(const std::string& yaml) {
  try {
    (void)parse_node_config(yaml, "t.yaml");
  } catch (const config_error& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace opea::nodes::test
