#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "monitoring/tracing/span_context.hpp"

namespace opea::monitoring {

/// OTLP's SpanKind, with its wire values.
enum class span_kind : int { internal = 1, server = 2, client = 3, producer = 4, consumer = 5 };

/// OTLP's Status.code, with its wire values.
enum class status_code : int { unset = 0, ok = 1, error = 2 };

/// An attribute value: string, int64, double or bool (OTLP's AnyValue
/// without arrays, maps and bytes). Index order is fixed: the encoder relies on it.
using attribute_value = std::variant<std::string, std::int64_t, double, bool>;

struct span_attribute {
  std::string key;
  attribute_value value;
};

/// Who produced a batch of spans: the OpenTelemetry resource (service.name,
/// telemetry.sdk.*, OTEL_RESOURCE_ATTRIBUTES) and the instrumentation scope.
/// One per tracer, immutable, shared by all its spans.
struct span_resource {
  std::vector<span_attribute> attributes;
  std::string scope_name = "opea-cpp";
  std::string scope_version;
};

/// Wall-clock now in Unix nanoseconds (what OTLP's *_time_unix_nano carry).
inline std::uint64_t unix_nanos_now() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

/// One finished (or finishing) sampled span, as exported. A value type: the
/// span handle fills it, the batch processor queues it, the OTLP encoder
/// reads it.
struct span_data {
  std::string name;
  span_kind kind = span_kind::internal;
  /// This span's trace id, span id, flags and tracestate.
  span_context context;
  /// Invalid (all zero) for a root span.
  span_id parent;
  /// The parent came from another process (OTLP's flags bit 9).
  bool parent_remote = false;
  std::uint64_t start_unix_nano = 0;
  std::uint64_t end_unix_nano = 0;
  std::vector<span_attribute> attributes;
  /// Attributes refused because the span already had `max_attributes`.
  std::uint32_t dropped_attributes = 0;
  status_code status = status_code::unset;
  /// Only with status_code::error.
  std::string status_message;
  /// The tracer's resource; null encodes as an empty resource.
  std::shared_ptr<const span_resource> resource;

  /// Attributes kept per span (OpenTelemetry's default attribute count limit).
  static constexpr std::size_t max_attributes = 128;
};

}  // namespace opea::monitoring
