#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

namespace opea::test {

/// The ChatQnA pipeline as tests run it: examples/chatqna/chatqna.yaml (the
/// file users start from) with a test's changes, so every test runs the
/// example's services, parameters and flows unless it says otherwise.
///
/// The example's corpus path becomes absolute (it is relative to the
/// repository), and `node.data_dir` and `node.http` are dropped (tests pass
/// `--data-dir` and `--http-port 0`). Not thread-safe; a value.
class chatqna_config {
 public:
  /// Loads `source_dir`/examples/chatqna/chatqna.yaml. Default: this
  /// repository. Throws YAML::Exception when the file cannot be read.
  explicit chatqna_config(const std::string& source_dir = OPEA_TEST_SOURCE_DIR);

  /// Merges the YAML mapping `patch` into the document: mappings merge key by
  /// key, a null value deletes the key, any other value replaces it. E.g.
  /// `merge("node: {name: cq, log_level: warn}\ndataprep: {corpus: null}")`.
  chatqna_config& merge(const std::string& patch);

  /// Replaces the value at `path` (keys separated by dots, a number indexes a
  /// sequence; all but the last must exist) with the YAML `value`. E.g.
  /// `set("megaservices.0.flows", "[llm]")`,
  /// `set("services.llm", "{builtin: llm, params: {backend: openai, url: ...}}")`.
  /// A last index equal to the sequence's size appends.
  chatqna_config& set(const std::string& path, const std::string& value);

  /// The document as YAML text, to write to a file for opea-node.
  std::string yaml() const;

 private:
  YAML::Node doc_;
};

}  // namespace opea::test
