#pragma once

#include <string>
#include <string_view>
#include <type_traits>

#include <google/protobuf/message.h>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

namespace opea::runtime {

/// How `from_json` treats input the schema does not describe.
struct json_parse_options {
  /// Accept (and drop) JSON keys the message type does not declare. Default:
  /// false, so a misspelt field ("top_kk") is a bad_request naming it rather
  /// than a silently ignored parameter. Set it when reading the answer of a
  /// third-party backend (vLLM, TGI) that adds fields of its own.
  bool ignore_unknown_fields = false;
};

/// Prints `msg` as JSON with the field names of the .proto file (which are
/// OPEA's and OpenAI's), converted to `nlohmann::json`.
///
/// The mapping is chosen so that JSON -> proto -> JSON is lossless for OPEA
/// and OpenAI JSON:
/// - fields that are absent stay absent: scalars in opea/v1 are `optional`,
///   so a present zero/false/"" is printed and an absent one is not, and
///   defaults are never invented (`always_print_primitive_fields` is off);
/// - int64/uint64 fields (`created`, `seed`, ...) are printed as JSON numbers
///   as OpenAI does, not as the strings of protobuf's canonical JSON mapping;
/// - `float` fields (embeddings) are printed in the shortest form that reads
///   back as the same float32, as TEI prints them ("0.70710677"), not with
///   protobuf's 9 digits ("0.707106769"); `double` fields print exactly.
/// What does not survive (all equivalent for OPEA's pydantic models):
/// - `null` on a typed field means "absent" and is not printed again
///   (fields typed google.protobuf.Value keep an explicit null);
/// - an empty list is the same as an absent repeated field and is omitted;
/// - `float` fields keep float32 precision: a JSON number with more digits
///   than float32 holds (numpy's "0.7071067690849304") comes back as the
///   shortest float32 form ("0.70710677");
/// - numbers inside google.protobuf.Value/Struct are doubles (integers are
///   exact up to 2^53);
/// - unknown fields kept from the binary form are not printed.
/// Fails with errc::bad_request (subject: the message type) only if protobuf
/// cannot print the message, e.g. a string field holding invalid UTF-8.
[[nodiscard]] caf::expected<nlohmann::json> to_json(const google::protobuf::Message& msg);

/// `to_json(msg)` rendered as compact text, ready for an HTTP body.
[[nodiscard]] caf::expected<std::string> to_json_text(const google::protobuf::Message& msg);

/// Parses `json` into `out` (cleared first) with protobuf's JSON parser, which
/// checks every field's type. On failure returns errc::bad_request with
/// subject = the message type ("opea.v1.EmbedDoc") and detail = protobuf's
/// message, which names the field (e.g. "(k): invalid value \"four\" for type
/// TYPE_INT32"); `out` is then unspecified.
[[nodiscard]] caf::error from_json(const nlohmann::json& json, google::protobuf::Message& out,
                                   json_parse_options options = {});

/// Like `from_json(json, out)` but parses JSON text directly (an HTTP body),
/// without building a `nlohmann::json` first. Malformed JSON is a bad_request.
[[nodiscard]] caf::error from_json_text(std::string_view text, google::protobuf::Message& out,
                                        json_parse_options options = {});

/// Returns a `T` parsed from `json`; see `from_json(json, out)`.
template <class T>
[[nodiscard]] caf::expected<T> from_json(const nlohmann::json& json,
                                         json_parse_options options = {}) {
  static_assert(std::is_base_of_v<google::protobuf::Message, T>,
                "from_json<T> needs a generated protobuf message type");
  T out;
  if (auto err = from_json(json, out, options)) return err;
  return out;
}

/// Returns a `T` parsed from JSON text; see `from_json_text(text, out)`.
template <class T>
[[nodiscard]] caf::expected<T> from_json_text(std::string_view text,
                                              json_parse_options options = {}) {
  static_assert(std::is_base_of_v<google::protobuf::Message, T>,
                "from_json_text<T> needs a generated protobuf message type");
  T out;
  if (auto err = from_json_text(text, out, options)) return err;
  return out;
}

/// Serializes `msg` to protobuf binary (the form that crosses actors and
/// nodes). Unknown fields read by `from_wire` are written back unchanged, so a
/// node forwards fields of a newer schema it does not know. Fails with
/// errc::overloaded if the message exceeds protobuf's 2 GiB limit.
[[nodiscard]] caf::expected<std::string> to_wire(const google::protobuf::Message& msg);

/// Parses protobuf binary into `out` (cleared first). Fields `out`'s type does
/// not declare are kept as unknown fields. Malformed bytes are errc::bad_request
/// with subject = the message type.
[[nodiscard]] caf::error from_wire(std::string_view bytes, google::protobuf::Message& out);

/// Returns a `T` parsed from protobuf binary; see `from_wire(bytes, out)`.
template <class T>
[[nodiscard]] caf::expected<T> from_wire(std::string_view bytes) {
  static_assert(std::is_base_of_v<google::protobuf::Message, T>,
                "from_wire<T> needs a generated protobuf message type");
  T out;
  if (auto err = from_wire(bytes, out)) return err;
  return out;
}

}  // namespace opea::runtime
