#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace YAML {
class Node;
}

namespace opea::nodes {

/// Key names or choices, in the order a message lists them.
using key_list = std::vector<std::string_view>;

/// `text` in double quotes, with `"`, `\`, newlines and tabs escaped, other
/// control characters as '?', cut after 60 characters ("..."), so that a value
/// never breaks the one-line error.
[[nodiscard]] std::string quote(std::string_view text);

/// "a, b, c".
[[nodiscard]] std::string join(const key_list& items);
[[nodiscard]] std::string join(const std::vector<std::string>& items);

/// The key path of `key` under `path`: "path.key", or "key" when `path` is
/// empty (the top level).
[[nodiscard]] std::string child_path(const std::string& path, std::string_view key);

/// The key path of list item `index` of `path`: "path[index]".
[[nodiscard]] std::string element_path(const std::string& path, std::size_t index);

/// What `node` holds, for "expected X, got Y": "null", "a list", "a map" or
/// the quoted scalar.
[[nodiscard]] std::string describe(const YAML::Node& node);

/// Typed access to a parsed YAML document whose every failure throws
/// config_error with one line "SOURCE: KEY.PATH: PROBLEM" (just "SOURCE:
/// PROBLEM" for the document itself). Key paths are written as the user
/// would look for them: `services.s1.retry.attempts`, `megaservices[0].flows[1]`.
/// A reader holds only the source name; it is used on the loading thread.
class yaml_reader {
 public:
  /// `source` names the text in every message (the file name as given).
  explicit yaml_reader(std::string source) : source_(std::move(source)) {}

  [[nodiscard]] const std::string& source() const { return source_; }

  /// Throws config_error "SOURCE: PATH: PROBLEM" ("SOURCE: PROBLEM" if `path` is empty).
  [[noreturn]] void fail(const std::string& path, const std::string& problem) const;

  /// `node` must be a map: "expected a map, got ...".
  void expect_map(const YAML::Node& node, const std::string& path) const;

  /// `node` must be a map whose keys are plain names, unique and all in
  /// `valid`. An unknown key fails with the valid keys, and with "did you mean
  /// "x"?" when one is within two edits of it.
  void check_keys(const YAML::Node& node, const std::string& path, const key_list& valid) const;

  /// A map key: must be a scalar ("map keys must be plain names, got ...").
  [[nodiscard]] std::string key_of(const YAML::Node& key, const std::string& path) const;

  /// The keys of map `node` in document order, rejecting duplicates.
  [[nodiscard]] std::vector<std::string> ordered_keys(const YAML::Node& node,
                                                      const std::string& path) const;

  /// A non-empty scalar.
  [[nodiscard]] std::string read_string(const YAML::Node& node, const std::string& path) const;

  /// A non-empty string that is a valid name (letters, digits, '_', '-', '.').
  [[nodiscard]] std::string read_name(const YAML::Node& node, const std::string& path) const;

  /// An integer in [min, max] ("expected an integer MIN..MAX", or ">= MIN"
  /// when `max` is the largest int64); a leading '+' is allowed.
  [[nodiscard]] std::int64_t read_int(const YAML::Node& node, const std::string& path,
                                      std::int64_t min, std::int64_t max) const;

  /// An integer or decimal number in [min, max] ("expected a number MIN..MAX").
  [[nodiscard]] double read_number(const YAML::Node& node, const std::string& path, double min,
                                   double max) const;

  /// true or false, case-insensitive (YAML 1.2: yes/no/on/off are not booleans).
  [[nodiscard]] bool read_bool(const YAML::Node& node, const std::string& path) const;

  /// A string that must be one of `choices` (lower case; the value is
  /// compared case-insensitively). Returns the index of the choice.
  [[nodiscard]] std::size_t read_choice(const YAML::Node& node, const std::string& path,
                                        const key_list& choices) const;

  /// A non-empty list of non-empty strings; `what` names the items in the
  /// message ("expected a non-empty list of WHAT, got ...").
  [[nodiscard]] std::vector<std::string> read_string_list(const YAML::Node& node,
                                                          const std::string& path,
                                                          const std::string& what) const;

  /// Free-form YAML as JSON, plain scalars resolved with YAML 1.2's core
  /// schema (null, booleans, integers, floats; quoted scalars stay strings);
  /// duplicate keys fail.
  [[nodiscard]] nlohmann::json to_json(const YAML::Node& node, const std::string& path) const;

 private:
  std::string source_;
};

}  // namespace opea::nodes
