#include "nodes/config/node_config.hpp"

#include "runtime/errors.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include <yaml-cpp/yaml.h>

namespace opea::nodes {

namespace {

using key_list = std::vector<std::string_view>;

// ---------------------------------------------------------------------------
// Message helpers: every error is one line, so values are quoted with escapes
// and long values are cut short.

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

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string element(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

// What a node holds, for "expected X, got Y" messages.
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

// ---------------------------------------------------------------------------
// reader: typed access to YAML nodes that throws config_error naming the file
// and the key path.

class reader {
 public:
  explicit reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& problem) const {
    if (path.empty()) throw config_error(source_ + ": " + problem);
    throw config_error(source_ + ": " + path + ": " + problem);
  }

  // Checks that `node` is a map whose keys are unique and all in `valid`.
  void expect_map(const YAML::Node& node, const std::string& path) const {
    if (!node.IsMap()) fail(path, "expected a map, got " + describe(node));
  }

  void check_keys(const YAML::Node& node, const std::string& path, const key_list& valid) const {
    expect_map(node, path);
    std::set<std::string> seen;
    for (const auto& entry : node) {
      std::string key = key_of(entry.first, path);
      if (!seen.insert(key).second) fail(child(path, key), "duplicate key");
      if (std::find(valid.begin(), valid.end(), key) != valid.end()) continue;
      std::string hint;
      for (const auto& candidate : valid) {
        std::size_t d = edit_distance(key, candidate);
        if (d <= 2 && d < candidate.size()) {
          hint = "did you mean " + quote(candidate) + "? ";
          break;
        }
      }
      fail(child(path, key), "unknown key (" + hint + "valid keys: " + join(valid) + ")");
    }
  }

  // Map keys must be non-empty scalars.
  std::string key_of(const YAML::Node& key, const std::string& path) const {
    if (!key.IsScalar()) fail(path, "map keys must be plain names, got " + describe(key));
    return key.Scalar();
  }

  // Keys of `node` in document order, rejecting duplicates.
  std::vector<std::string> ordered_keys(const YAML::Node& node, const std::string& path) const {
    expect_map(node, path);
    std::vector<std::string> keys;
    for (const auto& entry : node) {
      std::string key = key_of(entry.first, path);
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
        fail(child(path, key), "duplicate key");
      }
      keys.push_back(std::move(key));
    }
    return keys;
  }

  std::string read_string(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar() || node.Scalar().empty()) {
      fail(path, "expected a non-empty string, got " + describe(node));
    }
    return node.Scalar();
  }

  std::string read_name(const YAML::Node& node, const std::string& path) const {
    std::string name = read_string(node, path);
    if (!is_valid_service_name(name)) {
      fail(path, quote(name) + " is not a valid name (use letters, digits, '_', '-', '.')");
    }
    return name;
  }

  std::int64_t read_int(const YAML::Node& node, const std::string& path, std::int64_t min,
                        std::int64_t max) const {
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

  // true or false, case-insensitive (YAML 1.2: yes/no/on/off are not booleans).
  bool read_bool(const YAML::Node& node, const std::string& path) const {
    if (node.IsScalar()) {
      std::string value = lower(node.Scalar());
      if (value == "true") return true;
      if (value == "false") return false;
    }
    fail(path, "expected true or false, got " + describe(node));
  }

  // A string that must be one of `choices` (case-insensitive); returns its index.
  std::size_t read_choice(const YAML::Node& node, const std::string& path,
                          const key_list& choices) const {
    if (node.IsScalar()) {
      std::string value = lower(node.Scalar());
      for (std::size_t i = 0; i < choices.size(); ++i) {
        if (value == choices[i]) return i;
      }
    }
    fail(path, "expected one of " + join(choices) + ", got " + describe(node));
  }

  std::vector<std::string> read_string_list(const YAML::Node& node, const std::string& path,
                                            const std::string& what) const {
    if (!node.IsSequence() || node.size() == 0) {
      fail(path, "expected a non-empty list of " + what + ", got " + describe(node));
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < node.size(); ++i) {
      out.push_back(read_string(node[i], element(path, i)));
    }
    return out;
  }

  // Free-form YAML to JSON, resolving plain scalars with YAML 1.2's core schema.
  nlohmann::json to_json(const YAML::Node& node, const std::string& path) const {
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return nullptr;
      case YAML::NodeType::Scalar:
        return scalar_to_json(node);
      case YAML::NodeType::Sequence: {
        auto out = nlohmann::json::array();
        for (std::size_t i = 0; i < node.size(); ++i) {
          out.push_back(to_json(node[i], element(path, i)));
        }
        return out;
      }
      case YAML::NodeType::Map: {
        auto out = nlohmann::json::object();
        for (const auto& entry : node) {
          std::string key = key_of(entry.first, path);
          if (out.contains(key)) fail(child(path, key), "duplicate key");
          out[key] = to_json(entry.second, child(path, key));
        }
        return out;
      }
    }
    return nullptr;
  }

