#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include "monitoring/tracing/batch_span_processor.hpp"
#include "monitoring/tracing/sampler.hpp"
#include "monitoring/tracing/span.hpp"
#include "monitoring/tracing/span_context.hpp"
#include "monitoring/tracing/tracing_settings.hpp"

namespace opea::monitoring {

/// Starts spans, OpenTelemetry's model without its SDK: a sampler decides,
/// sampled spans go to a batch_span_processor that exports them as OTLP/HTTP
/// JSON through the injected transport. One per process (or per test),
/// passed by reference, never a global.
///
/// Disabled (`!settings.enabled()`: no endpoint, OTEL_SDK_DISABLED=true or
/// OTEL_TRACES_EXPORTER=none) it starts no thread and `start_span` returns a
/// no-op span whose context is the parent's, unchanged, so trace context
/// still flows through this process.
///
/// Thread-safe: `start_span` reads only immutable state (settings, sampler,
/// resource) and this thread's id generator; the processor is thread-safe.
class tracer {
 public:
  /// The resource is service.name, OTEL_RESOURCE_ATTRIBUTES, then
  /// telemetry.sdk.name "opea-cpp", telemetry.sdk.language "cpp" and
  /// telemetry.sdk.version (opea-cpp's version), unless set already; the
  /// scope is "opea-cpp" at opea-cpp's version. When enabled, starts the
  /// processor's export thread with `transport`.
  tracer(tracing_settings settings, span_transport transport);
  /// shutdown().
  ~tracer();

  tracer(const tracer&) = delete;
  tracer& operator=(const tracer&) = delete;

  bool enabled() const { return processor_ != nullptr; }

  /// Starts a span named `name` now. A valid `parent` (a local span's
  /// context, or one parsed from an incoming traceparent) makes it a child:
  /// same trace id and tracestate, parent span id set; otherwise it is a root
  /// span of a new random trace id. The span always gets a new span id; it
  /// records only when the sampler says so (its context's sampled flag says
  /// which).
  span start_span(std::string_view name, span_kind kind = span_kind::internal,
                  const span_context& parent = {}) const;

  const tracing_settings& settings() const { return settings_; }
  const std::shared_ptr<const span_resource>& resource() const { return resource_; }

  /// The processor's counters; zeros when disabled.
  span_processor_counters counters() const;
  /// The processor's force_flush; true at once when disabled.
  bool force_flush(std::chrono::milliseconds timeout) const;
  /// Flushes and stops the export thread; idempotent.
  void shutdown();

 private:
  tracing_settings settings_;
  std::shared_ptr<const span_resource> resource_;
  /// Null when disabled. Shared with the recording spans, which may end
  /// after this tracer is gone.
  std::shared_ptr<batch_span_processor> processor_;
};

}  // namespace opea::monitoring
