#include "actors/text/text_actors.hpp"

#include <cctype>

#include "actors/kit/params.hpp"
#include "runtime/errors.hpp"
#include "runtime/text/text.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::json;
using runtime::make_error;

namespace {

/// Reads an optional string parameter; errors name the parameter. Other keys
/// are not checked: configs give these demo services free-form params.
caf::expected<std::string> string_param(const json& params, const char* key, std::string def) {
  if (!params.is_object())
    return make_error(errc::bad_request, "params",
                      std::string{"must be a map, got "} + params.type_name());
  return kit::string_param(params, key, std::move(def));
}

caf::expected<std::string> text_field(const json& input, const std::string& field) {
  if (!input.is_object())
    return make_error(errc::bad_request, field,
                      std::string{"input must be a JSON object, got "} + input.type_name());
  auto i = input.find(field);
  if (i == input.end())
    return make_error(errc::bad_request, field, "input has no field '" + field + "'");
  if (!i->is_string())
    return make_error(errc::bad_request, field,
                      "field '" + field + "' must be a string, got " + i->type_name());
  return i->get<std::string>();
}

}  // namespace

void register_text_builtins(runtime::service_catalog& catalog) {
  catalog.add("echo", "returns its input unchanged", runtime::service_type::undefined,
              [](const json&) -> caf::expected<runtime::micro_service> {
                return runtime::micro_service::local(
                    "", runtime::service_handler{[](const json& in, const runtime::request_context&)
                                                     -> caf::expected<json> { return in; }});
              });
  catalog.add(
      "append", "appends params.suffix (and prepends params.prefix) to a string field",
      runtime::service_type::undefined,
      [](const json& params) -> caf::expected<runtime::micro_service> {
        auto field = string_param(params, "field", "text");
        if (!field) return std::move(field.error());
        auto suffix = string_param(params, "suffix", "");
        if (!suffix) return std::move(suffix.error());
        auto prefix = string_param(params, "prefix", "");
        if (!prefix) return std::move(prefix.error());
        return runtime::micro_service::local(
            "", runtime::service_handler{
                    [field = *field, suffix = *suffix, prefix = *prefix](
                        const json& in, const runtime::request_context&) -> caf::expected<json> {
                      auto text = text_field(in, field);
                      if (!text) return std::move(text.error());
                      json out = in;
                      out[field] = prefix + *text + suffix;
                      return out;
                    }});
      });
  catalog.add("uppercase", "upper-cases a string field (ASCII)", runtime::service_type::undefined,
              [](const json& params) -> caf::expected<runtime::micro_service> {
                auto field = string_param(params, "field", "text");
                if (!field) return std::move(field.error());
                return runtime::micro_service::local(
                    "",
                    runtime::service_handler{
                        [field = *field](const json& in,
                                         const runtime::request_context&) -> caf::expected<json> {
                          auto text = text_field(in, field);
                          if (!text) return std::move(text.error());
                          json out = in;
                          out[field] = text::upper(*text);
                          return out;
                        }});
              });
}

}  // namespace opea::actors
