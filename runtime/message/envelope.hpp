#pragma once

#include <cstdint>
#include <string>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "opea/v1/envelope.pb.h"
#include "runtime/errors.hpp"

namespace opea::runtime {

/// Builds an envelope whose payload is the JSON object `payload` (as text,
/// exact for integers of any size). `traceparent` is the W3C header value
/// ("" = not traced); `deadline_unix_ms` is an absolute wall-clock deadline
/// (0 = none). Fails with errc::bad_request (subject
/// "opea.v1.Envelope.json_text") if `payload` is not a JSON object.
[[nodiscard]] caf::expected<v1::Envelope> make_envelope(std::string request_id,
                                                        std::string traceparent,
                                                        int64_t deadline_unix_ms,
                                                        const nlohmann::json& payload);

/// Returns the envelope's payload as JSON. An empty payload is `{}`. Fails
/// with errc::bad_request (subject "opea.v1.Envelope.json_text") if the text
/// is not a JSON object.
[[nodiscard]] caf::expected<nlohmann::json> payload_json(const v1::Envelope& envelope);

}  // namespace opea::runtime
