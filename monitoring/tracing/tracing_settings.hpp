#pragma once

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "monitoring/tracing/batch_span_processor.hpp"
#include "monitoring/tracing/sampler.hpp"

namespace opea::monitoring {

/// Thrown by tracing_settings::from_environment: `what()` is one line naming
/// the variable, its value and the problem, ready to print, e.g.
///
///     OTEL_TRACES_SAMPLER="ratio": unknown sampler (expected always_on, ...)
///
/// Thrown only at start-up (CONVENTIONS.md, "Errors"); `main` catches it once.
class tracing_config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Looks up an environment variable: null when unset (std::getenv's contract).
using getenv_function = std::function<const char*(const char*)>;

/// How a process traces, from OpenTelemetry's standard environment variables
/// (an empty variable counts as unset, as the OpenTelemetry spec says).
///
/// Tracing is OFF unless an endpoint is configured: `enabled()` needs
/// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, and
/// OTEL_SDK_DISABLED not `true`, and OTEL_TRACES_EXPORTER not `none`.
struct tracing_settings {
  /// OTEL_SDK_DISABLED (`true` / `false`, any case). Default: false. When true
  /// no other variable is read or checked.
  bool sdk_disabled = false;
  /// OTEL_TRACES_EXPORTER: `otlp` (default) exports, `none` does not.
  bool exporter_none = false;
  /// Resource attribute service.name: OTEL_SERVICE_NAME, else service.name
  /// in OTEL_RESOURCE_ATTRIBUTES. Default: "unknown_service".
  std::string service_name = "unknown_service";
  /// OTEL_RESOURCE_ATTRIBUTES ("key=value,...", values percent-decoded), in
  /// order, without service.name. Default: none.
  std::vector<std::pair<std::string, std::string>> resource_attributes;
  /// OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG (the ratio of the
  /// traceidratio samplers, in [0, 1], default 1.0). Default:
  /// parentbased_always_on.
  sampler trace_sampler;
  /// Full URL export requests are POSTed to: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
  /// as is, else OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces". http:// or
  /// https:// only. Default: "" (tracing off).
  std::string endpoint;
  /// OTEL_EXPORTER_OTLP_HEADERS then OTEL_EXPORTER_OTLP_TRACES_HEADERS (which
  /// wins per key): "key=value,...", values percent-decoded. Default: none.
  std::vector<std::pair<std::string, std::string>> headers;
  /// OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, else OTEL_EXPORTER_OTLP_TIMEOUT
  /// (milliseconds): the budget of one export request, for the transport.
  /// Default: 10000 ms.
  std::chrono::milliseconds exporter_timeout{10000};
  /// OTEL_BSP_MAX_QUEUE_SIZE (2048), OTEL_BSP_SCHEDULE_DELAY (5000 ms),
  /// OTEL_BSP_MAX_EXPORT_BATCH_SIZE (512, at most the queue size),
  /// OTEL_BSP_EXPORT_TIMEOUT (30000 ms). Positive integers.
  batch_span_processor_options batch;

  /// OTEL_EXPORTER_OTLP_PROTOCOL / OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: only
  /// `http/json` is implemented (and is the default here, where the
  /// OpenTelemetry SDKs default to http/protobuf); `http/protobuf` and
  /// `grpc` are refused with an error naming the variable.
  static constexpr const char* protocol = "http/json";

  /// True when spans are to be exported (see the class comment).
  bool enabled() const { return !sdk_disabled && !exporter_none && !endpoint.empty(); }

  /// Reads the variables through `getenv`. Throws tracing_config_error on an
  /// invalid value (naming the variable and the value) or an unsupported
  /// protocol, sampler or exporter.
  static tracing_settings from_environment(const getenv_function& getenv);
  /// Reads the process environment (start-up only: getenv races setenv).
  static tracing_settings from_environment();
};

}  // namespace opea::monitoring
