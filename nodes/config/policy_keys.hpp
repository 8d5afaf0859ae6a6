#pragma once

#include <optional>
#include <string>

#include "runtime/resilience/bulkhead.hpp"
#include "runtime/resilience/circuit_breaker.hpp"
#include "runtime/resilience/retry_schedule.hpp"
#include "runtime/supervision/child_spec.hpp"
#include "runtime/supervision/restart_window.hpp"

namespace YAML {
class Node;
}

namespace opea::nodes {

class yaml_reader;

// The keys that configure the runtime's policies, read straight into the
// runtime's own settings types (no second definition here): a service's
// `restart`, `circuit_breaker`, `bulkhead` and `retry`, and the `supervision`
// of the node and of each megaservice. Every reader validates the values the
// way the runtime will (its `make` / `validated`), so a refused value fails at
// load time naming its key. All throw config_error through `r`.

/// `restart`: a restart type alone (permanent, transient, temporary), or
/// {type, max_restarts (0..1e6), within_seconds (1..1e6)}. Keys not given
/// keep the values of `type` and `limit`.
void read_restart(const yaml_reader& r, const YAML::Node& node, const std::string& path,
                  runtime::restart_type& type, runtime::restart_policy& limit);

/// `circuit_breaker`: the shorthand {failures, open_ms} (N consecutive
/// failures open it for open_ms, default 5000), or Resilience4j's keys
/// (sliding_window_type, ..., permitted_calls_in_half_open); not both.
[[nodiscard]] runtime::circuit_breaker_settings read_breaker(const yaml_reader& r,
                                                             const YAML::Node& node,
                                                             const std::string& path);

/// `bulkhead`: {max_in_flight (required), max_queue, max_wait_ms}.
[[nodiscard]] runtime::bulkhead_settings read_bulkhead(const yaml_reader& r, const YAML::Node& node,
                                                       const std::string& path);

/// `retry`: {attempts (required), backoff_ms, max_backoff_ms, budget_percent,
/// min_retry_concurrency}.
[[nodiscard]] runtime::retry_settings read_retry(const yaml_reader& r, const YAML::Node& node,
                                                 const std::string& path);

/// `supervision`: an OTP supervisor's flags {strategy, intensity, period_ms,
/// backoff_min_ms, backoff_max_ms, backoff_random_factor}, starting from
/// `out`'s values (the defaults of the node's root or of a megaservice).
void read_supervision(const yaml_reader& r, const YAML::Node& node, const std::string& path,
                      runtime::supervisor_flags& out);

}  // namespace opea::nodes
