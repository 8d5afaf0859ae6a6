#include "nodes/config/opea_format.hpp"

#include <yaml-cpp/yaml.h>

#include "nodes/config/node_config.hpp"
#include "nodes/config/service_refs.hpp"

namespace opea::nodes {

namespace {

void read_micro_service(const yaml_reader& r, const std::string& name, const YAML::Node& node,
                        const std::string& path, node_config& config) {
  r.check_keys(node, path, {"endpoint", "host", "port"});
  service_config s;
  s.name = name;
  s.kind = service_kind::http;
  auto endpoint = node["endpoint"];
  if (!endpoint) r.fail(path, "missing required key \"endpoint\" (http://host:port/path)");
  std::string endpoint_path = child_path(path, "endpoint");
  std::string text = r.read_string(endpoint, endpoint_path);
  bool has_parts = node["host"] || node["port"];
  if (!has_parts || text.front() != '/') {
    s.endpoint = read_service_url(r, endpoint, endpoint_path);
    s.url = text;
    if (has_parts) {
      r.fail(child_path(path, node["host"] ? "host" : "port"),
             "not allowed when endpoint is a full URL (give endpoint as a path like \"/v1/add\")");
    }
  } else {
    // Extension: host/port given separately, endpoint is the path (like register_microservice).
    if (!node["port"]) r.fail(path, "missing required key \"port\" (endpoint is a path)");
    s.endpoint.port =
        static_cast<std::uint16_t>(r.read_int(node["port"], child_path(path, "port"), 1, 65535));
    s.endpoint.host =
        node["host"] ? r.read_string(node["host"], child_path(path, "host")) : "localhost";
    s.endpoint.target = text;
    s.url = s.endpoint.to_string();
    if (!runtime::url::parse(s.url)) {
      r.fail(path, quote(s.url) + " is not an http URL (expected http://host:port/path)");
    }
  }
  config.services.push_back(std::move(s));
}

}  // namespace

const key_list& opea_top_keys() {
  static const key_list keys = {"opea_micro_services", "opea_mega_service"};
  return keys;
}

void read_opea_format(const yaml_reader& r, const YAML::Node& root, node_config& config) {
  config.source_format = "opea";
  r.check_keys(root, "", opea_top_keys());
  auto micro = root["opea_micro_services"];
  if (!micro) r.fail("", "missing required key \"opea_micro_services\"");
  auto mega = root["opea_mega_service"];
  if (!mega) r.fail("", "missing required key \"opea_mega_service\"");

  const std::string micro_path = "opea_micro_services";
  auto names = r.ordered_keys(micro, micro_path);
  if (names.empty()) r.fail(micro_path, "expected at least one microservice");
  for (const auto& name : names) {
    std::string path = child_path(micro_path, name);
    if (!is_valid_service_name(name)) {
      r.fail(path, "invalid service name (use letters, digits, '_', '-', '.')");
    }
    read_micro_service(r, name, micro[name], path, config);
  }

  const std::string mega_path = "opea_mega_service";
  r.check_keys(mega, mega_path, {"host", "port", "endpoint", "mega_flow"});
  if (auto v = mega["host"]) {
    config.node.http.host = r.read_string(v, child_path(mega_path, "host"));
  }
  if (auto v = mega["port"]) {
    config.node.http.port =
        static_cast<std::uint16_t>(r.read_int(v, child_path(mega_path, "port"), 0, 65535));
  }
  megaservice_config m;
  m.name = "megaservice";
  m.route = "/v1/megaservice";
  if (auto v = mega["endpoint"]) {
    m.route = r.read_string(v, child_path(mega_path, "endpoint"));
    if (m.route.front() != '/' || m.route.find_first_of(" \t?#") != std::string::npos) {
      r.fail(child_path(mega_path, "endpoint"),
             quote(m.route) + " must be a plain path starting with '/'");
    }
  }
  if (auto flows = mega["mega_flow"]) {
    flow_graph graph;
    read_flows(r, flows, child_path(mega_path, "mega_flow"), config, graph);
    m.nodes = graph.nodes;
    m.edges = graph.edges;
  } else {
    // As OPEA's _construct_dag_from_nodes: every microservice, no edges.
    m.nodes = names;
  }
  config.megaservices.push_back(std::move(m));
}

}  // namespace opea::nodes
