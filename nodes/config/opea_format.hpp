#pragma once

#include "nodes/config/yaml_reader.hpp"

namespace opea::nodes {

struct node_config;

// OPEA's ServiceOrchestratorWithYaml file (GenAIComps'
// tests/cores/mega/megaservice.yaml), which opea-node also accepts:
//
//     opea_micro_services:
//       s1: {endpoint: http://localhost:8081/v1/add}   # or {host, port, endpoint: /v1/add}
//     opea_mega_service:
//       {host: 0.0.0.0, port: 8888, endpoint: /v1/megaservice, mega_flow: ["s1 >> s2"]}
//
// Every microservice is an http service; the file describes one megaservice
// "megaservice" (route /v1/megaservice unless `endpoint` says otherwise), whose
// graph is the mega_flow rules or, without them, every microservice and no
// edges (as OPEA's _construct_dag_from_nodes).

/// The top-level keys of OPEA's format: opea_micro_services, opea_mega_service.
[[nodiscard]] const key_list& opea_top_keys();

/// Reads a whole file in OPEA's format into `config` (sets source_format
/// "opea"). Throws config_error through `r`.
void read_opea_format(const yaml_reader& r, const YAML::Node& root, node_config& config);

}  // namespace opea::nodes
