#include "runtime/message/proto_json.hpp"

#include <charconv>
#include <cstdint>
#include <limits>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include "runtime/errors.hpp"

namespace opea::runtime {

namespace {

namespace pb = google::protobuf;

const std::string& type_name(const pb::Message& msg) {
  return msg.GetDescriptor()->full_name();
}

template <class Status>
std::string message_of(const Status& status) {
  auto text = status.message();
  return std::string(text.data(), text.size());
}

/// Well-known types (Struct, Value, ...) have their own JSON mapping and hold
/// no field we print differently (we use no wrapper types such as Int64Value).
bool is_well_known(const pb::Descriptor& type) {
  return type.file()->package() == "google.protobuf";
}

template <class Int>
void string_to_number(nlohmann::json& value) {
  if (!value.is_string()) return;
  const auto& text = value.get_ref<const std::string&>();
  Int number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec == std::errc{} && end == text.data() + text.size()) value = number;
}

/// Replaces a float32 value by the shortest decimal that reads back as the same
/// float32 (what TEI, serde and Python relaying them print). Protobuf prints
/// floats with up to 9 digits ("0.707106829" for 0.7071068f).
void shortest_float(nlohmann::json& value) {
  if (!value.is_number_float()) return;
  auto single = static_cast<float>(value.get<double>());
  char buf[64];
  auto printed = std::to_chars(buf, buf + sizeof(buf), single);
  if (printed.ec != std::errc{}) return;
  double widened = 0;
  auto parsed = std::from_chars(buf, printed.ptr, widened);
  if (parsed.ec == std::errc{} && parsed.ptr == printed.ptr) value = widened;
}

void canonical_numbers(const pb::Descriptor& type, nlohmann::json& object);

void canonical_number(const pb::FieldDescriptor& field, nlohmann::json& value) {
  switch (field.cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT64:
      string_to_number<int64_t>(value);
      break;
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      string_to_number<uint64_t>(value);
      break;
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
      shortest_float(value);
      break;
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      canonical_numbers(*field.message_type(), value);
      break;
    default:
      break;
  }
}

/// Walks the printed JSON alongside the descriptor and rewrites numbers the
/// way OpenAI and OPEA print them: protobuf's JSON mapping prints 64-bit
/// integers as strings (JavaScript numbers are doubles), which become numbers
/// again (nlohmann::json holds them exactly), and floats in their shortest
/// round-trip form.
void canonical_numbers(const pb::Descriptor& type, nlohmann::json& object) {
  if (!object.is_object() || is_well_known(type)) return;
  for (int i = 0; i < type.field_count(); ++i) {
    const auto& field = *type.field(i);
    auto it = object.find(field.name());
    if (it == object.end()) continue;
    if (field.is_map()) {
      if (it->is_object())
        for (auto& entry : it->items())
          canonical_number(*field.message_type()->map_value(), entry.value());
    } else if (field.is_repeated()) {
      if (it->is_array())
        for (auto& element : *it) canonical_number(field, element);
    } else {
      canonical_number(field, *it);
    }
  }
}

caf::error parse_text(const std::string& text, pb::Message& out, json_parse_options options) {
  out.Clear();
  pb::util::JsonParseOptions parse_options;
  parse_options.ignore_unknown_fields = options.ignore_unknown_fields;
  auto status = pb::util::JsonStringToMessage(text, &out, parse_options);
  if (!status.ok()) return make_error(errc::bad_request, type_name(out), message_of(status));
  return caf::none;
}

}  // namespace

caf::expected<nlohmann::json> to_json(const pb::Message& msg) {
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = false;
  std::string text;
  auto status = pb::util::MessageToJsonString(msg, &text, options);
  if (!status.ok()) return make_error(errc::bad_request, type_name(msg), message_of(status));
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded())
    return make_error(errc::bad_request, type_name(msg),
                      "protobuf printed JSON that does not parse");
  canonical_numbers(*msg.GetDescriptor(), json);
  return json;
}

caf::expected<std::string> to_json_text(const pb::Message& msg) {
  auto json = to_json(msg);
  if (!json) return std::move(json.error());
  // Strings came from protobuf, which only holds valid UTF-8: dump cannot throw.
  return json->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

caf::error from_json(const nlohmann::json& json, pb::Message& out, json_parse_options options) {
  // `strict` would throw on a string with invalid UTF-8 (only possible for a
  // json built in code; the parser rejects it). Replacing keeps this path free
  // of exceptions; protobuf then sees U+FFFD instead of the bad bytes.
  auto text = json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return parse_text(text, out, options);
}

caf::error from_json_text(std::string_view text, pb::Message& out, json_parse_options options) {
  return parse_text(std::string(text), out, options);
}

caf::expected<std::string> to_wire(const pb::Message& msg) {
  auto size = msg.ByteSizeLong();
  if (size > static_cast<size_t>(std::numeric_limits<int>::max()))
    return make_error(
        errc::overloaded, type_name(msg),
        "message of " + std::to_string(size) + " bytes exceeds protobuf's 2 GiB limit");
  std::string bytes;
  if (!msg.SerializeToString(&bytes))
    return make_error(errc::overloaded, type_name(msg), "protobuf failed to serialize");
  return bytes;
}

caf::error from_wire(std::string_view bytes, pb::Message& out) {
  out.Clear();
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    return make_error(
        errc::bad_request, type_name(out),
        "message of " + std::to_string(bytes.size()) + " bytes exceeds protobuf's 2 GiB limit");
  if (!out.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return make_error(errc::bad_request, type_name(out),
                      "malformed protobuf bytes (" + std::to_string(bytes.size()) + " bytes)");
  return caf::none;
}

}  // namespace opea::runtime