 private:
  static nlohmann::json scalar_to_json(const YAML::Node& node) {
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

  std::string source_;
};

// ---------------------------------------------------------------------------
// Shared validation of one flow list into a megaservice graph.

std::string service_list_hint(const node_config& config) {
  std::vector<std::string> declared;
  for (const auto& s : config.services) declared.push_back(s.name);
  return declared.empty() ? std::string(" (no services are declared)")
                          : " (declared services: " + join(declared) + ")";
}

void add_flows(const reader& r, const YAML::Node& flows, const std::string& path,
               const node_config& config, flow_graph& graph) {
  if (!flows.IsSequence() || flows.size() == 0) {
    r.fail(path, "expected a non-empty list of flows like \"s1 >> s2\", got " + describe(flows));
  }
  for (std::size_t i = 0; i < flows.size(); ++i) {
    std::string item_path = element(path, i);
    const YAML::Node& item = flows[i];
    if (!item.IsScalar()) {
      r.fail(item_path, "expected a flow like \"s1 >> s2\", got " + describe(item));
    }
    const std::string& text = item.Scalar();
    std::string where = item_path + " " + quote(text);
    flow_graph rule;
    if (auto err = parse_mega_flow(text, rule)) r.fail(where, err->message);
    for (const auto& name : rule.nodes) {
      if (config.find_service(name) == nullptr) {
        r.fail(where, "unknown service " + quote(name) + service_list_hint(config));
      }
    }
    // Cannot fail: the rule parsed once already.
    (void)parse_mega_flow(text, graph);
  }
}

// ---------------------------------------------------------------------------
// Format A: opea-cpp's own node/services/megaservices.

const key_list top_keys = {"node", "services", "megaservices", "dataprep", "cluster"};
const key_list opea_top_keys = {"opea_micro_services", "opea_mega_service"};
const key_list log_levels = {"trace", "debug", "info", "warn", "error", "off"};
const key_list policies(runtime::scheduler_policy_names.begin(),
                        runtime::scheduler_policy_names.end());
const key_list kinds = {"builtin", "http"};
const key_list http_methods = {"GET", "POST", "PUT", "PATCH", "DELETE"};
const key_list balance_policies = {"round_robin", "least_outstanding"};

// `cluster` and the per-service / per-megaservice placement keys.

std::vector<std::string> member_names(const cluster_settings& cluster) {
  std::vector<std::string> out;
  for (const auto& m : cluster.members) out.push_back(m.name);
  return out;
}

// `path` of a cluster.tls file: relative paths are made relative to `base_dir`
// (the config file's directory; empty for in-memory text). "{node}" stays as is.
std::string resolve_path(const std::string& path, const std::filesystem::path& base_dir) {
  std::filesystem::path p(path);
  if (p.is_absolute() || base_dir.empty()) return path;
  return (base_dir / p).lexically_normal().string();
}

void read_cluster_member(const reader& r, const YAML::Node& node, const std::string& path,
                         cluster_member& out) {
  r.check_keys(node, path, {"host", "port", "http_port", "data_dir"});
  auto host = node["host"];
  if (!host) r.fail(path, "missing required key \"host\"");
  out.host = r.read_string(host, child(path, "host"));
  auto port = node["port"];
  if (!port) r.fail(path, "missing required key \"port\"");
  out.port = static_cast<std::uint16_t>(r.read_int(port, child(path, "port"), 1, 65535));
  if (auto v = node["http_port"]) {
    out.http_port = static_cast<std::uint16_t>(r.read_int(v, child(path, "http_port"), 0, 65535));
  }
  if (auto v = node["data_dir"]) out.data_dir = r.read_string(v, child(path, "data_dir"));
}

void read_cluster(const reader& r, const YAML::Node& node, const std::filesystem::path& base_dir,
                  cluster_settings& out) {
  const std::string path = "cluster";
  r.check_keys(
      node, path,
      {"name", "nodes", "failure_timeout_ms", "heartbeat_ms", "reconnect_ms", "balance", "tls"});
  out.enabled = true;
  if (auto v = node["name"]) out.name = r.read_name(v, child(path, "name"));

  auto nodes = node["nodes"];
  if (!nodes) r.fail(path, "missing required key \"nodes\" (the members: name -> {host, port})");
  const std::string nodes_path = child(path, "nodes");
  auto names = r.ordered_keys(nodes, nodes_path);
  if (names.empty()) r.fail(nodes_path, "expected at least one member");
  for (const auto& name : names) {
    std::string member_path = child(nodes_path, name);
    if (!is_valid_service_name(name)) {
      r.fail(member_path, "invalid member name (use letters, digits, '_', '-', '.')");
    }
    cluster_member m;
    m.name = name;
    read_cluster_member(r, nodes[name], member_path, m);
    for (const auto& other : out.members) {
      if (lower(other.host) == lower(m.host) && other.port == m.port) {
        r.fail(member_path, "duplicate address " + quote(m.host + ":" + std::to_string(m.port)) +
                                " (also " + child(nodes_path, other.name) + ")");
      }
    }
    out.members.push_back(std::move(m));
  }

  constexpr auto max_ms = std::numeric_limits<std::uint32_t>::max();
  if (auto v = node["failure_timeout_ms"]) {
    out.failure_timeout_ms =
        static_cast<std::uint32_t>(r.read_int(v, child(path, "failure_timeout_ms"), 100, max_ms));
  }
  auto heartbeat = node["heartbeat_ms"];
  if (heartbeat) {
    out.heartbeat_ms =
        static_cast<std::uint32_t>(r.read_int(heartbeat, child(path, "heartbeat_ms"), 10, max_ms));
  }
  if (out.heartbeat_ms >= out.failure_timeout_ms) {
    if (heartbeat) {
      r.fail(child(path, "heartbeat_ms"), "must be smaller than failure_timeout_ms (" +
                                              std::to_string(out.failure_timeout_ms) + ")");
    }
    r.fail(child(path, "failure_timeout_ms"), "must be larger than heartbeat_ms (" +
                                                  std::to_string(out.heartbeat_ms) +
                                                  ", its default; set heartbeat_ms lower)");
  }
  if (auto v = node["reconnect_ms"]) {
    out.reconnect_ms =
        static_cast<std::uint32_t>(r.read_int(v, child(path, "reconnect_ms"), 10, max_ms));
  }
  if (auto v = node["balance"]) {
    out.balance =
        static_cast<balance_policy>(r.read_choice(v, child(path, "balance"), balance_policies));
  }
  if (auto tls = node["tls"]) {
    const std::string tls_path = child(path, "tls");
    r.check_keys(tls, tls_path, {"ca", "certificate", "key"});
    auto file = [&](const char* key) {
      auto v = tls[key];
      if (!v) r.fail(tls_path, std::string{"missing required key \""} + key + "\"");
      return resolve_path(r.read_string(v, child(tls_path, key)), base_dir);
    };
    out.tls.enabled = true;
    out.tls.ca = file("ca");
    out.tls.certificate = file("certificate");
    out.tls.key = file("key");
  }
}

// `run_on` / `serve_on`: a non-empty list of distinct cluster members.
std::vector<std::string> read_member_list(const reader& r, const YAML::Node& node,
                                          const std::string& path,
                                          const cluster_settings& cluster) {
  if (!cluster.enabled) {
    r.fail(path, "only valid in a file with a \"cluster\" section");
  }
  auto listed = r.read_string_list(node, path, "cluster member names");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < listed.size(); ++i) {
    const auto& name = listed[i];
    if (cluster.find(name) == nullptr) {
      r.fail(element(path, i), "unknown cluster member " + quote(name) +
                                   " (members: " + join(member_names(cluster)) + ")");
    }
    if (std::find(out.begin(), out.end(), name) != out.end()) {
      r.fail(element(path, i), "duplicate member " + quote(name));
    }
    out.push_back(name);
  }
  return out;
}

