#include "runtime/message/envelope.hpp"

#include <memory>
#include <utility>

#include <google/protobuf/descriptor.h>

namespace opea::runtime {

namespace {

namespace pb = google::protobuf;

v1::Envelope make_header(std::string request_id, std::string traceparent,
                         int64_t deadline_unix_ms) {
  v1::Envelope envelope;
  envelope.set_request_id(std::move(request_id));
  if (!traceparent.empty()) envelope.mutable_trace()->set_traceparent(std::move(traceparent));
  envelope.set_deadline_unix_ms(deadline_unix_ms);
  return envelope;
}

}  // namespace

caf::expected<v1::Envelope> make_envelope(std::string request_id, std::string traceparent,
                                          int64_t deadline_unix_ms, const nlohmann::json& payload) {
  if (!payload.is_object())
    return make_error(errc::bad_request, "opea.v1.Envelope.json",
                      std::string{"payload must be a JSON object, got "} + payload.type_name());
  auto envelope = make_header(std::move(request_id), std::move(traceparent), deadline_unix_ms);
  if (auto err = from_json(payload, *envelope.mutable_json())) return err;
  return envelope;
}

caf::expected<v1::Envelope> make_envelope(std::string request_id, std::string traceparent,
                                          int64_t deadline_unix_ms, const pb::Message& doc) {
  auto bytes = to_wire(doc);
  if (!bytes) return std::move(bytes.error());
  auto envelope = make_header(std::move(request_id), std::move(traceparent), deadline_unix_ms);
  envelope.set_doc(std::move(*bytes));
  envelope.set_doc_type(doc.GetDescriptor()->full_name());
  return envelope;
}

caf::expected<nlohmann::json> payload_json(const v1::Envelope& envelope) {
  switch (envelope.payload_case()) {
    case v1::Envelope::kJson:
      return to_json(envelope.json());
    case v1::Envelope::kJsonText: {
      auto parsed = nlohmann::json::parse(envelope.json_text(), nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object())
        return make_error(errc::bad_request, "opea.v1.Envelope.json_text", "is not a JSON object");
      return parsed;
    }
    case v1::Envelope::kDoc: {
      const auto* type =
          pb::DescriptorPool::generated_pool()->FindMessageTypeByName(envelope.doc_type());
      if (type == nullptr)
        return make_error(errc::bad_request, "opea.v1.Envelope.doc_type",
                          "unknown message type '" + envelope.doc_type() + "'");
      const auto* prototype = pb::MessageFactory::generated_factory()->GetPrototype(type);
      if (prototype == nullptr)
        return make_error(errc::bad_request, "opea.v1.Envelope.doc_type",
                          "no compiled-in message for '" + envelope.doc_type() + "'");
      std::unique_ptr<pb::Message> doc{prototype->New()};
      if (auto err = from_wire(envelope.doc(), *doc)) return err;
      return to_json(*doc);
    }
    case v1::Envelope::PAYLOAD_NOT_SET:
      break;
  }
  return nlohmann::json::object();
}

}  // namespace opea::runtime
