#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "monitoring/log.hpp"
#include "nodes/config/cluster_settings.hpp"
#include "nodes/config/config_error.hpp"
#include "nodes/config/mega_flow.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/service/micro_service.hpp"
#include "runtime/service/service_type.hpp"
#include "runtime/service/url.hpp"

namespace opea::nodes {

/// Minimum severity the node logs. Default: info.
enum class log_level { trace, debug, info, warn, error, off };

/// How log lines are written: spdlog's text lines, or one JSON object per
/// line (`node.log.format`, `--log-format`). Default: text.
enum class log_format { text, json };

/// How CAF's scheduler hands jobs to worker threads (runtime/scheduler.hpp).
/// Default: spinning.
using runtime::scheduler_policy;

/// Where a service runs: an in-process built-in actor, or a remote HTTP endpoint.
enum class service_kind { builtin, http };

/// "trace", "debug", ... exactly as written in the config file.
[[nodiscard]] std::string_view to_string(log_level level);

/// The keys of `node.tracing` and the OpenTelemetry environment variable each
/// stands for (endpoint: OTEL_EXPORTER_OTLP_ENDPOINT, sampler:
/// OTEL_TRACES_SAMPLER, ...; monitoring/README.md lists them with defaults).
const std::vector<std::pair<std::string, std::string>>& tracing_keys();
using runtime::to_string;
/// "builtin" or "http".
[[nodiscard]] std::string_view to_string(service_kind kind);

/// Number of hardware threads, at least 1: the default of scheduler.max_threads.
[[nodiscard]] std::size_t default_scheduler_threads();

/// `node.http`: the node's HTTP gateway.
struct http_settings {
  /// Address to bind. Default: "0.0.0.0".
  std::string host = "0.0.0.0";
  /// Port to bind; 0 asks the OS for a free port (the node prints the real one). Default: 8888.
  std::uint16_t port = 8888;
  /// Threads serving HTTP I/O (the gateway's and the HTTP client's); 0: the
  /// scheduler's workers serve it between jobs (with the `spinning` policy;
  /// one thread of its own with another). Default: 0.
  std::size_t io_threads = 0;
  /// With `io_threads` 0: how many of the scheduler's workers (the first
  /// ones) run the HTTP I/O; the others only run actors. Default: 1.
  std::size_t io_workers = 1;
  /// Largest request body accepted, in bytes, >= 1. Default: 1 MiB (1048576).
  std::uint64_t max_body_bytes = 1048576;
};

/// `node.scheduler`: CAF's actor scheduler.
struct scheduler_settings {
  /// Worker threads, >= 1. Default: the number of hardware threads.
  std::size_t max_threads = default_scheduler_threads();
  /// Default: spinning.
  scheduler_policy policy = scheduler_policy::spinning;
};

/// `node`: settings of this opea-node process.
struct node_settings {
  /// Node name (letters, digits, '_', '-', '.'); used in logs and metric labels.
  /// Default: "opea-node".
  std::string name = "opea-node";
  /// Directory for durable state (queues, saga logs). Default: "./opea-data".
  std::string data_dir = "./opea-data";
  http_settings http;
  scheduler_settings scheduler;
  /// `node.log.level` (or the older `node.log_level`): the level of every
  /// component without one in `log_levels`. Default: info.
  log_level log = log_level::info;
  /// `node.log.levels`: a level per component (monitoring/log.hpp: cluster,
  /// dataprep, gateway, http, megaservice, node, retriever, scheduler,
  /// service, supervision), over `log`. Default: {} (all at `log`).
  std::map<monitoring::log_component, log_level> log_levels;
  /// `node.log.format`. Default: text.
  log_format format = log_format::text;
  /// `node.log.access`: one log line per HTTP response (gateway::log_access).
  /// Default: false.
  bool access_log = false;
  /// `node.tracing`: OpenTelemetry settings, as the OTEL_* environment
  /// variable each key stands for (tracing_keys), e.g. {"OTEL_EXPORTER_OTLP_ENDPOINT":
  /// "http://collector:4318"}. An OTEL_* variable set in the environment wins
  /// over its key. Default: none (tracing off: no endpoint).
  std::map<std::string, std::string> tracing;
  /// `node.supervision`: the node's root supervisor, above its megaservices
  /// (and the one-service megaservices that host services for cluster
  /// members): restarts a megaservice whose services' supervisor gave up.
  /// Default: one_for_one, 3 restarts within 60 s, no backoff.
  runtime::supervisor_flags supervision = default_root_supervision();

