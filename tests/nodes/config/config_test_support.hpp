#pragma once

// Helpers shared by the config loader's tests.

#include <string>
#include <vector>

#include <catch2/catch.hpp>

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

/// One row of a table of errors: an input and the exact message it gives.
struct error_row {
  std::string input;
  std::string message;
};

/// Checks `message_of(row.input) == row.message` for every row; every row
/// runs, and a failing one is reported with its input.
template <class MessageOf>
void check_rows(const std::vector<error_row>& rows, MessageOf message_of) {
  for (const auto& row : rows) {
    INFO("input:\n" << row.input);
    CHECK(message_of(row.input) == row.message);
  }
}

/// Each row's YAML (named "t.yaml") fails to load with exactly the row's
/// message ("<no error>": it loads).
inline void check_errors(const std::vector<error_row>& rows) {
  check_rows(rows, error_of);
}

}  // namespace opea::nodes::test