void read_supervision(const reader& r, const YAML::Node& node, const std::string& path,
                      runtime::supervisor_flags& out);

void read_node_settings(const reader& r, const YAML::Node& node, node_settings& out) {
  const std::string path = "node";
  r.check_keys(node, path, {"name", "data_dir", "http", "scheduler", "log_level", "supervision"});
  if (auto v = node["name"]) out.name = r.read_name(v, "node.name");
  if (auto v = node["data_dir"]) out.data_dir = r.read_string(v, "node.data_dir");
  if (auto http = node["http"]) {
    r.check_keys(http, "node.http", {"host", "port", "io_threads", "max_body_bytes"});
    if (auto v = http["host"]) out.http.host = r.read_string(v, "node.http.host");
    if (auto v = http["port"]) {
      out.http.port = static_cast<std::uint16_t>(r.read_int(v, "node.http.port", 0, 65535));
    }
    if (auto v = http["io_threads"]) {
      out.http.io_threads =
          static_cast<std::size_t>(r.read_int(v, "node.http.io_threads", 1, 1024));
    }
    if (auto v = http["max_body_bytes"]) {
      out.http.max_body_bytes = static_cast<std::uint64_t>(
          r.read_int(v, "node.http.max_body_bytes", 1, std::numeric_limits<std::int64_t>::max()));
    }
  }
  if (auto sched = node["scheduler"]) {
    r.check_keys(sched, "node.scheduler", {"max_threads", "policy"});
    if (auto v = sched["max_threads"]) {
      out.scheduler.max_threads =
          static_cast<std::size_t>(r.read_int(v, "node.scheduler.max_threads", 1, 1024));
    }
    if (auto v = sched["policy"]) {
      out.scheduler.policy =
          static_cast<scheduler_policy>(r.read_choice(v, "node.scheduler.policy", policies));
    }
  }
  if (auto v = node["log_level"]) {
    out.log = static_cast<log_level>(r.read_choice(v, "node.log_level", log_levels));
  }
  if (auto v = node["supervision"]) read_supervision(r, v, "node.supervision", out.supervision);
}

constexpr int max_service_type = static_cast<int>(runtime::service_type::text2query);

int read_service_type(const reader& r, const YAML::Node& node, const std::string& path) {
  if (node.IsScalar()) {
    if (auto value = runtime::parse_service_type(node.Scalar())) return static_cast<int>(*value);
    const std::string& text = node.Scalar();
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
      return static_cast<int>(r.read_int(node, path, 0, max_service_type));
    }
  }
  r.fail(path,
         "expected an OPEA service type name (gateway, embedding, retriever, rerank, llm, "
         "..., undefined, ...) or its value 0.." +
             std::to_string(max_service_type) + ", got " + describe(node));
}

const key_list restart_types = {"permanent", "transient", "temporary"};

/// `restart`: a restart type alone, or {type, max_restarts, within_seconds}.
void read_restart(const reader& r, const YAML::Node& node, const std::string& path,
                  restart_intensity& out) {
  if (node.IsScalar()) {
    out.type = static_cast<runtime::restart_type>(r.read_choice(node, path, restart_types));
    return;
  }
  if (!node.IsMap())
    r.fail(path, "expected permanent, transient, temporary or a map {type, max_restarts, "
                 "within_seconds}, got " +
                     describe(node));
  r.check_keys(node, path, {"type", "max_restarts", "within_seconds"});
  if (auto v = node["type"])
    out.type = static_cast<runtime::restart_type>(r.read_choice(v, child(path, "type"), restart_types));
  if (auto v = node["max_restarts"]) {
    out.max_restarts = static_cast<int>(r.read_int(v, child(path, "max_restarts"), 0, 1000000));
  }
  if (auto v = node["within_seconds"]) {
    out.within_seconds = static_cast<int>(r.read_int(v, child(path, "within_seconds"), 1, 1000000));
  }
}

/// One integer key of a policy map, with its range.
struct int_key {
  const char* name;
  long long min;
  long long max;
};

/// A number (integer or decimal) in [min, max], for the policy maps.
double read_number(const reader& r, const YAML::Node& node, const std::string& path, double min,
                   double max) {
  auto bad = [&] {
    std::ostringstream range;
    range << min << ".." << max;
    r.fail(path, "expected a number " + range.str() + ", got " + describe(node));
  };
  if (!node.IsScalar()) bad();
  const auto& text = node.Scalar();
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(value >= min && value <= max)) bad();
  return value;
}

