#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "monitoring/tracing/span_context.hpp"

namespace opea::monitoring {

/// Decides whether a new span is sampled (recorded and exported), as the
/// OpenTelemetry SDK's built-in samplers, named as OTEL_TRACES_SAMPLER names
/// them. A value type: immutable once built, safe to use from any thread.
///
/// - always_on / always_off: every span / none.
/// - traceidratio: a deterministic function of the trace id, so every
///   process of a trace with the same ratio decides alike, and a trace
///   sampled at ratio r is sampled at every ratio above r (the spec's two
///   requirements). Algorithm (the spec's ProbabilitySampler, W3C Trace
///   Context Level 2 randomness): R = the trace id's 7 rightmost bytes (56
///   bits), T = 2^56 - round(ratio * 2^56); sampled iff R >= T.
/// - parentbased_*: a span with a valid parent follows the parent's sampled
///   flag; a root span asks the named root sampler. Default:
///   parentbased_always_on.
class sampler {
 public:
  enum class kind {
    always_on,
    always_off,
    traceidratio,
    parentbased_always_on,
    parentbased_always_off,
    parentbased_traceidratio,
  };

  /// parentbased_always_on, the default.
  sampler() : sampler(kind::parentbased_always_on) {}
  /// `ratio` matters for the two traceidratio kinds only; clamped to [0, 1].
  explicit sampler(kind k, double ratio = 1.0);

  /// True if a span of trace `trace` with parent `parent` (invalid: a root
  /// span) is sampled.
  bool should_sample(const span_context& parent, const trace_id& trace) const;

  kind type() const { return kind_; }
  double ratio() const { return ratio_; }

  /// As the OpenTelemetry SDKs describe samplers, e.g.
  /// "ParentBased{root=TraceIdRatioBased{0.25}}": for a start-up log line.
  std::string description() const;

  /// The kind an OTEL_TRACES_SAMPLER value names; nullopt if unknown.
  static std::optional<kind> kind_from_name(std::string_view name);
  /// The OTEL_TRACES_SAMPLER name of `k`.
  static const char* name(kind k);

 private:
  bool root_decision(const trace_id& trace) const;

  kind kind_;
  double ratio_;
  /// The rejection threshold T (2^56 never samples, 0 always does).
  std::uint64_t threshold_;
};

}  // namespace opea::monitoring