  static runtime::supervisor_flags default_root_supervision() {
    runtime::supervisor_flags f;
    f.intensity = 3;
    f.period = std::chrono::milliseconds{60000};
    return f;
  }
};

/// `services.<name>`: one microservice this node can run or reach.
struct service_config {
  /// The key under `services` (or `opea_micro_services`).
  std::string name;
  /// Default: http if a url is given, else builtin.
  service_kind kind = service_kind::builtin;
  /// builtin only: the name of the in-process built-in (required for builtin).
  std::string builtin;
  /// builtin only: free-form parameters handed to the built-in. Default: {} (empty object).
  nlohmann::json params = nlohmann::json::object();
  /// http only: the URL as written, e.g. "http://127.0.0.1:8082/v1/add" (required for http).
  std::string url;
  /// http only: `url` parsed.
  runtime::url endpoint;
  /// http only: timeout of one call, ms, >= 1. Default: 30000.
  std::uint32_t timeout_ms = 30000;
  /// OPEA ServiceType value 0..27 (runtime/service/service_type.hpp). Default: 10 (undefined).
  int service_type = static_cast<int>(runtime::service_type::undefined);
  /// `restart` (a type alone) or `restart.type`: when the service's actor is
  /// restarted (OTP's restart type). Default: permanent.
  runtime::restart_type restart_mode = runtime::restart_type::permanent;
  /// `restart: {max_restarts, within_seconds}`: the service's own restart
  /// limit; past `max_restarts` (>= 0) restarts within `period` (whole
  /// seconds, >= 1) it stays stopped and calls to it fail with 503. Its
  /// restart backoff is not a key: the runtime's default. Default: 5
  /// restarts in 10 s.
  runtime::restart_policy restart;
  /// `circuit_breaker`: Resilience4j's model (sliding window, failure and
  /// slow-call rate thresholds, wait in open, half-open probes), or the
  /// shorthand `{failures, open_ms}` (N consecutive failures open it for
  /// open_ms, default 5000, then one probe decides). Default: no breaker.
  std::optional<runtime::circuit_breaker_settings> breaker;
  /// `bulkhead: {max_in_flight, max_queue, max_wait_ms}`: calls to this
  /// service in flight at once from a megaservice (>= 1), calls waiting for a
  /// slot in arrival order (default 0) and how long one may wait (default 0:
  /// until its deadline); more fail at once with 503. Default: no limit.
  std::optional<runtime::bulkhead_settings> bulkhead;
  /// `retry: {attempts, backoff_ms, max_backoff_ms, budget_percent,
  /// min_retry_concurrency}`: calls in all for a call that failed
  /// transiently (unreachable, timed out, crashed, node down), with full
  /// jitter backoff and Envoy's retry budget. Only for idempotent services.
  /// Default: 1 attempt (no retry); 3 for an idempotent service that runs on
  /// other cluster members (`run_on`), so a lost member is retried elsewhere.
  runtime::retry_settings retry;
  /// Cluster only: the members that run this service, each one replica; a proxy
  /// on any node balances calls across the live ones (`cluster.balance`).
  /// Names are members of `cluster.nodes`, no duplicates. Default: empty = the
  /// service runs, in-process, on every node that serves a megaservice using it.
  std::vector<std::string> run_on;
  /// Whether a call may be sent again to another replica after the first one
  /// failed or went down mid-call (only idempotent services are retried).
  /// Default: unset = decided by `is_idempotent`.
  std::optional<bool> idempotent;

