#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace YAML {
class Node;
}

namespace opea::nodes {

class yaml_reader;
struct node_config;

/// How a service proxy picks among the live replicas of a service.
enum class balance_policy {
  /// Each call goes to the next live replica in turn. The default.
  round_robin,
  /// Each call goes to the replica with the fewest calls in flight (ties: the
  /// first in `run_on` order).
  least_outstanding,
};

/// "round_robin" or "least_outstanding".
[[nodiscard]] std::string_view to_string(balance_policy policy);

/// `cluster.nodes.<name>`: one member of the cluster.
struct cluster_member {
  /// The key under `cluster.nodes` (a name: letters, digits, '_', '-', '.').
  std::string name;
  /// Host (name or address) the other nodes dial for the cluster link. Required.
  std::string host;
  /// Cluster (CAF middleman) port this node listens on, 1..65535. Required.
  std::uint16_t port = 0;
  /// The node's HTTP port (node.http.port when this member is started);
  /// unset = the `node.http.port` of the file (default 8888).
  std::optional<std::uint16_t> http_port;
  /// The node's data directory; unset = `<node.data_dir>/<name>`.
  std::optional<std::string> data_dir;
};

/// `cluster.tls`: mutual TLS on the cluster links. Paths may contain
/// "{node}", replaced by the member's name. Relative paths are relative to
/// the directory of the config file.
struct cluster_tls {
  /// False when the section is absent: plain BASP links.
  bool enabled = false;
  /// PEM file of the cluster CA every member certificate must chain to. Required.
  std::string ca;
  /// PEM certificate of this node; its subject CN (or a DNS subjectAltName)
  /// must equal the node's name. Required.
  std::string certificate;
  /// PEM private key of `certificate`. Required.
  std::string key;
};

/// `cluster`: this file describes a cluster; `opea-node --config FILE --node N`
/// starts member N.
struct cluster_settings {
  /// False when the file has no `cluster` section (a single node).
  bool enabled = false;
  /// Cluster name, shown by GET /v1/cluster. Default: "opea".
  std::string name = "opea";
  /// The members, in file order; at least one, names unique, (host, port) unique.
  std::vector<cluster_member> members;
  /// The member this process is (from --node). Set by `select_cluster_member`.
  std::string self;
  /// A peer silent for this long is declared down and its replicas leave every
  /// proxy (CAF's middleman.connection-timeout). A crashed peer whose TCP
  /// connection closes is noticed at once regardless. Detection takes up to
  /// failure_timeout_ms + heartbeat_ms (2 s with the defaults). Default: 1500 ms; >= 100.
  std::uint32_t failure_timeout_ms = 1500;
  /// Interval of the keep-alive messages on idle links (CAF's
  /// middleman.heartbeat-interval); must be below failure_timeout_ms.
  /// Default: 500 ms; >= 10.
  std::uint32_t heartbeat_ms = 500;
  /// Delay between attempts to reach a peer that is not up (yet). Default:
  /// 250 ms; >= 10.
  std::uint32_t reconnect_ms = 250;
  /// Default: round_robin.
  balance_policy balance = balance_policy::round_robin;
  cluster_tls tls;

  /// The member called `name`, or nullptr.
  [[nodiscard]] const cluster_member* find(std::string_view name) const;
  /// The members' names, in file order.
  [[nodiscard]] std::vector<std::string> member_names() const;
};

/// Reads the `cluster` section into `out` (and sets `out.enabled`). Relative
/// `tls` paths are made relative to `base_dir` (the config file's directory;
/// empty for in-memory text: they stay as written). Throws config_error
/// through `r`.
void read_cluster(const yaml_reader& r, const YAML::Node& node, const std::string& base_dir,
                  cluster_settings& out);

/// `run_on` / `serve_on`: a non-empty list of distinct members of `cluster`;
/// only valid in a file with a `cluster` section.
[[nodiscard]] std::vector<std::string> read_member_list(const yaml_reader& r,
                                                        const YAML::Node& node,
                                                        const std::string& path,
                                                        const cluster_settings& cluster);

/// Makes `config` describe cluster member `name` (the `--node` flag): sets
/// `cluster.self` and `node.name` to `name`, `node.http.port` to the member's
/// `http_port` if it has one, and `node.data_dir` to the member's `data_dir`,
/// or else to `<node.data_dir>/<name>`. Call it once, before apply_overrides
/// (the command-line flags win). Throws config_error
/// "FILE: --node: unknown cluster member 'x' (members: n1, n2)" or
/// "FILE: --node: the file has no cluster section".
void select_cluster_member(node_config& config, const std::string& name);

/// Throws config_error "FILE: cluster: choose the member to start with --node
/// (members: n1, n2)" if `config` has a cluster section but no member was
/// selected; does nothing for a single-node file or a selected member.
void require_cluster_member(const node_config& config);

}  // namespace opea::nodes
