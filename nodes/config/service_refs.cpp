#include "nodes/config/service_refs.hpp"

#include <yaml-cpp/yaml.h>

#include "nodes/config/node_config.hpp"
#include "nodes/config/yaml_reader.hpp"
#include "runtime/text/text.hpp"

namespace opea::nodes {

std::string service_list_hint(const node_config& config) {
  std::vector<std::string> declared;
  for (const auto& s : config.services) declared.push_back(s.name);
  return declared.empty() ? std::string(" (no services are declared)")
                          : " (declared services: " + join(declared) + ")";
}

runtime::url read_service_url(const yaml_reader& r, const YAML::Node& node,
                              const std::string& path) {
  std::string text = r.read_string(node, path);
  auto url = runtime::url::parse(text);
  if (!url) {
    std::string problem = quote(text) + " is not an http URL";
    if (text::lower(text).rfind("https://", 0) == 0)
      problem += "; https is not supported for services";
    r.fail(path, problem + " (expected http://host:port/path)");
  }
  return *url;
}

void read_flows(const yaml_reader& r, const YAML::Node& flows, const std::string& path,
                const node_config& config, flow_graph& graph) {
  if (!flows.IsSequence() || flows.size() == 0) {
    r.fail(path, "expected a non-empty list of flows like \"s1 >> s2\", got " + describe(flows));
  }
  for (std::size_t i = 0; i < flows.size(); ++i) {
    std::string item_path = element_path(path, i);
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

}  // namespace opea::nodes
