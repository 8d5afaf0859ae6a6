#include "runtime/message/envelope.hpp"

#include <string>

#include <google/protobuf/util/message_differencer.h>
#include <catch2/catch.hpp>

#include "runtime/errors.hpp"

using nlohmann::json;
using namespace opea;
using opea::runtime::errc;

namespace {

constexpr const char* traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr int64_t deadline = 1718000000123;  // needs 41 bits: exercises int64

}  // namespace

TEST_CASE("an envelope with a JSON payload round-trips through bytes", "[message]") {
  auto payload = json::parse(R"({"question": "What is OPEA?", "top": 3, "big": 9007199254740993,
                                 "tags": ["a", "b"], "nested": {"ok": true, "none": null}})");
  auto envelope = runtime::make_envelope("req-1", traceparent, deadline, payload);
  REQUIRE(envelope);
  envelope->mutable_trace()->set_tracestate("vendor=abc");
  envelope->mutable_caller()->set_subject("alice");
  envelope->mutable_caller()->add_roles("reader");
  envelope->set_service("embedding");

  std::string bytes;
  REQUIRE(envelope->SerializeToString(&bytes));
  v1::Envelope back;
  REQUIRE(back.ParseFromString(bytes));
  CHECK(google::protobuf::util::MessageDifferencer::Equals(*envelope, back));
  CHECK(back.request_id() == "req-1");
  CHECK(back.trace().traceparent() == traceparent);
  CHECK(back.trace().tracestate() == "vendor=abc");
  CHECK(back.deadline_unix_ms() == deadline);
  CHECK(back.caller().subject() == "alice");
  CHECK(back.service() == "embedding");
  CHECK(back.payload_case() == v1::Envelope::kJsonText);
  // Integers beyond 2^53 stay exact.
  CHECK(runtime::payload_json(back).value() == payload);
  CHECK(runtime::payload_json(back).value().at("big").get<uint64_t>() == 9007199254740993ull);
}

TEST_CASE("envelope payload errors are bad_requests", "[message]") {
  SECTION("JSON payload that is not an object") {
    auto envelope = runtime::make_envelope("r", "", 0, json::array({1, 2}));
    REQUIRE_FALSE(envelope);
    CHECK(envelope.error() == errc::bad_request);
    CHECK(runtime::subject_of(envelope.error()) == "opea.v1.Envelope.json_text");
    CHECK(runtime::detail_of(envelope.error()) == "payload must be a JSON object, got array");
  }
  SECTION("payload text that is not a JSON object") {
    v1::Envelope envelope;
    envelope.set_json_text("[1, 2]");
    auto got = runtime::payload_json(envelope);
    REQUIRE_FALSE(got);
    CHECK(got.error() == errc::bad_request);
    CHECK(runtime::subject_of(got.error()) == "opea.v1.Envelope.json_text");
    CHECK(runtime::detail_of(got.error()) == "is not a JSON object");
    envelope.set_json_text("{\"unterminated");
    CHECK_FALSE(runtime::payload_json(envelope));
  }
  SECTION("an empty payload is {}") {
    v1::Envelope envelope;
    CHECK(runtime::payload_json(envelope).value() == json::object());
  }
}