  /// Sets the policies of the runtime's description of this service to this
  /// file's: `restart`, `restart_mode`, `breaker`, `bulkhead`, `retry` (the
  /// same runtime types, copied as they are) and `idempotent`
  /// (`is_idempotent(*this)`).
  void set_policies(runtime::micro_service& out) const;
};

/// Whether a failed call to `service` may be retried on another replica:
/// `service.idempotent` if given; otherwise true for the service types
/// embedding, rerank and llm (the file's `service_type`, or, when that is
/// undefined, a `builtin` named "embedding", "rerank" or "llm"), false for
/// every other service (a retriever, or a service of unknown type, may have
/// side effects).
[[nodiscard]] bool is_idempotent(const service_config& service);

/// `megaservices[i]`: one DAG of services served on one HTTP route.
struct megaservice_config {
  /// Unique name (letters, digits, '_', '-', '.'). Required.
  std::string name;
  /// HTTP route, starts with '/', unique across megaservices. Required.
  std::string route;
  /// Upper-case HTTP methods accepted on `route`. Default: {"POST"}.
  std::vector<std::string> methods{"POST"};
  /// End-to-end deadline of one request, ms, >= 1. Default: 30000.
  std::uint32_t deadline_ms = 30000;
  /// Services in the graph, in order. Default: every service named in the
  /// flows, in order of first appearance.
  std::vector<std::string> nodes;
  /// Edges `from >> to` in order of first appearance; empty for a single service.
  std::vector<flow_edge> edges;
  /// How its route reads requests and writes answers: the api name of the
  /// node application that serves it (nodes/applications.cpp), lower-cased;
  /// the node refuses a name no application serves. `json` (default): the
  /// generic contract, the request JSON object feeds every source and the
  /// answer is the only leaf's output, or an object keyed by service name.
  /// `chatqna`: OPEA's ChatQnA API on `route` (ChatCompletionRequest,
  /// streaming by default) plus OpenAI's chat completions on `openai_route`.
  std::string api = "json";
  /// chatqna only: the OpenAI-compatible route. Default "/v1/chat/completions";
  /// "" serves none.
  std::string openai_route;
  /// Cluster only: the members that serve `route` over HTTP, no duplicates.
  /// Default: empty = every member serves it.
  std::vector<std::string> serve_on;
  /// `supervision`: the OTP supervisor of the megaservice's service actors.
  /// Default: one_for_one, 10 restarts within 10 s, no backoff.
  runtime::supervisor_flags supervision = runtime::megaservice_options::default_supervision();
};

/// `dataprep`: document ingestion into a retriever's store, served on
/// /v1/dataprep/{ingest,get,delete}, plus OpenAI's /v1/embeddings.
struct dataprep_settings {
  /// False when the file has no `dataprep` section.
  bool enabled = false;
  /// The `builtin: embedding` service whose embedder indexes documents (the
  /// one that embeds queries, so both sides use the same vectors). Required.
  std::string embedding;
  /// The `builtin: retriever` service whose store receives the chunks. Required.
  std::string retriever;
  /// A directory ingested at start-up when the store is empty (the bundled
  /// corpus of examples/chatqna). Relative paths are relative to the working
  /// directory. Default: none.
  std::string corpus;
  /// Default: 1500 characters (OPEA's dataprep default).
  std::size_t chunk_size = 1500;
  /// Default: 100 characters.
  std::size_t chunk_overlap = 100;
};

/// A whole opea-node configuration file, in either supported format.
struct node_config {
  /// The file name as given to load_node_config / parse_node_config.
  std::string source_name;
  /// "opea-cpp" (node/services/megaservices) or "opea" (OPEA's
  /// ServiceOrchestratorWithYaml file: opea_micro_services/opea_mega_service).
  std::string source_format = "opea-cpp";
  node_settings node;
  /// Services in declaration order; names are unique.
  std::vector<service_config> services;
  std::vector<megaservice_config> megaservices;
  dataprep_settings dataprep;
  /// The `cluster` section (opea-cpp format only); `cluster.enabled` is false
  /// for a single-node file.
  cluster_settings cluster;

  /// The service called `name`, or nullptr.
  [[nodiscard]] const service_config* find_service(std::string_view name) const;
};

/// Reads and validates the config file at `path`. Throws config_error (one line
/// naming the file, the key path and the problem) if the file cannot be read,
/// is not valid YAML, or breaks any rule in docs/configuration.md.
[[nodiscard]] node_config load_node_config(const std::string& path);

/// Same as load_node_config for text already in memory; `source_name` names the
/// text in error messages and is stored in node_config::source_name. Relative
/// `cluster.tls` paths stay as written (relative to the current directory);
/// load_node_config resolves them against the directory of the file.
[[nodiscard]] node_config parse_node_config(const std::string& yaml_text,
                                            const std::string& source_name);

// The `--node` flag: select_cluster_member and require_cluster_member, in
// cluster_settings.hpp.

/// Applies the command-line flags `--http-port` and `--data-dir`, which win over
/// the file. Throws config_error if `data_dir` is given but empty.
void apply_overrides(node_config& config, std::optional<std::uint16_t> http_port,
                     std::optional<std::string> data_dir);

}  // namespace opea::nodes
