#include "monitoring/tracing/tracer.hpp"

#include <algorithm>

namespace opea::monitoring {

namespace {

std::shared_ptr<const span_resource> make_resource(const tracing_settings& s) {
  auto r = std::make_shared<span_resource>();
  auto add = [&r](std::string key, std::string value) {
    for (const auto& a : r->attributes)
      if (a.key == key) return;
    r->attributes.push_back(span_attribute{std::move(key), std::move(value)});
  };
  add("service.name", s.service_name);
  for (const auto& [key, value] : s.resource_attributes) add(key, value);
  add("telemetry.sdk.name", "opea-cpp");
  add("telemetry.sdk.language", "cpp");
  add("telemetry.sdk.version", OPEA_VERSION);
  r->scope_name = "opea-cpp";
  r->scope_version = OPEA_VERSION;
  return r;
}

}  // namespace

tracer::tracer(tracing_settings settings, span_transport transport)
    : settings_(std::move(settings)), resource_(make_resource(settings_)) {
  if (settings_.enabled())
    processor_ = std::make_shared<batch_span_processor>(std::move(transport), settings_.batch);
}

tracer::~tracer() {
  shutdown();
}

span tracer::start_span(std::string_view name, span_kind kind, const span_context& parent) const {
  if (!processor_) return span{parent};
  const bool child = parent.valid();
  const trace_id trace = child ? parent.trace : trace_id::random();
  const bool sampled = settings_.trace_sampler.should_sample(parent, trace);
  if (!sampled) {
    span_context ctx;
    ctx.trace = trace;
    ctx.span = span_id::random();
    if (child) ctx.state = parent.state;
    return span{std::move(ctx)};
  }
  auto data = std::make_unique<span_data>();
  data->name = std::string{name};
  data->kind = kind;
  data->context.trace = trace;
  data->context.span = span_id::random();
  data->context.flags = span_context::sampled_flag;
  if (child) {
    data->context.state = parent.state;
    data->parent = parent.span;
    data->parent_remote = parent.remote;
  }
  data->resource = resource_;
  data->start_unix_nano = unix_nanos_now();
  return span{std::move(data), processor_};
}

span_processor_counters tracer::counters() const {
  return processor_ ? processor_->counters() : span_processor_counters{};
}

bool tracer::force_flush(std::chrono::milliseconds timeout) const {
  return processor_ ? processor_->force_flush(timeout) : true;
}

void tracer::shutdown() {
  if (processor_) processor_->shutdown();
}

}  // namespace opea::monitoring