/// A policy map: `node` must be a map with `required` (saying what it
/// means, for the error) and any of `optional`.
void expect_policy_map(const reader& r, const YAML::Node& node, const std::string& path,
                       const char* required, const char* required_means,
                       const key_list& keys) {
  if (!node.IsMap()) r.fail(path, "expected a map {" + join(keys) + "}, got " + describe(node));
  r.check_keys(node, path, keys);
  if (required != nullptr && !node[required])
    r.fail(path, std::string{"needs \""} + required + "\": " + required_means);
}

std::uint32_t read_u32(const reader& r, const YAML::Node& node, const std::string& path,
                       int_key key) {
  return static_cast<std::uint32_t>(r.read_int(node[key.name], child(path, key.name), key.min,
                                               key.max));
}

/// A settings value the runtime refused (`make`): the error names the field.
[[noreturn]] void refuse(const reader& r, const std::string& path, const caf::error& err) {
  r.fail(child(path, runtime::subject_of(err)), runtime::detail_of(err));
}

constexpr long long max_ms = 24LL * 3600 * 1000;

/// `circuit_breaker`: the shorthand {failures, open_ms}, or Resilience4j's keys.
runtime::circuit_breaker_settings read_breaker(const reader& r, const YAML::Node& node,
                                               const std::string& path) {
  const key_list shorthand{"failures", "open_ms"};
  const key_list full{"sliding_window_type",     "sliding_window_size",
                      "minimum_calls",           "failure_rate_threshold",
                      "slow_call_rate_threshold", "slow_call_duration_ms",
                      "wait_in_open_ms",         "wait_in_open_multiplier",
                      "max_wait_in_open_ms",     "permitted_calls_in_half_open"};
  if (!node.IsMap())
    r.fail(path, "expected a map {failures, open_ms} or {" + join(full) + "}, got " +
                     describe(node));
  bool any_full = false;
  for (const auto& k : full) any_full = any_full || static_cast<bool>(node[std::string{k}]);
  if (!any_full) {
    if (!node["failures"]) {
      key_list all = shorthand;
      all.insert(all.end(), full.begin(), full.end());
      r.check_keys(node, path, all);  // a misspelt key is named first
    }
    expect_policy_map(r, node, path, "failures", "consecutive failed calls that open the circuit",
                      shorthand);
    auto failures = read_u32(r, node, path, {"failures", 1, 1000000});
    std::chrono::milliseconds open{5000};
    if (node["open_ms"])
      open = std::chrono::milliseconds{read_u32(r, node, path, {"open_ms", 1, max_ms})};
    return runtime::circuit_breaker_settings::consecutive(failures, open);
  }
  if (node["failures"] || node["open_ms"])
    r.fail(child(path, node["failures"] ? "failures" : "open_ms"),
           "the consecutive-failures shorthand {failures, open_ms} cannot be combined with the "
           "sliding-window keys (use wait_in_open_ms for how long the circuit stays open)");
  expect_policy_map(r, node, path, nullptr, nullptr, full);
  runtime::circuit_breaker_settings out;
  using kind = runtime::circuit_breaker_settings::window_kind;
  if (auto v = node["sliding_window_type"])
    out.window = r.read_choice(v, child(path, "sliding_window_type"), {"count_based", "time_based"}) == 0
                     ? kind::count_based
                     : kind::time_based;
  if (node["sliding_window_size"])
    out.window_size = read_u32(r, node, path, {"sliding_window_size", 1, 1000000});
  if (node["minimum_calls"]) out.minimum_calls = read_u32(r, node, path, {"minimum_calls", 1, 1000000});
  if (auto v = node["failure_rate_threshold"])
    out.failure_rate_threshold = read_number(r, v, child(path, "failure_rate_threshold"), 0, 100);
  if (auto v = node["slow_call_rate_threshold"])
    out.slow_call_rate_threshold =
        read_number(r, v, child(path, "slow_call_rate_threshold"), 0, 100);
  if (node["slow_call_duration_ms"])
    out.slow_call_duration =
        std::chrono::milliseconds{read_u32(r, node, path, {"slow_call_duration_ms", 1, max_ms})};
  if (node["wait_in_open_ms"])
    out.wait_in_open =
        std::chrono::milliseconds{read_u32(r, node, path, {"wait_in_open_ms", 1, max_ms})};
  if (auto v = node["wait_in_open_multiplier"])
    out.wait_in_open_multiplier = read_number(r, v, child(path, "wait_in_open_multiplier"), 1, 1000);
  if (node["max_wait_in_open_ms"])
    out.max_wait_in_open =
        std::chrono::milliseconds{read_u32(r, node, path, {"max_wait_in_open_ms", 1, max_ms})};
  if (node["permitted_calls_in_half_open"])
    out.permitted_calls_in_half_open =
        read_u32(r, node, path, {"permitted_calls_in_half_open", 1, 1000000});
  if (auto made = runtime::circuit_breaker::make(out); !made) refuse(r, path, made.error());
  return out;
}

runtime::bulkhead_settings read_bulkhead(const reader& r, const YAML::Node& node,
                                         const std::string& path) {
  expect_policy_map(r, node, path, "max_in_flight", "calls to the service in flight at once",
                    {"max_in_flight", "max_queue", "max_wait_ms"});
  runtime::bulkhead_settings out;
  out.max_concurrent_calls = read_u32(r, node, path, {"max_in_flight", 1, 1000000});
  if (node["max_queue"]) out.max_queue = read_u32(r, node, path, {"max_queue", 0, 1000000});
  if (node["max_wait_ms"])
    out.max_wait = std::chrono::milliseconds{read_u32(r, node, path, {"max_wait_ms", 0, max_ms})};
  if (auto made = runtime::bulkhead::make(out); !made) refuse(r, path, made.error());
  return out;
}

