// opea-node: serves the megaservices a YAML file declares.
//
//   opea-node --config FILE.yaml [--node NAME] [--http-port N] [--data-dir DIR]
//   opea-node --config FILE.yaml [--data-dir DIR] ingest PATH...
//
// Exit codes: 0 after SIGINT/SIGTERM, 2 for a configuration error (one line on
// stderr naming the file, the key and the problem), 1 when the node cannot
// start (e.g. the port is taken).

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "monitoring/log.hpp"
#include "nodes/config/node_config.hpp"
#include "nodes/console.hpp"
#include "nodes/ingest_command.hpp"
#include "nodes/node.hpp"
#include "runtime/errors.hpp"

namespace {

spdlog::level::level_enum to_spdlog(opea::nodes::log_level l) {
  using opea::nodes::log_level;
  switch (l) {
    case log_level::trace:
      return spdlog::level::trace;
    case log_level::debug:
      return spdlog::level::debug;
    case log_level::info:
      return spdlog::level::info;
    case log_level::warn:
      return spdlog::level::warn;
    case log_level::error:
      return spdlog::level::err;
    case log_level::off:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"opea-node: an OPEA megaservice node on the actor model"};
  std::string config_path;
  std::optional<uint16_t> http_port;
  std::optional<std::string> data_dir;
  app.add_option("--config", config_path, "node configuration file (opea-cpp or OPEA YAML)")
      ->required();
  app.add_option("--http-port", http_port,
                 "HTTP port, overrides node.http.port (0 = any free port)");
  app.add_option("--data-dir", data_dir, "data directory, overrides node.data_dir");
  std::optional<std::string> log_format;
  app.add_option("--log-format", log_format, "text or json, overrides node.log.format")
      ->check(CLI::IsMember({"text", "json"}));
  std::optional<std::string> member;
  app.add_option("--node", member,
                 "the cluster member to start (a name under cluster.nodes of the config)");
  std::vector<std::string> ingest_paths;
  auto* ingest = app.add_subcommand(
      "ingest",
      "ingest files or directories into the store of the config's dataprep section, then exit");
  ingest->add_option("paths", ingest_paths, "files (.txt .md .html .json) or directories")
      ->required();
  CLI11_PARSE(app, argc, argv);
  opea::nodes::install_console_logger();

  if (ingest->parsed()) {
    try {
      auto cfg = opea::nodes::load_node_config(config_path);
      if (member) opea::nodes::select_cluster_member(cfg, *member);
      opea::nodes::require_cluster_member(cfg);
      opea::nodes::apply_overrides(cfg, http_port, data_dir);
      spdlog::set_level(spdlog::level::warn);
      return opea::nodes::run_ingest(cfg, ingest_paths);
    } catch (const opea::nodes::config_error& e) {
      std::cerr << "opea-node: " << e.what() << std::endl;
      return 2;
    }
  }

  // Block the termination signals in every thread; main waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  opea::nodes::node_config cfg;
  std::unique_ptr<opea::nodes::node> node;
  try {
    cfg = opea::nodes::load_node_config(config_path);
    if (member) opea::nodes::select_cluster_member(cfg, *member);
    opea::nodes::require_cluster_member(cfg);
    opea::nodes::apply_overrides(cfg, http_port, data_dir);
    if (log_format)
      cfg.node.format =
          *log_format == "json" ? opea::nodes::log_format::json : opea::nodes::log_format::text;
    opea::nodes::use_json_logs(cfg.node.format == opea::nodes::log_format::json);
    spdlog::set_level(to_spdlog(cfg.node.log));  // every logger, the components' included
    for (const auto& [component, level] : cfg.node.log_levels)
      opea::monitoring::set_log_level(component, to_spdlog(level));
    node = std::make_unique<opea::nodes::node>(cfg);
  } catch (const opea::nodes::config_error& e) {
    std::cerr << "opea-node: " << e.what() << std::endl;
    return 2;
  }
  auto port = node->start();
  if (!port) {
    std::cerr << "opea-node: cannot start the HTTP gateway on " << cfg.node.http.host << ":"
              << cfg.node.http.port << ": " << opea::runtime::describe(port.error()) << std::endl;
    return 1;
  }
  // One piece, so that no log line from a thread that runs already splits it.
  auto shown_host = cfg.node.http.host == "0.0.0.0" ? std::string{"127.0.0.1"} : cfg.node.http.host;
  std::ostringstream out;
  for (const auto& m : node->megaservices())
    for (const auto& path : node->http_gateway().routes_of(m->name()))
      out << "opea-node " << cfg.node.name << ": megaservice '" << m->name() << "' at http://"
          << shown_host << ":" << *port << path << "\n";
  for (const auto& mc : cfg.megaservices)
    if (mc.api == "chatqna" &&
        (mc.serve_on.empty() ||
         std::find(mc.serve_on.begin(), mc.serve_on.end(), cfg.cluster.self) != mc.serve_on.end()))
      out << "try: curl -s http://" << shown_host << ":" << *port << mc.route
          << " -H 'Content-Type: application/json' -d '{\"messages\": \"What is "
             "opea-cpp?\", \"stream\": false}'\n";
  out << "listening on " << cfg.node.http.host << ":" << *port << "\n";
  opea::nodes::console_print(out.str());

  int sig = 0;
  sigwait(&signals, &sig);
  opea::monitoring::log(opea::monitoring::log_component::node)
      .info("opea-node {}: received signal {}, shutting down", cfg.node.name, sig);
  node->stop();
  node.reset();
  return 0;
}
