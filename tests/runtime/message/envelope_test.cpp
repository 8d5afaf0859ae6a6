#include "runtime/message/envelope.hpp"

#include <string>

#include <google/protobuf/util/message_differencer.h>
#include <catch2/catch.hpp>

#include "opea/v1/docs.pb.h"
#include "runtime/errors.hpp"
#include "runtime/message/proto_json.hpp"

using nlohmann::json;
using namespace opea;
using opea::runtime::errc;

namespace {

constexpr const char* traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr int64_t deadline = 1718000000123;  // needs 41 bits: exercises int64

}  // namespace

TEST_CASE("an envelope with a JSON payload round-trips through bytes", "[message]") {
  auto payload = json::parse(R"({"question": "What is OPEA?", "top": 3,
                                 "tags": ["a", "b"], "nested": {"ok": true, "none": null}})");
  auto envelope = runtime::make_envelope("req-1", traceparent, deadline, payload);
  REQUIRE(envelope);
  envelope->mutable_trace()->set_tracestate("vendor=abc");
  envelope->mutable_caller()->set_subject("alice");
  envelope->mutable_caller()->add_roles("reader");
  envelope->set_service("embedding");

  auto bytes = runtime::to_wire(*envelope);
  REQUIRE(bytes);
  auto back = runtime::from_wire<v1::Envelope>(*bytes);
  REQUIRE(back);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(*envelope, *back));
  CHECK(back->request_id() == "req-1");
  CHECK(back->trace().traceparent() == traceparent);
  CHECK(back->trace().tracestate() == "vendor=abc");
  CHECK(back->deadline_unix_ms() == deadline);
  CHECK(back->caller().subject() == "alice");
  CHECK(back->service() == "embedding");
  CHECK(back->payload_case() == v1::Envelope::kJson);
  CHECK(runtime::payload_json(*back).value() == payload);
  // Printed as JSON (for logs and debugging), the deadline stays a number.
  CHECK(runtime::to_json(*back).value().at("deadline_unix_ms") == deadline);
}

TEST_CASE("an envelope with a typed doc round-trips and yields the doc", "[message]") {
  v1::EmbedDoc doc;
  doc.set_text("What is OPEA?");
  doc.add_embedding(0.5f);
  doc.add_embedding(-0.25f);
  doc.set_k(4);
  auto envelope = runtime::make_envelope("req-2", "", 0, doc);
  REQUIRE(envelope);
  CHECK(envelope->doc_type() == "opea.v1.EmbedDoc");
  CHECK_FALSE(envelope->has_trace());
  auto back = runtime::from_wire<v1::Envelope>(runtime::to_wire(*envelope).value());
  REQUIRE(back);
  auto typed = runtime::payload_as<v1::EmbedDoc>(*back);
  REQUIRE(typed);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(*typed, doc));
  CHECK(runtime::payload_json(*back).value() ==
        json::parse(R"({"text": "What is OPEA?", "embedding": [0.5, -0.25], "k": 4})"));
}

TEST_CASE("payload_as converts a JSON payload and checks its fields", "[message]") {
  auto good = runtime::make_envelope("r", "", 0, json::parse(R"({"text": "hi", "k": 2})"));
  REQUIRE(good);
  auto doc = runtime::payload_as<v1::EmbedDoc>(*good);
  REQUIRE(doc);
  CHECK(doc->text() == "hi");
  CHECK(doc->k() == 2);
  auto bad = runtime::make_envelope("r", "", 0, json::parse(R"({"text": "hi", "k": "two"})"));
  REQUIRE(bad);
  auto rejected = runtime::payload_as<v1::EmbedDoc>(*bad);
  REQUIRE_FALSE(rejected);
  CHECK(runtime::code_of(rejected.error()) == errc::bad_request);
  CHECK(runtime::subject_of(rejected.error()) == "opea.v1.EmbedDoc");
}

TEST_CASE("envelope payload errors are bad_requests", "[message]") {
  SECTION("JSON payload that is not an object") {
    auto envelope = runtime::make_envelope("r", "", 0, json::array({1, 2}));
    REQUIRE_FALSE(envelope);
    CHECK(runtime::code_of(envelope.error()) == errc::bad_request);
    CHECK(runtime::subject_of(envelope.error()) == "opea.v1.Envelope.json");
  }
  SECTION("doc of another type than asked for") {
    v1::TextDoc doc;
    doc.set_text("x");
    auto envelope = runtime::make_envelope("r", "", 0, doc);
    REQUIRE(envelope);
    auto wrong = runtime::payload_as<v1::EmbedDoc>(*envelope);
    REQUIRE_FALSE(wrong);
    CHECK(runtime::code_of(wrong.error()) == errc::bad_request);
    CHECK(runtime::subject_of(wrong.error()) == "opea.v1.Envelope.doc_type");
  }
  SECTION("doc_type this build does not know") {
    v1::Envelope envelope;
    envelope.set_doc("\x0a\x01x");
    envelope.set_doc_type("opea.v2.FutureDoc");
    auto json = runtime::payload_json(envelope);
    REQUIRE_FALSE(json);
    CHECK(runtime::subject_of(json.error()) == "opea.v1.Envelope.doc_type");
  }
  SECTION("an empty payload is {}") {
    v1::Envelope envelope;
    CHECK(runtime::payload_json(envelope).value() == json::object());
    auto doc = runtime::payload_as<v1::TextDoc>(envelope);
    REQUIRE(doc);
    CHECK_FALSE(doc->has_text());
  }
}

TEST_CASE("setting one payload clears the other", "[message]") {
  auto envelope = runtime::make_envelope("r", "", 0, json::parse(R"({"a": 1})"));
  REQUIRE(envelope);
  envelope->set_doc("bytes");
  CHECK(envelope->payload_case() == v1::Envelope::kDoc);
  CHECK_FALSE(envelope->has_json());
}