runtime::retry_settings read_retry(const reader& r, const YAML::Node& node,
                                   const std::string& path) {
  expect_policy_map(r, node, path, "attempts", "calls in all, the first one included",
                    {"attempts", "backoff_ms", "max_backoff_ms", "budget_percent",
                     "min_retry_concurrency"});
  runtime::retry_settings out;
  out.attempts = read_u32(r, node, path, {"attempts", 1, 100});
  if (node["backoff_ms"])
    out.backoff = std::chrono::milliseconds{read_u32(r, node, path, {"backoff_ms", 1, 60000})};
  if (node["max_backoff_ms"])
    out.max_backoff =
        std::chrono::milliseconds{read_u32(r, node, path, {"max_backoff_ms", 1, 3600000})};
  else
    out.max_backoff = std::max(out.max_backoff, out.backoff);
  if (auto v = node["budget_percent"])
    out.budget_percent = read_number(r, v, child(path, "budget_percent"), 0, 100);
  if (node["min_retry_concurrency"])
    out.min_retry_concurrency = read_u32(r, node, path, {"min_retry_concurrency", 0, 1000000});
  if (auto made = runtime::retry_schedule::make(out, true); !made) refuse(r, path, made.error());
  return out;
}

/// `supervision`: an OTP supervisor's flags, starting from `out`'s values.
void read_supervision(const reader& r, const YAML::Node& node, const std::string& path,
                      runtime::supervisor_flags& out) {
  expect_policy_map(r, node, path, nullptr, nullptr,
                    {"strategy", "intensity", "period_ms", "backoff_min_ms", "backoff_max_ms",
                     "backoff_random_factor"});
  if (auto v = node["strategy"])
    out.strategy = static_cast<runtime::supervision_strategy>(
        r.read_choice(v, child(path, "strategy"), {"one_for_one", "one_for_all", "rest_for_one"}));
  if (node["intensity"]) out.intensity = read_u32(r, node, path, {"intensity", 0, 1000000});
  if (node["period_ms"])
    out.period = std::chrono::milliseconds{read_u32(r, node, path, {"period_ms", 1, max_ms})};
  if (node["backoff_min_ms"]) {
    out.backoff_min =
        std::chrono::milliseconds{read_u32(r, node, path, {"backoff_min_ms", 0, max_ms})};
    if (!node["backoff_max_ms"]) out.backoff_max = std::max(out.backoff_max, out.backoff_min * 10);
  }
  if (node["backoff_max_ms"])
    out.backoff_max =
        std::chrono::milliseconds{read_u32(r, node, path, {"backoff_max_ms", 0, max_ms})};
  if (auto v = node["backoff_random_factor"])
    out.backoff_random_factor = read_number(r, v, child(path, "backoff_random_factor"), 0, 1);
  auto ok = runtime::supervisor_flags::validated(out);
  if (!ok) {
    auto field = runtime::subject_of(ok.error());
    if (field == "period" || field == "backoff_min" || field == "backoff_max") field += "_ms";
    r.fail(child(path, field), runtime::detail_of(ok.error()));
  }
}

http_url read_url(const reader& r, const YAML::Node& node, const std::string& path) {
  std::string text = r.read_string(node, path);
  auto url = parse_http_url(text);
  if (!url) {
    std::string problem = quote(text) + " is not an http URL";
    if (lower(text).rfind("https://", 0) == 0) problem += "; https is not supported for services";
    r.fail(path, problem + " (expected http://host:port/path)");
  }
  return *url;
}

service_config read_service(const reader& r, const std::string& name, const YAML::Node& node,
                            const std::string& path, const cluster_settings& cluster) {
  r.check_keys(node, path,
               {"kind", "builtin", "params", "service_type", "restart", "url", "timeout_ms",
                "run_on", "idempotent", "circuit_breaker", "bulkhead", "retry"});
  service_config s;
  s.name = name;
  if (auto v = node["kind"]) {
    s.kind = static_cast<service_kind>(r.read_choice(v, child(path, "kind"), kinds));
  } else {
    s.kind = node["url"] ? service_kind::http : service_kind::builtin;
  }
  auto only_for = [&](std::string_view key, service_kind kind) {
    if (node[std::string(key)] && s.kind != kind) {
      r.fail(child(path, key), "only valid for kind " + std::string(to_string(kind)) +
                                   " (this service is kind " + std::string(to_string(s.kind)) +
                                   ")");
    }
  };
  only_for("builtin", service_kind::builtin);
  only_for("params", service_kind::builtin);
  only_for("url", service_kind::http);
  only_for("timeout_ms", service_kind::http);
  if (s.kind == service_kind::builtin) {
    auto v = node["builtin"];
    if (!v) r.fail(path, "kind builtin needs a \"builtin\" key naming the in-process built-in");
    s.builtin = r.read_string(v, child(path, "builtin"));
    if (auto p = node["params"]) {
      if (!p.IsMap()) r.fail(child(path, "params"), "expected a map, got " + describe(p));
      s.params = r.to_json(p, child(path, "params"));
    }
  } else {
    auto v = node["url"];
    if (!v) r.fail(path, "kind http needs a \"url\" key (http://host:port/path)");
    s.endpoint = read_url(r, v, child(path, "url"));
    s.url = v.Scalar();
    if (auto t = node["timeout_ms"]) {
      s.timeout_ms = static_cast<std::uint32_t>(
          r.read_int(t, child(path, "timeout_ms"), 1, std::numeric_limits<std::uint32_t>::max()));
    }
  }
  if (auto v = node["service_type"])
    s.service_type = read_service_type(r, v, child(path, "service_type"));
  if (auto v = node["restart"]) read_restart(r, v, child(path, "restart"), s.restart);
  if (auto v = node["circuit_breaker"]) s.breaker = read_breaker(r, v, child(path, "circuit_breaker"));
  if (auto v = node["bulkhead"]) s.bulkhead = read_bulkhead(r, v, child(path, "bulkhead"));
  bool retry_given = false;
  if (auto v = node["retry"]) {
    s.retry = read_retry(r, v, child(path, "retry"));
    retry_given = true;
  }
  if (auto v = node["run_on"]) s.run_on = read_member_list(r, v, child(path, "run_on"), cluster);
  if (auto v = node["idempotent"]) s.idempotent = r.read_bool(v, child(path, "idempotent"));
  if (s.retry.attempts > 1 && !is_idempotent(s))
    r.fail(child(path, "retry"), "a retry repeats calls, so it needs an idempotent service "
                                 "(set idempotent: true if calls to '" +
                                     name + "' may be repeated)");
  // A member lost mid-call is a transient failure: an idempotent service on
  // other members is retried elsewhere unless the file says otherwise.
  if (!retry_given && !s.run_on.empty() && is_idempotent(s)) s.retry.attempts = 3;
  return s;
}

