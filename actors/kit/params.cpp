#include "actors/kit/params.hpp"

#include <algorithm>

#include "runtime/errors.hpp"

namespace opea::actors::kit {

using runtime::errc;
using runtime::make_error;
using json = nlohmann::json;

namespace {

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs) out += (out.empty() ? "" : ", ") + x;
  return out;
}

const json* find(const json& params, const std::string& key) {
  if (!params.is_object()) return nullptr;
  auto i = params.find(key);
  return i == params.end() ? nullptr : &*i;
}

}  // namespace

caf::error check_params(const json& params, const std::vector<std::string>& known) {
  if (params.is_null()) return {};
  if (!params.is_object())
    return make_error(errc::bad_request, "params",
                      std::string{"must be a map, got "} + params.type_name());
  for (auto& [key, value] : params.items())
    if (std::find(known.begin(), known.end(), key) == known.end())
      return make_error(errc::bad_request, "params." + key,
                        "unknown parameter (known: " + join(known) + ")");
  return {};
}

bool has_param(const json& params, const std::string& key) {
  return find(params, key) != nullptr;
}

caf::expected<std::string> string_param(const json& params, const std::string& key, std::string def,
                                        const std::vector<std::string>& allowed) {
  auto x = find(params, key);
  if (x == nullptr) return def;
  if (!x->is_string())
    return make_error(errc::bad_request, "params." + key,
                      std::string{"must be a string, got "} + x->type_name());
  auto value = x->get<std::string>();
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), value) == allowed.end())
    return make_error(errc::bad_request, "params." + key,
                      "must be one of " + join(allowed) + ", got '" + value + "'");
  return value;
}

caf::expected<int64_t> integer_param(const json& params, const std::string& key, int64_t def,
                                     int64_t min, int64_t max) {
  auto x = find(params, key);
  if (x == nullptr) return def;
  if (!x->is_number_integer())
    return make_error(errc::bad_request, "params." + key,
                      std::string{"must be an integer, got "} + x->type_name());
  auto range = "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "], got ";
  if (x->is_number_unsigned()) {
    auto v = x->get<uint64_t>();
    if (v > static_cast<uint64_t>(max))
      return make_error(errc::bad_request, "params." + key, range + std::to_string(v));
    return static_cast<int64_t>(v);
  }
  auto v = x->get<int64_t>();
  if (v < min || v > max)
    return make_error(errc::bad_request, "params." + key, range + std::to_string(v));
  return v;
}

caf::expected<double> number_param(const json& params, const std::string& key, double def,
                                   double min, double max) {
  auto x = find(params, key);
  if (x == nullptr) return def;
  if (!x->is_number())
    return make_error(errc::bad_request, "params." + key,
                      std::string{"must be a number, got "} + x->type_name());
  auto v = x->get<double>();
  if (!(v >= min && v <= max))
    return make_error(
        errc::bad_request, "params." + key,
        "must be in [" + json(min).dump() + ", " + json(max).dump() + "], got " + x->dump());
  return v;
}

caf::expected<int64_t> positive_param(const json& params, const std::string& key, int64_t def) {
  auto x = find(params, key);
  if (x == nullptr) return def;
  if (!x->is_number_integer() || x->get<int64_t>() <= 0)
    return make_error(errc::bad_request, "params." + key,
                      "must be a positive integer, got " + x->dump());
  return x->get<int64_t>();
}

caf::error only_for_backends(const json& params, const std::string& key,
                             const std::vector<std::string>& backends, const std::string& backend) {
  if (!has_param(params, key) ||
      std::find(backends.begin(), backends.end(), backend) != backends.end())
    return {};
  return make_error(errc::bad_request, "params." + key,
                    "applies only to backend " + join(backends) + ", not '" + backend + "'");
}

}  // namespace opea::actors::kit
