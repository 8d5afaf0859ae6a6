#include "nodes/config/node_config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "monitoring/log.hpp"
#include "monitoring/tracing/tracing_settings.hpp"
#include "nodes/config/opea_format.hpp"
#include "nodes/config/policy_keys.hpp"
#include "nodes/config/service_refs.hpp"
#include "nodes/config/yaml_reader.hpp"
#include "runtime/text/text.hpp"

namespace opea::nodes {

namespace {

// ---------------------------------------------------------------------------
// opea-cpp's own format: node, services, megaservices, dataprep, cluster
// (cluster_settings.cpp reads that one).

}  // namespace

const std::vector<std::pair<std::string, std::string>>& tracing_keys() {
  static const std::vector<std::pair<std::string, std::string>> keys{
      {"disabled", "OTEL_SDK_DISABLED"},
      {"exporter", "OTEL_TRACES_EXPORTER"},
      {"service_name", "OTEL_SERVICE_NAME"},
      {"resource_attributes", "OTEL_RESOURCE_ATTRIBUTES"},
      {"sampler", "OTEL_TRACES_SAMPLER"},
      {"sampler_arg", "OTEL_TRACES_SAMPLER_ARG"},
      {"endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT"},
      {"traces_endpoint", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
      {"protocol", "OTEL_EXPORTER_OTLP_PROTOCOL"},
      {"headers", "OTEL_EXPORTER_OTLP_HEADERS"},
      {"timeout", "OTEL_EXPORTER_OTLP_TIMEOUT"},
      {"max_queue_size", "OTEL_BSP_MAX_QUEUE_SIZE"},
      {"schedule_delay", "OTEL_BSP_SCHEDULE_DELAY"},
      {"max_export_batch_size", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"},
      {"export_timeout", "OTEL_BSP_EXPORT_TIMEOUT"},
  };
  return keys;
}

namespace {

const key_list top_keys = {"node", "services", "megaservices", "dataprep", "cluster"};
const key_list log_levels = {"trace", "debug", "info", "warn", "error", "off"};
const key_list policies(runtime::scheduler_policy_names.begin(),
                        runtime::scheduler_policy_names.end());
const key_list kinds = {"builtin", "http"};
const key_list http_methods = {"GET", "POST", "PUT", "PATCH", "DELETE"};

/// `node.tracing`: each key is stored as its OTEL_* variable; the values are
/// checked as the environment's would be, with errors naming the key.
void read_tracing(const yaml_reader& r, const YAML::Node& node, node_settings& out) {
  key_list names;
  for (const auto& [key, var] : tracing_keys()) names.push_back(key);
  r.check_keys(node, "node.tracing", names);
  for (const auto& [key, var] : tracing_keys())
    if (auto v = node[key]) {
      auto path = "node.tracing." + key;
      if (!v.IsScalar())
        r.fail(path, "expected a string, a number or a boolean, got " + describe(v));
      out.tracing[var] = v.Scalar();
    }
  try {
    (void)monitoring::tracing_settings::from_environment([&](const char* var) -> const char* {
      auto it = out.tracing.find(var);
      return it == out.tracing.end() ? nullptr : it->second.c_str();
    });
  } catch (const monitoring::tracing_config_error& e) {
    std::string what = e.what();
    for (const auto& [key, var] : tracing_keys())
      if (auto at = what.find(var);
          at != std::string::npos &&
          (at + var.size() == what.size() ||
           !(std::isupper(static_cast<unsigned char>(what[at + var.size()])) ||
             what[at + var.size()] == '_'))) {
        r.fail("node.tracing." + key, what);
      }
    r.fail("node.tracing", what);
  }
}

void read_node_settings(const yaml_reader& r, const YAML::Node& node, node_settings& out) {
  const std::string path = "node";
  r.check_keys(
      node, path,
      {"name", "data_dir", "http", "scheduler", "log_level", "log", "supervision", "tracing"});
  if (auto v = node["name"]) out.name = r.read_name(v, "node.name");
  if (auto v = node["data_dir"]) out.data_dir = r.read_string(v, "node.data_dir");
  if (auto http = node["http"]) {
    r.check_keys(http, "node.http", {"host", "port", "io_threads", "io_workers", "max_body_bytes"});
    if (auto v = http["host"]) out.http.host = r.read_string(v, "node.http.host");
    if (auto v = http["port"]) {
      out.http.port = static_cast<std::uint16_t>(r.read_int(v, "node.http.port", 0, 65535));
    }
    if (auto v = http["io_threads"]) {
      out.http.io_threads =
          static_cast<std::size_t>(r.read_int(v, "node.http.io_threads", 0, 1024));
    }
    if (auto v = http["io_workers"]) {
      out.http.io_workers =
          static_cast<std::size_t>(r.read_int(v, "node.http.io_workers", 1, 1024));
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
  if (auto log = node["log"]) {
    r.check_keys(log, "node.log", {"level", "levels", "format", "access"});
    if (auto v = log["level"]) {
      if (node["log_level"])
        r.fail("node.log.level", "give the level once: node.log.level or node.log_level, not both");
      out.log = static_cast<log_level>(r.read_choice(v, "node.log.level", log_levels));
    }
    if (auto levels = log["levels"]) {
      if (!levels.IsMap())
        r.fail("node.log.levels", "expected a map of component: level (components " +
                                      join(key_list(monitoring::log_component_names.begin(),
                                                    monitoring::log_component_names.end())) +
                                      "), got " + describe(levels));
      for (const auto& entry : levels) {
        auto name = entry.first.Scalar();
        auto key = "node.log.levels." + name;
        auto component = monitoring::parse_log_component(name);
        if (!component)
          r.fail(key, "unknown component '" + name + "'; expected one of " +
                          join(key_list(monitoring::log_component_names.begin(),
                                        monitoring::log_component_names.end())));
        out.log_levels[*component] =
            static_cast<log_level>(r.read_choice(entry.second, key, log_levels));
      }
    }
    if (auto v = log["format"])
      out.format = static_cast<log_format>(r.read_choice(v, "node.log.format", {"text", "json"}));
    if (auto v = log["access"]) out.access_log = r.read_bool(v, "node.log.access");
  }
  if (auto v = node["supervision"]) read_supervision(r, v, "node.supervision", out.supervision);
  if (auto tracing = node["tracing"]) read_tracing(r, tracing, out);
}

constexpr int max_service_type = static_cast<int>(runtime::service_type::text2query);

int read_service_type(const yaml_reader& r, const YAML::Node& node, const std::string& path) {
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

service_config read_service(const yaml_reader& r, const std::string& name, const YAML::Node& node,
                            const std::string& path, const cluster_settings& cluster) {
  r.check_keys(node, path,
               {"kind", "builtin", "params", "service_type", "restart", "url", "timeout_ms",
                "run_on", "idempotent", "circuit_breaker", "bulkhead", "retry"});
  service_config s;
  s.name = name;
  if (auto v = node["kind"]) {
    s.kind = static_cast<service_kind>(r.read_choice(v, child_path(path, "kind"), kinds));
  } else {
    s.kind = node["url"] ? service_kind::http : service_kind::builtin;
  }
  auto only_for = [&](std::string_view key, service_kind kind) {
    if (node[std::string(key)] && s.kind != kind) {
      r.fail(child_path(path, key), "only valid for kind " + std::string(to_string(kind)) +
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
    s.builtin = r.read_string(v, child_path(path, "builtin"));
    if (auto p = node["params"]) {
      if (!p.IsMap()) r.fail(child_path(path, "params"), "expected a map, got " + describe(p));
      s.params = r.to_json(p, child_path(path, "params"));
    }
  } else {
    auto v = node["url"];
    if (!v) r.fail(path, "kind http needs a \"url\" key (http://host:port/path)");
    s.endpoint = read_service_url(r, v, child_path(path, "url"));
    s.url = v.Scalar();
    if (auto t = node["timeout_ms"]) {
      s.timeout_ms = static_cast<std::uint32_t>(r.read_int(
          t, child_path(path, "timeout_ms"), 1, std::numeric_limits<std::uint32_t>::max()));
    }
  }
  if (auto v = node["service_type"])
    s.service_type = read_service_type(r, v, child_path(path, "service_type"));
  if (auto v = node["restart"])
    read_restart(r, v, child_path(path, "restart"), s.restart_mode, s.restart);
  if (auto v = node["circuit_breaker"])
    s.breaker = read_breaker(r, v, child_path(path, "circuit_breaker"));
  if (auto v = node["bulkhead"]) s.bulkhead = read_bulkhead(r, v, child_path(path, "bulkhead"));
  bool retry_given = false;
  if (auto v = node["retry"]) {
    s.retry = read_retry(r, v, child_path(path, "retry"));
    retry_given = true;
  }
  if (auto v = node["run_on"])
    s.run_on = read_member_list(r, v, child_path(path, "run_on"), cluster);
  if (auto v = node["idempotent"]) s.idempotent = r.read_bool(v, child_path(path, "idempotent"));
  if (s.retry.attempts > 1 && !is_idempotent(s))
    r.fail(child_path(path, "retry"),
           "a retry repeats calls, so it needs an idempotent service "
           "(set idempotent: true if calls to '" +
               name + "' may be repeated)");
  // A member lost mid-call is a transient failure: an idempotent service on
  // other members is retried elsewhere unless the file says otherwise.
  if (!retry_given && !s.run_on.empty() && is_idempotent(s)) s.retry.attempts = 3;
  return s;
}

void read_services(const yaml_reader& r, const YAML::Node& node, node_config& config) {
  const std::string path = "services";
  for (const auto& name : r.ordered_keys(node, path)) {
    std::string service_path = child_path(path, name);
    if (!is_valid_service_name(name)) {
      r.fail(service_path, "invalid service name (use letters, digits, '_', '-', '.')");
    }
    config.services.push_back(read_service(r, name, node[name], service_path, config.cluster));
  }
}

megaservice_config read_megaservice(const yaml_reader& r, const YAML::Node& node,
                                    const std::string& path, const node_config& config) {
  r.check_keys(node, path,
               {"name", "route", "methods", "deadline_ms", "flows", "nodes", "api", "openai_route",
                "serve_on", "supervision"});
  megaservice_config m;
  if (auto v = node["api"]) {
    m.api = text::lower(r.read_string(v, child_path(path, "api")));
  }
  if (auto v = node["openai_route"]) {
    if (m.api != "chatqna")
      r.fail(child_path(path, "openai_route"), "only applies to megaservices with api: chatqna");
    // An explicitly empty string ('') turns the OpenAI route off.
    if (v.IsScalar() && v.Scalar().empty() && v.Tag() == "!")
      m.openai_route.clear();
    else
      m.openai_route = r.read_string(v, child_path(path, "openai_route"));
    if (!m.openai_route.empty() && m.openai_route.front() != '/')
      r.fail(child_path(path, "openai_route"),
             quote(m.openai_route) + " must start with '/' (or be \"\" for none)");
  } else if (m.api == "chatqna") {
    m.openai_route = "/v1/chat/completions";
  }
  auto name = node["name"];
  if (!name) r.fail(path, "missing required key \"name\"");
  m.name = r.read_name(name, child_path(path, "name"));
  auto route = node["route"];
  if (!route) r.fail(path, "missing required key \"route\"");
  m.route = r.read_string(route, child_path(path, "route"));
  if (m.route.front() != '/')
    r.fail(child_path(path, "route"), quote(m.route) + " must start with '/'");
  if (m.route.find_first_of(" \t?#") != std::string::npos) {
    r.fail(child_path(path, "route"),
           quote(m.route) + " must be a plain path (no spaces, '?' or '#')");
  }
  if (auto v = node["methods"]) {
    std::string methods_path = child_path(path, "methods");
    auto raw = r.read_string_list(v, methods_path, "HTTP methods");
    m.methods.clear();
    for (std::size_t i = 0; i < raw.size(); ++i) {
      std::string method = text::upper(raw[i]);
      if (std::find(http_methods.begin(), http_methods.end(), method) == http_methods.end()) {
        r.fail(element_path(methods_path, i),
               "expected one of " + join(http_methods) + ", got " + quote(raw[i]));
      }
      if (std::find(m.methods.begin(), m.methods.end(), method) != m.methods.end()) {
        r.fail(element_path(methods_path, i), "duplicate method " + quote(method));
      }
      m.methods.push_back(method);
    }
  }
  if (auto v = node["deadline_ms"]) {
    m.deadline_ms = static_cast<std::uint32_t>(r.read_int(
        v, child_path(path, "deadline_ms"), 1, std::numeric_limits<std::uint32_t>::max()));
  }
  auto flows = node["flows"];
  auto nodes = node["nodes"];
  if (!flows && !nodes) {
    r.fail(path, "needs \"flows\" (e.g. [\"s1 >> s2\"]) or \"nodes\" (e.g. [s1])");
  }
  flow_graph graph;
  if (flows) read_flows(r, flows, child_path(path, "flows"), config, graph);
  m.edges = graph.edges;
  if (nodes) {
    std::string nodes_path = child_path(path, "nodes");
    auto listed = r.read_string_list(nodes, nodes_path, "service names");
    for (std::size_t i = 0; i < listed.size(); ++i) {
      const auto& n = listed[i];
      if (config.find_service(n) == nullptr) {
        r.fail(element_path(nodes_path, i),
               "unknown service " + quote(n) + service_list_hint(config));
      }
      if (std::find(m.nodes.begin(), m.nodes.end(), n) != m.nodes.end()) {
        r.fail(element_path(nodes_path, i), "duplicate service " + quote(n));
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
    m.serve_on = read_member_list(r, v, child_path(path, "serve_on"), config.cluster);
  }
  if (auto v = node["supervision"])
    read_supervision(r, v, child_path(path, "supervision"), m.supervision);
  return m;
}

void read_megaservices(const yaml_reader& r, const YAML::Node& node, node_config& config) {
  const std::string path = "megaservices";
  if (!node.IsSequence()) r.fail(path, "expected a list, got " + describe(node));
  for (std::size_t i = 0; i < node.size(); ++i) {
    std::string item_path = element_path(path, i);
    auto m = read_megaservice(r, node[i], item_path, config);
    for (std::size_t j = 0; j < config.megaservices.size(); ++j) {
      const auto& other = config.megaservices[j];
      if (other.name == m.name) {
        r.fail(child_path(item_path, "name"), "duplicate megaservice name " + quote(m.name) +
                                                  " (also " + element_path(path, j) + ")");
      }
      if (other.route == m.route) {
        r.fail(child_path(item_path, "route"),
               "duplicate route " + quote(m.route) + " (also " + element_path(path, j) + ")");
      }
    }
    config.megaservices.push_back(std::move(m));
  }
}

void read_dataprep(const yaml_reader& r, const YAML::Node& node, node_config& config) {
  const std::string path = "dataprep";
  r.check_keys(node, path, {"embedding", "retriever", "corpus", "chunk_size", "chunk_overlap"});
  dataprep_settings d;
  d.enabled = true;
  auto service_ref = [&](const char* key, const char* builtin) {
    auto v = node[key];
    if (!v) r.fail(path, std::string{"missing required key \""} + key + "\"");
    auto name = r.read_name(v, child_path(path, key));
    const auto* svc = config.find_service(name);
    if (svc == nullptr)
      r.fail(child_path(path, key), "unknown service " + quote(name) + service_list_hint(config));
    if (svc->kind != service_kind::builtin || svc->builtin != builtin)
      r.fail(child_path(path, key),
             "service " + quote(name) + " must be a builtin: " + builtin + " service");
    return name;
  };
  d.embedding = service_ref("embedding", "embedding");
  d.retriever = service_ref("retriever", "retriever");
  if (auto v = node["corpus"]) d.corpus = r.read_string(v, child_path(path, "corpus"));
  if (auto v = node["chunk_size"])
    d.chunk_size =
        static_cast<std::size_t>(r.read_int(v, child_path(path, "chunk_size"), 50, 100000));
  if (auto v = node["chunk_overlap"])
    d.chunk_overlap =
        static_cast<std::size_t>(r.read_int(v, child_path(path, "chunk_overlap"), 0, 100000));
  if (d.chunk_overlap >= d.chunk_size)
    r.fail(child_path(path, "chunk_overlap"),
           "must be smaller than chunk_size (" + std::to_string(d.chunk_size) + ")");
  config.dataprep = std::move(d);
}

void read_opea_cpp(const yaml_reader& r, const YAML::Node& root, const std::string& base_dir,
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
// Either format; relative cluster.tls paths are resolved against `base_dir`.

node_config parse(const std::string& yaml_text, const std::string& source_name,
                  const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    throw config_error(source_name + ":" + std::to_string(e.mark.line + 1) + ":" +
                       std::to_string(e.mark.column + 1) + ": YAML syntax error: " + e.msg);
  }
  yaml_reader r(source_name);
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
      const auto& opea_keys = opea_top_keys();
      if (std::find(opea_keys.begin(), opea_keys.end(), key) != opea_keys.end()) {
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
      read_opea_format(r, root, config);
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

void service_config::set_policies(runtime::micro_service& out) const {
  out.restart = restart;
  out.restart_mode = restart_mode;
  out.idempotent = is_idempotent(*this);
  out.breaker = breaker;
  out.bulkhead = bulkhead;
  out.retry = retry;
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
  return parse(text.str(), path, std::filesystem::path(path).parent_path().string());
}

void apply_overrides(node_config& config, std::optional<std::uint16_t> http_port,
                     std::optional<std::string> data_dir) {
  if (http_port) config.node.http.port = *http_port;
  if (data_dir) {
    if (data_dir->empty()) throw config_error("--data-dir: must not be empty");
    config.node.data_dir = std::move(*data_dir);
  }
}

}  // namespace opea::nodes
