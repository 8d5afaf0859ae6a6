#include "nodes/config/yaml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <locale>
#include <set>
#include <sstream>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "nodes/config/config_error.hpp"
#include "nodes/config/mega_flow.hpp"
#include "runtime/text/text.hpp"

namespace opea::nodes {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

nlohmann::json scalar_to_json(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() != "?") return text;  // quoted or explicitly tagged: a string
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  std::string_view digits = text;
  if (digits.front() == '+') digits.remove_prefix(1);
  if (!digits.empty() && digits.find_first_not_of("-0123456789") == std::string_view::npos) {
    std::int64_t i = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), i);
    if (ec == std::errc() && end == digits.data() + digits.size()) return i;
    std::uint64_t u = 0;
    auto [uend, uec] = std::from_chars(digits.data(), digits.data() + digits.size(), u);
    if (uec == std::errc() && uend == digits.data() + digits.size()) return u;
  }
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'o')) {
    std::uint64_t u = 0;
    int base = text[1] == 'x' ? 16 : 8;
    auto [end, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), u, base);
    if (ec == std::errc() && end == text.data() + text.size()) return u;
  }
  if (text.find_first_of("0123456789") != std::string::npos &&
      text.find_first_not_of("+-.0123456789eE") == std::string::npos) {
    std::istringstream in(text);
    in.imbue(std::locale::classic());
    double d = 0;
    if (in >> d && in.peek() == std::char_traits<char>::eof()) return d;
  }
  return text;
}

}  // namespace

// --- message helpers -------------------------------------------------------------

std::string quote(std::string_view text) {
  constexpr std::size_t max_chars = 60;
  std::string out = "\"";
  std::size_t n = 0;
  for (char c : text) {
    if (++n > max_chars) {
      out += "...";
      break;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (std::iscntrl(static_cast<unsigned char>(c))) {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string join(const key_list& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string join(const std::vector<std::string>& items) {
  return join(key_list(items.begin(), items.end()));
}

std::string child_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string element_path(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      return quote(node.Scalar());
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

// --- yaml_reader -----------------------------------------------------------------

void yaml_reader::fail(const std::string& path, const std::string& problem) const {
  if (path.empty()) throw config_error(source_ + ": " + problem);
  throw config_error(source_ + ": " + path + ": " + problem);
}

void yaml_reader::expect_map(const YAML::Node& node, const std::string& path) const {
  if (!node.IsMap()) fail(path, "expected a map, got " + describe(node));
}

void yaml_reader::check_keys(const YAML::Node& node, const std::string& path,
                             const key_list& valid) const {
  expect_map(node, path);
  std::set<std::string> seen;
  for (const auto& entry : node) {
    std::string key = key_of(entry.first, path);
    if (!seen.insert(key).second) fail(child_path(path, key), "duplicate key");
    if (std::find(valid.begin(), valid.end(), key) != valid.end()) continue;
    std::string hint;
    for (const auto& candidate : valid) {
      std::size_t d = edit_distance(key, candidate);
      if (d <= 2 && d < candidate.size()) {
        hint = "did you mean " + quote(candidate) + "? ";
        break;
      }
    }
    fail(child_path(path, key), "unknown key (" + hint + "valid keys: " + join(valid) + ")");
  }
}

std::string yaml_reader::key_of(const YAML::Node& key, const std::string& path) const {
  if (!key.IsScalar()) fail(path, "map keys must be plain names, got " + describe(key));
  return key.Scalar();
}

std::vector<std::string> yaml_reader::ordered_keys(const YAML::Node& node,
                                                   const std::string& path) const {
  expect_map(node, path);
  std::vector<std::string> keys;
  for (const auto& entry : node) {
    std::string key = key_of(entry.first, path);
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
      fail(child_path(path, key), "duplicate key");
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

std::string yaml_reader::read_string(const YAML::Node& node, const std::string& path) const {
  if (!node.IsScalar() || node.Scalar().empty()) {
    fail(path, "expected a non-empty string, got " + describe(node));
  }
  return node.Scalar();
}

std::string yaml_reader::read_name(const YAML::Node& node, const std::string& path) const {
  std::string name = read_string(node, path);
  if (!is_valid_service_name(name)) {
    fail(path, quote(name) + " is not a valid name (use letters, digits, '_', '-', '.')");
  }
  return name;
}

std::int64_t yaml_reader::read_int(const YAML::Node& node, const std::string& path,
                                   std::int64_t min, std::int64_t max) const {
  std::string range = max == std::numeric_limits<std::int64_t>::max()
                          ? ">= " + std::to_string(min)
                          : std::to_string(min) + ".." + std::to_string(max);
  auto bad = [&] { fail(path, "expected an integer " + range + ", got " + describe(node)); };
  if (!node.IsScalar()) bad();
  std::string_view text = node.Scalar();
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || end != text.data() + text.size() || ec == std::errc::result_out_of_range ||
      value < min || value > max) {
    bad();
  }
  if (ec != std::errc()) bad();
  return value;
}

double yaml_reader::read_number(const YAML::Node& node, const std::string& path, double min,
                                double max) const {
  auto bad = [&] {
    std::ostringstream range;
    range << min << ".." << max;
    fail(path, "expected a number " + range.str() + ", got " + describe(node));
  };
  if (!node.IsScalar()) bad();
  const auto& text = node.Scalar();
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(value >= min && value <= max)) bad();
  return value;
}

bool yaml_reader::read_bool(const YAML::Node& node, const std::string& path) const {
  if (node.IsScalar()) {
    std::string value = text::lower(node.Scalar());
    if (value == "true") return true;
    if (value == "false") return false;
  }
  fail(path, "expected true or false, got " + describe(node));
}

std::size_t yaml_reader::read_choice(const YAML::Node& node, const std::string& path,
                                     const key_list& choices) const {
  if (node.IsScalar()) {
    std::string value = text::lower(node.Scalar());
    for (std::size_t i = 0; i < choices.size(); ++i) {
      if (value == choices[i]) return i;
    }
  }
  fail(path, "expected one of " + join(choices) + ", got " + describe(node));
}

std::vector<std::string> yaml_reader::read_string_list(const YAML::Node& node,
                                                       const std::string& path,
                                                       const std::string& what) const {
  if (!node.IsSequence() || node.size() == 0) {
    fail(path, "expected a non-empty list of " + what + ", got " + describe(node));
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < node.size(); ++i) {
    out.push_back(read_string(node[i], element_path(path, i)));
  }
  return out;
}

nlohmann::json yaml_reader::to_json(const YAML::Node& node, const std::string& path) const {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar_to_json(node);
    case YAML::NodeType::Sequence: {
      auto out = nlohmann::json::array();
      for (std::size_t i = 0; i < node.size(); ++i) {
        out.push_back(to_json(node[i], element_path(path, i)));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      auto out = nlohmann::json::object();
      for (const auto& entry : node) {
        std::string key = key_of(entry.first, path);
        if (out.contains(key)) fail(child_path(path, key), "duplicate key");
        out[key] = to_json(entry.second, child_path(path, key));
      }
      return out;
    }
  }
  return nullptr;
}

}  // namespace opea::nodes
