#include "nodes/config/policy_keys.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include <yaml-cpp/yaml.h>

#include "nodes/config/yaml_reader.hpp"
#include "runtime/errors.hpp"

namespace opea::nodes {

namespace {

const key_list restart_types = {"permanent", "transient", "temporary"};

/// The largest duration a policy key accepts: one day.
constexpr long long max_ms = 24LL * 3600 * 1000;

/// One integer key of a policy map, with its range.
struct int_key {
  const char* name;
  long long min;
  long long max;
};

/// A policy map: `node` must be a map of `keys` only, with `required` (saying
/// what it means, for the error) unless that is null.
void expect_policy_map(const yaml_reader& r, const YAML::Node& node, const std::string& path,
                       const char* required, const char* required_means, const key_list& keys) {
  if (!node.IsMap()) r.fail(path, "expected a map {" + join(keys) + "}, got " + describe(node));
  r.check_keys(node, path, keys);
  if (required != nullptr && !node[required])
    r.fail(path, std::string{"needs \""} + required + "\": " + required_means);
}

std::uint32_t read_u32(const yaml_reader& r, const YAML::Node& node, const std::string& path,
                       int_key key) {
  return static_cast<std::uint32_t>(
      r.read_int(node[key.name], child_path(path, key.name), key.min, key.max));
}

/// A settings value the runtime refused (`make`): the error names the field.
[[noreturn]] void refuse(const yaml_reader& r, const std::string& path, const caf::error& err) {
  r.fail(child_path(path, runtime::subject_of(err)), runtime::detail_of(err));
}

}  // namespace

void read_restart(const yaml_reader& r, const YAML::Node& node, const std::string& path,
                  runtime::restart_type& type, runtime::restart_policy& limit) {
  if (node.IsScalar()) {
    type = static_cast<runtime::restart_type>(r.read_choice(node, path, restart_types));
    return;
  }
  if (!node.IsMap())
    r.fail(path,
           "expected permanent, transient, temporary or a map {type, max_restarts, "
           "within_seconds}, got " +
               describe(node));
  r.check_keys(node, path, {"type", "max_restarts", "within_seconds"});
  if (auto v = node["type"])
    type = static_cast<runtime::restart_type>(
        r.read_choice(v, child_path(path, "type"), restart_types));
  if (auto v = node["max_restarts"]) {
    limit.max_restarts =
        static_cast<std::size_t>(r.read_int(v, child_path(path, "max_restarts"), 0, 1000000));
  }
  if (auto v = node["within_seconds"]) {
    limit.period =
        std::chrono::seconds{r.read_int(v, child_path(path, "within_seconds"), 1, 1000000)};
  }
}

runtime::circuit_breaker_settings read_breaker(const yaml_reader& r, const YAML::Node& node,
                                               const std::string& path) {
  const key_list shorthand{"failures", "open_ms"};
  const key_list full{"sliding_window_type",
                      "sliding_window_size",
                      "minimum_calls",
                      "failure_rate_threshold",
                      "slow_call_rate_threshold",
                      "slow_call_duration_ms",
                      "wait_in_open_ms",
                      "wait_in_open_multiplier",
                      "max_wait_in_open_ms",
                      "permitted_calls_in_half_open"};
  if (!node.IsMap())
    r.fail(path,
           "expected a map {failures, open_ms} or {" + join(full) + "}, got " + describe(node));
  bool any_full = false;
  for (const auto& k : full) any_full = any_full || static_cast<bool>(node[std::string{k}]);
  if (!any_full) {
    if (!node["failures"]) {
      key_list all = shorthand;
      all.insert(all.end(), full.begin(), full.end());
      r.check_keys(node, path, all);  // a misspelt key is named first
    }
    expect_policy_map(r, node, path, "failures", "consecutive failed calls that open the circuit",
                      shorthand);
    auto failures = read_u32(r, node, path, {"failures", 1, 1000000});
    std::chrono::milliseconds open{5000};
    if (node["open_ms"])
      open = std::chrono::milliseconds{read_u32(r, node, path, {"open_ms", 1, max_ms})};
    return runtime::circuit_breaker_settings::consecutive(failures, open);
  }
  if (node["failures"] || node["open_ms"])
    r.fail(child_path(path, node["failures"] ? "failures" : "open_ms"),
           "the consecutive-failures shorthand {failures, open_ms} cannot be combined with the "
           "sliding-window keys (use wait_in_open_ms for how long the circuit stays open)");
  expect_policy_map(r, node, path, nullptr, nullptr, full);
  runtime::circuit_breaker_settings out;
  using kind = runtime::circuit_breaker_settings::window_kind;
  if (auto v = node["sliding_window_type"])
    out.window = r.read_choice(v, child_path(path, "sliding_window_type"),
                               {"count_based", "time_based"}) == 0
                     ? kind::count_based
                     : kind::time_based;
  if (node["sliding_window_size"])
    out.window_size = read_u32(r, node, path, {"sliding_window_size", 1, 1000000});
  if (node["minimum_calls"])
    out.minimum_calls = read_u32(r, node, path, {"minimum_calls", 1, 1000000});
  if (auto v = node["failure_rate_threshold"])
    out.failure_rate_threshold =
        r.read_number(v, child_path(path, "failure_rate_threshold"), 0, 100);
  if (auto v = node["slow_call_rate_threshold"])
    out.slow_call_rate_threshold =
        r.read_number(v, child_path(path, "slow_call_rate_threshold"), 0, 100);
  if (node["slow_call_duration_ms"])
    out.slow_call_duration =
        std::chrono::milliseconds{read_u32(r, node, path, {"slow_call_duration_ms", 1, max_ms})};
  if (node["wait_in_open_ms"])
    out.wait_in_open =
        std::chrono::milliseconds{read_u32(r, node, path, {"wait_in_open_ms", 1, max_ms})};
  if (auto v = node["wait_in_open_multiplier"])
    out.wait_in_open_multiplier =
        r.read_number(v, child_path(path, "wait_in_open_multiplier"), 1, 1000);
  if (node["max_wait_in_open_ms"])
    out.max_wait_in_open =
        std::chrono::milliseconds{read_u32(r, node, path, {"max_wait_in_open_ms", 1, max_ms})};
  if (node["permitted_calls_in_half_open"])
    out.permitted_calls_in_half_open =
        read_u32(r, node, path, {"permitted_calls_in_half_open", 1, 1000000});
  if (auto made = runtime::circuit_breaker::make(out); !made) refuse(r, path, made.error());
  return out;
}

runtime::bulkhead_settings read_bulkhead(const yaml_reader& r, const YAML::Node& node,
                                         const std::string& path) {
  expect_policy_map(r, node, path, "max_in_flight", "calls to the service in flight at once",
                    {"max_in_flight", "max_queue", "max_wait_ms"});
  runtime::bulkhead_settings out;
  out.max_concurrent_calls = read_u32(r, node, path, {"max_in_flight", 1, 1000000});
  if (node["max_queue"]) out.max_queue = read_u32(r, node, path, {"max_queue", 0, 1000000});
  if (node["max_wait_ms"])
    out.max_wait = std::chrono::milliseconds{read_u32(r, node, path, {"max_wait_ms", 0, max_ms})};
  if (auto made = runtime::bulkhead::make(out); !made) refuse(r, path, made.error());
  return out;
}

runtime::retry_settings read_retry(const yaml_reader& r, const YAML::Node& node,
                                   const std::string& path) {
  expect_policy_map(
      r, node, path, "attempts", "calls in all, the first one included",
      {"attempts", "backoff_ms", "max_backoff_ms", "budget_percent", "min_retry_concurrency"});
  runtime::retry_settings out;
  out.attempts = read_u32(r, node, path, {"attempts", 1, 100});
  if (node["backoff_ms"])
    out.backoff = std::chrono::milliseconds{read_u32(r, node, path, {"backoff_ms", 1, 60000})};
  if (node["max_backoff_ms"])
    out.max_backoff =
        std::chrono::milliseconds{read_u32(r, node, path, {"max_backoff_ms", 1, 3600000})};
  else
    out.max_backoff = std::max(out.max_backoff, out.backoff);
  if (auto v = node["budget_percent"])
    out.budget_percent = r.read_number(v, child_path(path, "budget_percent"), 0, 100);
  if (node["min_retry_concurrency"])
    out.min_retry_concurrency = read_u32(r, node, path, {"min_retry_concurrency", 0, 1000000});
  if (auto made = runtime::retry_schedule::make(out, true); !made) refuse(r, path, made.error());
  return out;
}

void read_supervision(const yaml_reader& r, const YAML::Node& node, const std::string& path,
                      runtime::supervisor_flags& out) {
  expect_policy_map(r, node, path, nullptr, nullptr,
                    {"strategy", "intensity", "period_ms", "backoff_min_ms", "backoff_max_ms",
                     "backoff_random_factor"});
  if (auto v = node["strategy"])
    out.strategy = static_cast<runtime::supervision_strategy>(r.read_choice(
        v, child_path(path, "strategy"), {"one_for_one", "one_for_all", "rest_for_one"}));
  if (node["intensity"]) out.intensity = read_u32(r, node, path, {"intensity", 0, 1000000});
  if (node["period_ms"])
    out.period = std::chrono::milliseconds{read_u32(r, node, path, {"period_ms", 1, max_ms})};
  if (node["backoff_min_ms"]) {
    out.backoff_min =
        std::chrono::milliseconds{read_u32(r, node, path, {"backoff_min_ms", 0, max_ms})};
    if (!node["backoff_max_ms"]) out.backoff_max = std::max(out.backoff_max, out.backoff_min * 10);
  }
  if (node["backoff_max_ms"])
    out.backoff_max =
        std::chrono::milliseconds{read_u32(r, node, path, {"backoff_max_ms", 0, max_ms})};
  if (auto v = node["backoff_random_factor"])
    out.backoff_random_factor = r.read_number(v, child_path(path, "backoff_random_factor"), 0, 1);
  auto ok = runtime::supervisor_flags::validated(out);
  if (!ok) {
    auto field = runtime::subject_of(ok.error());
    if (field == "period" || field == "backoff_min" || field == "backoff_max") field += "_ms";
    r.fail(child_path(path, field), runtime::detail_of(ok.error()));
  }
}

}  // namespace opea::nodes
