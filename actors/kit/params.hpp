#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

namespace opea::actors::kit {

/// Readers of a built-in's `params` object (null counts as empty), the one
/// way every built-in reads its parameters. Every error is errc::bad_request
/// with subject "params" or "params.<key>", the form the node's config loader
/// turns into "services.<name>.params.<key>":
/// - "params": "must be a map, got <type>";
/// - an unknown key: "unknown parameter (known: <known, in order>)";
/// - a value of the wrong type: "must be a string, got <type>" (integer, number);
/// - out of range: "must be in [<min>, <max>], got <value>", "must be a
///   positive integer, got <value>", "must be one of <allowed>, got '<value>'";
/// - a key of another backend: "applies only to backend <names>, not '<backend>'".

/// Fails unless `params` is null or an object whose keys are all in `known`.
caf::error check_params(const nlohmann::json& params, const std::vector<std::string>& known);

/// True when `params` has `key`.
bool has_param(const nlohmann::json& params, const std::string& key);

/// A string parameter, `def` when absent; `allowed` (when not empty) lists the
/// accepted values.
caf::expected<std::string> string_param(const nlohmann::json& params, const std::string& key,
                                        std::string def,
                                        const std::vector<std::string>& allowed = {});

/// An integer parameter in [min, max], `def` when absent.
caf::expected<int64_t> integer_param(const nlohmann::json& params, const std::string& key,
                                     int64_t def, int64_t min, int64_t max);

/// A number parameter in [min, max], `def` when absent.
caf::expected<double> number_param(const nlohmann::json& params, const std::string& key, double def,
                                   double min, double max);

/// An integer parameter > 0, `def` when absent.
caf::expected<int64_t> positive_param(const nlohmann::json& params, const std::string& key,
                                      int64_t def);

/// Fails when `params` has `key` and `backend` is not one of `backends`.
caf::error only_for_backends(const nlohmann::json& params, const std::string& key,
                             const std::vector<std::string>& backends, const std::string& backend);

}  // namespace opea::actors::kit
