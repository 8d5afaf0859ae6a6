#include "runtime/message/envelope.hpp"

#include <utility>

namespace opea::runtime {

caf::expected<v1::Envelope> make_envelope(std::string request_id, std::string traceparent,
                                          int64_t deadline_unix_ms, const nlohmann::json& payload) {
  if (!payload.is_object())
    return make_error(errc::bad_request, "opea.v1.Envelope.json_text",
                      std::string{"payload must be a JSON object, got "} + payload.type_name());
  v1::Envelope envelope;
  envelope.set_request_id(std::move(request_id));
  if (!traceparent.empty()) envelope.mutable_trace()->set_traceparent(std::move(traceparent));
  envelope.set_deadline_unix_ms(deadline_unix_ms);
  envelope.set_json_text(payload.dump());
  return envelope;
}

caf::expected<nlohmann::json> payload_json(const v1::Envelope& envelope) {
  if (envelope.payload_case() != v1::Envelope::kJsonText) return nlohmann::json::object();
  auto parsed = nlohmann::json::parse(envelope.json_text(), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object())
    return make_error(errc::bad_request, "opea.v1.Envelope.json_text", "is not a JSON object");
  return parsed;
}

}  // namespace opea::runtime
