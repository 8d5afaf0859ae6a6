#pragma once

// Logging per component: each part of a node logs through its own spdlog
// logger, named after the component, so an operator sets a level per
// component (`node.log.levels`) and every line says where it came from.
//
// Lines about a request end with ` request_id=ID` (and ` trace_id=ID` when
// the request has a trace): text lines show them as written, and the node's
// JSON lines (nodes/console.cpp) lift those trailing pairs into the fields
// "request_id" and "trace_id" ("-" means none: no field). Nothing a client
// sends as a credential (Authorization, X-API-Key, a token in the query) or
// its body is ever written to a log line: `redact_target` masks the values
// of secret-looking query parameters and URL credentials.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/common.h>
#include <spdlog/logger.h>

namespace opea::monitoring {

/// The components that log, each through the logger of the same name.
enum class log_component {
  /// The cluster runtime: membership, the directory, cluster TLS.
  cluster,
  /// Corpus ingestion at start-up and the dataprep routes.
  dataprep,
  /// The node's HTTP gateway: the access log.
  gateway,
  /// The HTTP server and client (runtime/http).
  http,
  /// Megaservices: requests done, their proxies and supervisors.
  megaservice,
  /// The opea-node process itself (start, signals, announcements).
  node,
  /// The retriever's vector store.
  retriever,
  /// CAF's scheduler and its I/O loops.
  scheduler,
  /// The service call path: service proxies and call callbacks.
  service,
  /// Supervisors: restarts, give-ups, shutdowns.
  supervision,
};

/// The names of the components, in the order of `log_component`; the keys
/// of `node.log.levels`.
inline constexpr std::array<std::string_view, 10> log_component_names = {
    "cluster", "dataprep",  "gateway",   "http",    "megaservice",
    "node",    "retriever", "scheduler", "service", "supervision"};

/// The component's name, e.g. "gateway".
[[nodiscard]] std::string_view to_string(log_component c);

/// The component named `name`, or none.
[[nodiscard]] std::optional<log_component> parse_log_component(std::string_view name);

/// The logger of component `c`: created once (on first use), it writes to the
/// sinks of spdlog's default logger at that time (so with its format) and
/// starts at its level. The loggers are in spdlog's registry, so
/// `spdlog::set_level` sets them all. Thread-safe.
[[nodiscard]] spdlog::logger& log(log_component c);

/// Sets the level of component `c` only (`node.log.levels.<name>`).
void set_log_level(log_component c, spdlog::level::level_enum level);

/// Makes every component logger write to `sinks` (the default logger's after
/// it was replaced). Call early, before other threads log.
void use_log_sinks(const std::vector<spdlog::sink_ptr>& sinks);

/// The trace id of a W3C traceparent (`00-TRACEID-PARENTID-FLAGS`), or "-"
/// when `traceparent` does not have that shape.
[[nodiscard]] std::string_view trace_id_of(std::string_view traceparent);

/// `target` (a request target or URL) fit for a log line: URL credentials
/// (`user:password@`) and the value of every query parameter whose name says
/// it is a secret are replaced by "REDACTED". Secret names, case-insensitive,
/// alone or as the last word after '_' or '-' (`api_key`, `x-api-key`,
/// `access_token`): key, apikey, token, auth, authorization, password,
/// passwd, secret, signature, sig, credential, credentials.
[[nodiscard]] std::string redact_target(std::string_view target);

}  // namespace opea::monitoring