void read_services(const reader& r, const YAML::Node& node, node_config& config) {
  const std::string path = "services";
  for (const auto& name : r.ordered_keys(node, path)) {
    std::string service_path = child(path, name);
    if (!is_valid_service_name(name)) {
      r.fail(service_path, "invalid service name (use letters, digits, '_', '-', '.')");
    }
    config.services.push_back(read_service(r, name, node[name], service_path, config.cluster));
  }
}

megaservice_config read_megaservice(const reader& r, const YAML::Node& node,
                                    const std::string& path, const node_config& config) {
  r.check_keys(node, path,
               {"name", "route", "methods", "deadline_ms", "flows", "nodes", "api", "openai_route",
                "serve_on", "supervision"});
  megaservice_config m;
  if (auto v = node["api"]) {
    static const key_list apis = {"json", "chatqna"};
    m.api = static_cast<megaservice_api>(r.read_choice(v, child(path, "api"), apis));
  }
  if (auto v = node["openai_route"]) {
    if (m.api != megaservice_api::chatqna)
      r.fail(child(path, "openai_route"), "only applies to megaservices with api: chatqna");
    // An explicitly empty string ('') turns the OpenAI route off.
    if (v.IsScalar() && v.Scalar().empty() && v.Tag() == "!")
      m.openai_route.clear();
    else
      m.openai_route = r.read_string(v, child(path, "openai_route"));
    if (!m.openai_route.empty() && m.openai_route.front() != '/')
      r.fail(child(path, "openai_route"),
             quote(m.openai_route) + " must start with '/' (or be \"\" for none)");
  } else if (m.api == megaservice_api::chatqna) {
    m.openai_route = "/v1/chat/completions";
  }
  auto name = node["name"];
  if (!name) r.fail(path, "missing required key \"name\"");
  m.name = r.read_name(name, child(path, "name"));
  auto route = node["route"];
  if (!route) r.fail(path, "missing required key \"route\"");
  m.route = r.read_string(route, child(path, "route"));
  if (m.route.front() != '/') r.fail(child(path, "route"), quote(m.route) + " must start with '/'");
  if (m.route.find_first_of(" \t?#") != std::string::npos) {
    r.fail(child(path, "route"), quote(m.route) + " must be a plain path (no spaces, '?' or '#')");
  }
  if (auto v = node["methods"]) {
    std::string methods_path = child(path, "methods");
    auto raw = r.read_string_list(v, methods_path, "HTTP methods");
    m.methods.clear();
    for (std::size_t i = 0; i < raw.size(); ++i) {
      std::string method = upper(raw[i]);
      if (std::find(http_methods.begin(), http_methods.end(), method) == http_methods.end()) {
        r.fail(element(methods_path, i),
               "expected one of " + join(http_methods) + ", got " + quote(raw[i]));
      }
      if (std::find(m.methods.begin(), m.methods.end(), method) != m.methods.end()) {
        r.fail(element(methods_path, i), "duplicate method " + quote(method));
      }
      m.methods.push_back(method);
    }
  }
  if (auto v = node["deadline_ms"]) {
    m.deadline_ms = static_cast<std::uint32_t>(
        r.read_int(v, child(path, "deadline_ms"), 1, std::numeric_limits<std::uint32_t>::max()));
  }
  auto flows = node["flows"];
  auto nodes = node["nodes"];
  if (!flows && !nodes) {
    r.fail(path, "needs \"flows\" (e.g. [\"s1 >> s2\"]) or \"nodes\" (e.g. [s1])");
  }
  flow_graph graph;
  if (flows) add_flows(r, flows, child(path, "flows"), config, graph);
  m.edges = graph.edges;
  if (nodes) {
    std::string nodes_path = child(path, "nodes");
    auto listed = r.read_string_list(nodes, nodes_path, "service names");
    for (std::size_t i = 0; i < listed.size(); ++i) {
      const auto& n = listed[i];
      if (config.find_service(n) == nullptr) {
        r.fail(element(nodes_path, i), "unknown service " + quote(n) + service_list_hint(config));
      }
      if (std::find(m.nodes.begin(), m.nodes.end(), n) != m.nodes.end()) {
        r.fail(element(nodes_path, i), "duplicate service " + quote(n));
      }
      m.nodes.push_back(n);
    }
    for (const auto& n : graph.nodes) {
      if (std::find(m.nodes.begin(), m.nodes.end(), n) == m.nodes.end()) {
        r.fail(nodes_path, "service " + quote(n) + " appears in flows but is not listed");
      }
    }
  } else {
    m.nodes = graph.nodes;
  }
  if (auto v = node["serve_on"]) {
    m.serve_on = read_member_list(r, v, child(path, "serve_on"), config.cluster);
  }
  if (auto v = node["supervision"]) read_supervision(r, v, child(path, "supervision"), m.supervision);
  return m;
}

