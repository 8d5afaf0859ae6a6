#include "nodes/config/cluster_settings.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>

#include <yaml-cpp/yaml.h>

#include "nodes/config/node_config.hpp"
#include "nodes/config/yaml_reader.hpp"
#include "runtime/text/text.hpp"

namespace opea::nodes {

namespace {

const key_list balance_policies = {"round_robin", "least_outstanding"};

// A cluster.tls file: relative paths are made relative to `base_dir`; "{node}" stays as is.
std::string resolve_path(const std::string& path, const std::string& base_dir) {
  std::filesystem::path p(path);
  if (p.is_absolute() || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

void read_cluster_member(const yaml_reader& r, const YAML::Node& node, const std::string& path,
                         cluster_member& out) {
  r.check_keys(node, path, {"host", "port", "http_port", "data_dir"});
  auto host = node["host"];
  if (!host) r.fail(path, "missing required key \"host\"");
  out.host = r.read_string(host, child_path(path, "host"));
  auto port = node["port"];
  if (!port) r.fail(path, "missing required key \"port\"");
  out.port = static_cast<std::uint16_t>(r.read_int(port, child_path(path, "port"), 1, 65535));
  if (auto v = node["http_port"]) {
    out.http_port =
        static_cast<std::uint16_t>(r.read_int(v, child_path(path, "http_port"), 0, 65535));
  }
  if (auto v = node["data_dir"]) out.data_dir = r.read_string(v, child_path(path, "data_dir"));
}

}  // namespace

std::string_view to_string(balance_policy policy) {
  switch (policy) {
    case balance_policy::round_robin:
      return "round_robin";
    case balance_policy::least_outstanding:
      return "least_outstanding";
  }
  return "round_robin";
}

const cluster_member* cluster_settings::find(std::string_view name) const {
  for (const auto& member : members) {
    if (member.name == name) return &member;
  }
  return nullptr;
}

std::vector<std::string> cluster_settings::member_names() const {
  std::vector<std::string> out;
  for (const auto& m : members) out.push_back(m.name);
  return out;
}

void read_cluster(const yaml_reader& r, const YAML::Node& node, const std::string& base_dir,
                  cluster_settings& out) {
  const std::string path = "cluster";
  r.check_keys(
      node, path,
      {"name", "nodes", "failure_timeout_ms", "heartbeat_ms", "reconnect_ms", "balance", "tls"});
  out.enabled = true;
  if (auto v = node["name"]) out.name = r.read_name(v, child_path(path, "name"));

  auto nodes = node["nodes"];
  if (!nodes) r.fail(path, "missing required key \"nodes\" (the members: name -> {host, port})");
  const std::string nodes_path = child_path(path, "nodes");
  auto names = r.ordered_keys(nodes, nodes_path);
  if (names.empty()) r.fail(nodes_path, "expected at least one member");
  for (const auto& name : names) {
    std::string member_path = child_path(nodes_path, name);
    if (!is_valid_service_name(name)) {
      r.fail(member_path, "invalid member name (use letters, digits, '_', '-', '.')");
    }
    cluster_member m;
    m.name = name;
    read_cluster_member(r, nodes[name], member_path, m);
    for (const auto& other : out.members) {
      if (text::lower(other.host) == text::lower(m.host) && other.port == m.port) {
        r.fail(member_path, "duplicate address " + quote(m.host + ":" + std::to_string(m.port)) +
                                " (also " + child_path(nodes_path, other.name) + ")");
      }
    }
    out.members.push_back(std::move(m));
  }

  constexpr auto max_ms = std::numeric_limits<std::uint32_t>::max();
  if (auto v = node["failure_timeout_ms"]) {
    out.failure_timeout_ms = static_cast<std::uint32_t>(
        r.read_int(v, child_path(path, "failure_timeout_ms"), 100, max_ms));
  }
  auto heartbeat = node["heartbeat_ms"];
  if (heartbeat) {
    out.heartbeat_ms = static_cast<std::uint32_t>(
        r.read_int(heartbeat, child_path(path, "heartbeat_ms"), 10, max_ms));
  }
  if (out.heartbeat_ms >= out.failure_timeout_ms) {
    if (heartbeat) {
      r.fail(child_path(path, "heartbeat_ms"), "must be smaller than failure_timeout_ms (" +
                                                   std::to_string(out.failure_timeout_ms) + ")");
    }
    r.fail(child_path(path, "failure_timeout_ms"), "must be larger than heartbeat_ms (" +
                                                       std::to_string(out.heartbeat_ms) +
                                                       ", its default; set heartbeat_ms lower)");
  }
  if (auto v = node["reconnect_ms"]) {
    out.reconnect_ms =
        static_cast<std::uint32_t>(r.read_int(v, child_path(path, "reconnect_ms"), 10, max_ms));
  }
  if (auto v = node["balance"]) {
    out.balance = static_cast<balance_policy>(
        r.read_choice(v, child_path(path, "balance"), balance_policies));
  }
  if (auto tls = node["tls"]) {
    const std::string tls_path = child_path(path, "tls");
    r.check_keys(tls, tls_path, {"ca", "certificate", "key"});
    auto file = [&](const char* key) {
      auto v = tls[key];
      if (!v) r.fail(tls_path, std::string{"missing required key \""} + key + "\"");
      return resolve_path(r.read_string(v, child_path(tls_path, key)), base_dir);
    };
    out.tls.enabled = true;
    out.tls.ca = file("ca");
    out.tls.certificate = file("certificate");
    out.tls.key = file("key");
  }
}

std::vector<std::string> read_member_list(const yaml_reader& r, const YAML::Node& node,
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
      r.fail(element_path(path, i), "unknown cluster member " + quote(name) +
                                        " (members: " + join(cluster.member_names()) + ")");
    }
    if (std::find(out.begin(), out.end(), name) != out.end()) {
      r.fail(element_path(path, i), "duplicate member " + quote(name));
    }
    out.push_back(name);
  }
  return out;
}

void select_cluster_member(node_config& config, const std::string& name) {
  const std::string where = config.source_name + ": --node: ";
  if (!config.cluster.enabled) throw config_error(where + "the file has no cluster section");
  const auto* member = config.cluster.find(name);
  if (member == nullptr) {
    throw config_error(where + "unknown cluster member '" + name +
                       "' (members: " + join(config.cluster.member_names()) + ")");
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
                     join(config.cluster.member_names()) + ")");
}

}  // namespace opea::nodes
