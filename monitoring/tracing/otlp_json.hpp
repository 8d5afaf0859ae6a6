#pragma once

#include <string>
#include <vector>

#include "monitoring/tracing/span_data.hpp"

namespace opea::monitoring {

/// The Content-Type of an OTLP/HTTP JSON export request.
inline constexpr const char* otlp_json_content_type = "application/json";

/// Appends to `out` the body of an OTLP/HTTP JSON export request
/// (ExportTraceServiceRequest) holding `spans` (not null), as the OTLP
/// specification's JSON Protobuf Encoding writes it:
///
///   {"resourceSpans":[{"resource":{"attributes":[...]},"scopeSpans":[{
///     "scope":{"name":"opea-cpp","version":"..."},"spans":[{
///       "traceId":"<32 hex>","spanId":"<16 hex>","traceState":"...",
///       "parentSpanId":"<16 hex>","flags":257,"name":"...","kind":2,
///       "startTimeUnixNano":"<decimal>","endTimeUnixNano":"<decimal>",
///       "attributes":[{"key":"k","value":{"intValue":"42"}}],
///       "droppedAttributesCount":1,"status":{"code":2,"message":"..."}}]}]}]}
///
/// - Keys lowerCamelCase, ids lower-case hex (not base64), enums as integers,
///   64-bit integers (times, intValue) as decimal strings, doubles as numbers
///   (shortest round-trip form; NaN and infinities as "NaN", "Infinity",
///   "-Infinity").
/// - Fields at their default are omitted: traceState when empty, parentSpanId
///   for a root span, attributes when none, droppedAttributesCount when 0,
///   status when unset, status.message when empty.
/// - flags: the W3C trace flags plus OTLP's "has is_remote" bit (0x100) and,
///   when the parent came from another process, "is_remote" (0x200).
/// - Spans are grouped by resource (pointer identity), in order of first
///   appearance; one scope per resource (the resource's scope name/version).
/// - Strings are escaped per RFC 8259; bytes that are not valid UTF-8 become
///   U+FFFD, so a stray byte in an attribute cannot make a collector reject
///   the whole batch.
void append_otlp_json(std::string& out, const std::vector<const span_data*>& spans);

/// The export request body holding all of `spans` (see append_otlp_json).
std::string encode_otlp_json(const std::vector<span_data>& spans);

}  // namespace opea::monitoring
