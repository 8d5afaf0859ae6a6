#pragma once

#include <string>

#include "nodes/config/mega_flow.hpp"
#include "runtime/service/url.hpp"

namespace YAML {
class Node;
}

namespace opea::nodes {

class yaml_reader;
struct node_config;

// What both file formats read the same way: where a service lives (an http
// URL) and graphs that name declared services (OPEA's mega_flow rules, which
// opea-cpp's `flows` reuses). All throw config_error through `r`.

/// " (declared services: s1, s2)", or " (no services are declared)": the end
/// of every "unknown service" message.
[[nodiscard]] std::string service_list_hint(const node_config& config);

/// An `http://host[:port][/path]` URL ("... is not an http URL (expected
/// http://host:port/path)", saying so when it is https).
[[nodiscard]] runtime::url read_service_url(const yaml_reader& r, const YAML::Node& node,
                                            const std::string& path);

/// A non-empty list of mega_flow rules (see parse_mega_flow) whose services
/// are all declared in `config`, added to `graph` in order.
void read_flows(const yaml_reader& r, const YAML::Node& flows, const std::string& path,
                const node_config& config, flow_graph& graph);

}  // namespace opea::nodes
