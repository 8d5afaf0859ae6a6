#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace opea::nodes {

/// A directed edge `from >> to` between two services of a megaservice.
using flow_edge = std::pair<std::string, std::string>;

/// The graph described by one or more OPEA `mega_flow` rules.
struct flow_graph {
  /// Services in order of first appearance.
  std::vector<std::string> nodes;
  /// Edges in order of first appearance, without duplicates.
  std::vector<flow_edge> edges;
};

/// Why a flow rule did not parse.
struct flow_syntax_error {
  /// 1-based column in the rule where the problem was found.
  std::size_t column = 0;
  /// One line ending in the position, e.g. "expected a service name at column 6".
  std::string message;
};

/// True if `name` can name a service or node: non-empty, only ASCII letters,
/// digits, '_', '-' and '.'.
[[nodiscard]] bool is_valid_service_name(std::string_view name);

/// Parses one OPEA `mega_flow` rule and adds its nodes and edges to `graph`:
///
///     rule  := group (">>" group)*
///     group := name | "(" name ("," name)* ")"
///
/// `"(a, b) >> c >> (d, e)"` adds every edge between consecutive groups
/// (a>>c, b>>c, c>>d, c>>e). Whitespace around tokens is ignored; a rule with a
/// single group adds nodes only. A self-loop (`a >> a`) and a name repeated
/// inside one group are errors. On error `graph` is left unchanged.
/// Cycles across edges are not detected here; the runtime's DAG rejects them.
[[nodiscard]] std::optional<flow_syntax_error> parse_mega_flow(std::string_view rule,
                                                               flow_graph& graph);

}  // namespace opea::nodes
