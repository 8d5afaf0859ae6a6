#include "monitoring/tracing/sampler.hpp"

#include <cmath>
#include <sstream>

namespace opea::monitoring {

namespace {

constexpr std::uint64_t two_to_56 = std::uint64_t{1} << 56;

/// The trace id's randomness R: its 7 rightmost bytes, big-endian.
std::uint64_t randomness(const trace_id& trace) {
  std::uint64_t r = 0;
  for (std::size_t i = 9; i < 16; ++i) r = r << 8 | trace.bytes[i];
  return r;
}

}  // namespace

sampler::sampler(kind k, double ratio) : kind_(k) {
  if (!(ratio >= 0)) ratio = 0;  // also NaN
  if (ratio > 1) ratio = 1;
  ratio_ = ratio;
  // ratio * 2^56 is exact scaling, so small ratios keep their precision.
  threshold_ = two_to_56 - static_cast<std::uint64_t>(std::llround(ratio * 0x1p56));
}

bool sampler::root_decision(const trace_id& trace) const {
  switch (kind_) {
    case kind::always_on:
    case kind::parentbased_always_on:
      return true;
    case kind::always_off:
    case kind::parentbased_always_off:
      return false;
    case kind::traceidratio:
    case kind::parentbased_traceidratio:
      return randomness(trace) >= threshold_;
  }
  return false;
}

bool sampler::should_sample(const span_context& parent, const trace_id& trace) const {
  switch (kind_) {
    case kind::parentbased_always_on:
    case kind::parentbased_always_off:
    case kind::parentbased_traceidratio:
      if (parent.valid()) return parent.sampled();
      break;
    default:
      break;
  }
  return root_decision(trace);
}

std::string sampler::description() const {
  std::ostringstream ratio;
  ratio << ratio_;
  std::string root;
  switch (kind_) {
    case kind::always_on:
    case kind::parentbased_always_on:
      root = "AlwaysOnSampler";
      break;
    case kind::always_off:
    case kind::parentbased_always_off:
      root = "AlwaysOffSampler";
      break;
    case kind::traceidratio:
    case kind::parentbased_traceidratio:
      root = "TraceIdRatioBased{" + ratio.str() + "}";
      break;
  }
  switch (kind_) {
    case kind::parentbased_always_on:
    case kind::parentbased_always_off:
    case kind::parentbased_traceidratio:
      return "ParentBased{root=" + root + "}";
    default:
      return root;
  }
}

const char* sampler::name(kind k) {
  switch (k) {
    case kind::always_on:
      return "always_on";
    case kind::always_off:
      return "always_off";
    case kind::traceidratio:
      return "traceidratio";
    case kind::parentbased_always_on:
      return "parentbased_always_on";
    case kind::parentbased_always_off:
      return "parentbased_always_off";
    case kind::parentbased_traceidratio:
      return "parentbased_traceidratio";
  }
  return "?";
}

std::optional<sampler::kind> sampler::kind_from_name(std::string_view n) {
  for (auto k : {kind::always_on, kind::always_off, kind::traceidratio, kind::parentbased_always_on,
                 kind::parentbased_always_off, kind::parentbased_traceidratio})
    if (n == name(k)) return k;
  return std::nullopt;
}

}  // namespace opea::monitoring