void read_megaservices(const reader& r, const YAML::Node& node, node_config& config) {
  const std::string path = "megaservices";
  if (!node.IsSequence()) r.fail(path, "expected a list, got " + describe(node));
  for (std::size_t i = 0; i < node.size(); ++i) {
    std::string item_path = element(path, i);
    auto m = read_megaservice(r, node[i], item_path, config);
    for (std::size_t j = 0; j < config.megaservices.size(); ++j) {
      const auto& other = config.megaservices[j];
      if (other.name == m.name) {
        r.fail(child(item_path, "name"),
               "duplicate megaservice name " + quote(m.name) + " (also " + element(path, j) + ")");
      }
      if (other.route == m.route) {
        r.fail(child(item_path, "route"),
               "duplicate route " + quote(m.route) + " (also " + element(path, j) + ")");
      }
    }
    config.megaservices.push_back(std::move(m));
  }
}

void read_dataprep(const reader& r, const YAML::Node& node, node_config& config) {
  const std::string path = "dataprep";
  r.check_keys(node, path, {"embedding", "retriever", "corpus", "chunk_size", "chunk_overlap"});
  dataprep_settings d;
  d.enabled = true;
  auto service_ref = [&](const char* key, const char* builtin) {
    auto v = node[key];
    if (!v) r.fail(path, std::string{"missing required key \""} + key + "\"");
    auto name = r.read_name(v, child(path, key));
    const auto* svc = config.find_service(name);
    if (svc == nullptr)
      r.fail(child(path, key), "unknown service " + quote(name) + service_list_hint(config));
    if (svc->kind != service_kind::builtin || svc->builtin != builtin)
      r.fail(child(path, key),
             "service " + quote(name) + " must be a builtin: " + builtin + " service");
    return name;
  };
  d.embedding = service_ref("embedding", "embedding");
  d.retriever = service_ref("retriever", "retriever");
  if (auto v = node["corpus"]) d.corpus = r.read_string(v, child(path, "corpus"));
  if (auto v = node["chunk_size"])
    d.chunk_size = static_cast<std::size_t>(r.read_int(v, child(path, "chunk_size"), 50, 100000));
  if (auto v = node["chunk_overlap"])
    d.chunk_overlap =
        static_cast<std::size_t>(r.read_int(v, child(path, "chunk_overlap"), 0, 100000));
  if (d.chunk_overlap >= d.chunk_size)
    r.fail(child(path, "chunk_overlap"),
           "must be smaller than chunk_size (" + std::to_string(d.chunk_size) + ")");
  config.dataprep = std::move(d);
}

void read_opea_cpp(const reader& r, const YAML::Node& root, const std::filesystem::path& base_dir,
                   node_config& config) {
  config.source_format = "opea-cpp";
  r.check_keys(root, "", top_keys);
  if (auto v = root["node"]) read_node_settings(r, v, config.node);
  // First, wherever it is in the file: services and megaservices name its members.
  if (auto v = root["cluster"]) read_cluster(r, v, base_dir, config.cluster);
  if (auto v = root["services"]) read_services(r, v, config);
  if (auto v = root["megaservices"]) read_megaservices(r, v, config);
  if (auto v = root["dataprep"]) read_dataprep(r, v, config);
}

// ---------------------------------------------------------------------------
// Format B: OPEA's ServiceOrchestratorWithYaml file.

void read_opea_micro_service(const reader& r, const std::string& name, const YAML::Node& node,
                             const std::string& path, node_config& config) {
  r.check_keys(node, path, {"endpoint", "host", "port"});
  service_config s;
  s.name = name;
  s.kind = service_kind::http;
  auto endpoint = node["endpoint"];
  if (!endpoint) r.fail(path, "missing required key \"endpoint\" (http://host:port/path)");
  std::string endpoint_path = child(path, "endpoint");
  std::string text = r.read_string(endpoint, endpoint_path);
  bool has_parts = node["host"] || node["port"];
  if (!has_parts || text.front() != '/') {
    s.endpoint = read_url(r, endpoint, endpoint_path);
    s.url = text;
    if (has_parts) {
      r.fail(child(path, node["host"] ? "host" : "port"),
             "not allowed when endpoint is a full URL (give endpoint as a path like \"/v1/add\")");
    }
  } else {
    // Extension: host/port given separately, endpoint is the path (like register_microservice).
    if (!node["port"]) r.fail(path, "missing required key \"port\" (endpoint is a path)");
    s.endpoint.port =
        static_cast<std::uint16_t>(r.read_int(node["port"], child(path, "port"), 1, 65535));
    s.endpoint.host = node["host"] ? r.read_string(node["host"], child(path, "host")) : "localhost";
    s.endpoint.path = text;
    s.url = s.endpoint.to_string();
    if (!parse_http_url(s.url)) {
      r.fail(path, quote(s.url) + " is not an http URL (expected http://host:port/path)");
    }
  }
  config.services.push_back(std::move(s));
}

void read_opea(const reader& r, const YAML::Node& root, node_config& config) {
  config.source_format = "opea";
  r.check_keys(root, "", opea_top_keys);
  auto micro = root["opea_micro_services"];
  if (!micro) r.fail("", "missing required key \"opea_micro_services\"");
  auto mega = root["opea_mega_service"];
  if (!mega) r.fail("", "missing required key \"opea_mega_service\"");

  const std::string micro_path = "opea_micro_services";
  auto names = r.ordered_keys(micro, micro_path);
  if (names.empty()) r.fail(micro_path, "expected at least one microservice");
  for (const auto& name : names) {
    std::string path = child(micro_path, name);
    if (!is_valid_service_name(name)) {
      r.fail(path, "invalid service name (use letters, digits, '_', '-', '.')");
    }
    read_opea_micro_service(r, name, micro[name], path, config);
  }

  const std::string mega_path = "opea_mega_service";
  r.check_keys(mega, mega_path, {"host", "port", "endpoint", "mega_flow"});
  if (auto v = mega["host"]) config.node.http.host = r.read_string(v, child(mega_path, "host"));
  if (auto v = mega["port"]) {
    config.node.http.port =
        static_cast<std::uint16_t>(r.read_int(v, child(mega_path, "port"), 0, 65535));
  }
  megaservice_config m;
  m.name = "megaservice";
  m.route = "/v1/megaservice";
  if (auto v = mega["endpoint"]) {
    m.route = r.read_string(v, child(mega_path, "endpoint"));
    if (m.route.front() != '/' || m.route.find_first_of(" \t?#") != std::string::npos) {
      r.fail(child(mega_path, "endpoint"),
             quote(m.route) + " must be a plain path starting with '/'");
    }
  }
  if (auto flows = mega["mega_flow"]) {
    flow_graph graph;
    add_flows(r, flows, child(mega_path, "mega_flow"), config, graph);
    m.nodes = graph.nodes;
    m.edges = graph.edges;
  } else {
    // As OPEA's _construct_dag_from_nodes: every microservice, no edges.
    m.nodes = names;
  }
  config.megaservices.push_back(std::move(m));
}

