#pragma once

#include <cstdint>
#include <string>

#include <google/protobuf/message.h>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "opea/v1/envelope.pb.h"
#include "runtime/errors.hpp"
#include "runtime/message/proto_json.hpp"

namespace opea::runtime {

/// Builds an envelope whose payload is the free-form JSON object `payload`
/// (a user service's own schema), carried as google.protobuf.Struct.
/// `traceparent` is the W3C header value ("" = not traced); `deadline_unix_ms`
/// is an absolute wall-clock deadline (0 = none). Numbers in `payload` become
/// doubles (integers stay exact up to 2^53). Fails with errc::bad_request
/// (subject "opea.v1.Envelope.json") if `payload` is not a JSON object.
[[nodiscard]] caf::expected<v1::Envelope> make_envelope(std::string request_id,
                                                        std::string traceparent,
                                                        int64_t deadline_unix_ms,
                                                        const nlohmann::json& payload);

/// Builds an envelope whose payload is the typed document `doc` (an
/// opea.v1 message), serialized into `doc` with `doc_type` set to its
/// fully-qualified name ("opea.v1.EmbedDoc").
[[nodiscard]] caf::expected<v1::Envelope> make_envelope(std::string request_id,
                                                        std::string traceparent,
                                                        int64_t deadline_unix_ms,
                                                        const google::protobuf::Message& doc);

/// Returns the envelope's payload as JSON, whatever its form: the `json`
/// object as is, or the typed `doc` printed by `to_json` (its type looked up
/// by `doc_type` among the compiled-in opea.v1 messages). An empty payload is
/// `{}`. Fails with errc::bad_request if `doc_type` is unknown or the bytes do
/// not parse.
[[nodiscard]] caf::expected<nlohmann::json> payload_json(const v1::Envelope& envelope);

/// Returns the envelope's payload as a `T`. A `doc` payload must have
/// `doc_type` equal to `T`'s full name, otherwise errc::bad_request (subject
/// "opea.v1.Envelope.doc_type"); a `json` payload is converted with
/// `from_json<T>`, which checks every field; an empty payload is `T{}`.
template <class T>
[[nodiscard]] caf::expected<T> payload_as(const v1::Envelope& envelope) {
  static_assert(std::is_base_of_v<google::protobuf::Message, T>,
                "payload_as<T> needs a generated protobuf message type");
  switch (envelope.payload_case()) {
    case v1::Envelope::kDoc: {
      const auto& expected_type = T::descriptor()->full_name();
      if (envelope.doc_type() != expected_type)
        return make_error(
            errc::bad_request, "opea.v1.Envelope.doc_type",
            "payload is '" + envelope.doc_type() + "', expected '" + expected_type + "'");
      return from_wire<T>(envelope.doc());
    }
    case v1::Envelope::kJson: {
      auto json = to_json(envelope.json());
      if (!json) return std::move(json.error());
      return from_json<T>(*json);
    }
    case v1::Envelope::kJsonText: {
      auto json = payload_json(envelope);
      if (!json) return std::move(json.error());
      return from_json<T>(*json);
    }
    case v1::Envelope::PAYLOAD_NOT_SET:
      break;
  }
  return T{};
}

}  // namespace opea::runtime