// ---------------------------------------------------------------------------
// Either format; relative cluster.tls paths are resolved against `base_dir`.

node_config parse(const std::string& yaml_text, const std::string& source_name,
                  const std::filesystem::path& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    throw config_error(source_name + ":" + std::to_string(e.mark.line + 1) + ":" +
                       std::to_string(e.mark.column + 1) + ": YAML syntax error: " + e.msg);
  }
  reader r(source_name);
  node_config config;
  config.source_name = source_name;
  if (root.IsNull() || !root.IsDefined()) {
    r.fail("",
           "the file is empty (expected the keys node, services, megaservices, or OPEA's "
           "opea_micro_services, opea_mega_service)");
  }
  if (!root.IsMap()) r.fail("", "expected a map at the top level, got " + describe(root));
  try {
    bool opea = false;
    bool ours = false;
    std::string first_opea;
    std::string first_ours;
    for (const auto& entry : root) {
      if (!entry.first.IsScalar()) continue;  // reported by check_keys
      const std::string& key = entry.first.Scalar();
      if (std::find(opea_top_keys.begin(), opea_top_keys.end(), key) != opea_top_keys.end()) {
        if (!opea) first_opea = key;
        opea = true;
      } else if (std::find(top_keys.begin(), top_keys.end(), key) != top_keys.end()) {
        if (!ours) first_ours = key;
        ours = true;
      }
    }
    if (opea && ours) {
      r.fail(first_opea,
             "cannot mix OPEA's format (opea_micro_services, opea_mega_service) "
             "with opea-cpp's (node, services, megaservices; found " +
                 quote(first_ours) + ")");
    }
    if (opea) {
      read_opea(r, root, config);
    } else {
      read_opea_cpp(r, root, base_dir, config);
    }
  } catch (const YAML::Exception& e) {
    // Defensive: the reader checks types before access, so this should not happen.
    r.fail("", std::string("cannot read YAML: ") + e.what());
  }
  return config;
}

}  // namespace

std::string_view to_string(log_level level) {
  return log_levels[static_cast<std::size_t>(level)];
}

std::string_view to_string(service_kind kind) {
  return kinds[static_cast<std::size_t>(kind)];
}

std::size_t default_scheduler_threads() {
  return std::max<std::size_t>(1, std::thread::hardware_concurrency());
}

void apply_supervision(const service_config& service, runtime::micro_service& out) {
  out.restart.max_restarts = static_cast<size_t>(service.restart.max_restarts);
  out.restart.period = std::chrono::seconds{service.restart.within_seconds};
  out.restart_mode = service.restart.type;
  out.idempotent = is_idempotent(service);
  out.breaker = service.breaker;
  out.bulkhead = service.bulkhead;
  out.retry = service.retry;
}

bool is_idempotent(const service_config& service) {
  if (service.idempotent) return *service.idempotent;
  using runtime::service_type;
  auto type = static_cast<service_type>(service.service_type);
  if (type == service_type::undefined && service.kind == service_kind::builtin) {
    // A built-in's type comes from the catalog at node start; its name says it here.
    return service.builtin == "embedding" || service.builtin == "rerank" ||
           service.builtin == "llm";
  }
  return type == service_type::embedding || type == service_type::rerank ||
         type == service_type::llm;
}

const service_config* node_config::find_service(std::string_view name) const {
  for (const auto& s : services) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

node_config parse_node_config(const std::string& yaml_text, const std::string& source_name) {
  return parse(yaml_text, source_name, {});
}

node_config load_node_config(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw config_error(path + ": cannot read config file: is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    throw config_error(path + ": cannot read config file: " + std::strerror(err));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw config_error(path + ": cannot read config file: read error");
  return parse(text.str(), path, std::filesystem::path(path).parent_path());
}

void apply_overrides(node_config& config, std::optional<std::uint16_t> http_port,
                     std::optional<std::string> data_dir) {
  if (http_port) config.node.http.port = *http_port;
  if (data_dir) {
    if (data_dir->empty()) throw config_error("--data-dir: must not be empty");
    config.node.data_dir = std::move(*data_dir);
  }
}

void select_cluster_member(node_config& config, const std::string& name) {
  const std::string where = config.source_name + ": --node: ";
  if (!config.cluster.enabled) throw config_error(where + "the file has no cluster section");
  const auto* member = config.cluster.find(name);
  if (member == nullptr) {
    throw config_error(where + "unknown cluster member '" + name +
                       "' (members: " + join(member_names(config.cluster)) + ")");
  }
  config.cluster.self = name;
  config.node.name = name;
  if (member->http_port) config.node.http.port = *member->http_port;
  config.node.data_dir = member->data_dir
                             ? *member->data_dir
                             : (std::filesystem::path(config.node.data_dir) / name).string();
}

void require_cluster_member(const node_config& config) {
  if (!config.cluster.enabled || !config.cluster.self.empty()) return;
  throw config_error(config.source_name +
                     ": cluster: choose the member to start with --node (members: " +
                     join(member_names(config.cluster)) + ")");
}

}  // namespace opea::nodes
