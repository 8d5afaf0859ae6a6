#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "monitoring/tracing/span_context.hpp"
#include "monitoring/tracing/span_data.hpp"

namespace opea::monitoring {

class batch_span_processor;

/// One unit of traced work: a movable RAII handle from `tracer::start_span`.
/// `end()`, or the destructor, stamps the end time and hands a sampled span
/// to the tracer's batch processor (which never blocks); ending twice is a
/// no-op.
///
/// A span that is not recording (unsampled, or from a disabled tracer) holds
/// only its context: attributes and status are ignored, nothing is exported,
/// and `context()` / `traceparent()` still propagate the trace to children
/// and to the next hop.
///
/// Not thread-safe: one owner at a time (an actor's state, a request's
/// continuation); move it between threads, do not share it. A span may
/// outlive its tracer: ended after the tracer's shutdown, it is dropped.
class span {
 public:
  /// A non-recording span carrying `context` (default: none).
  explicit span(span_context context = {}) noexcept : context_(std::move(context)) {}
  span(span&& other) noexcept = default;
  /// Ends this span first, then takes `other`'s.
  span& operator=(span&& other) noexcept;
  ~span() { end(); }

  span(const span&) = delete;
  span& operator=(const span&) = delete;

  /// True while sampled and not ended.
  bool is_recording() const { return data_ != nullptr; }

  /// What children and outgoing requests carry: this span's trace id, span
  /// id, sampled flag and tracestate. Still valid after end().
  const span_context& context() const { return context_; }

  /// `context()` as a W3C traceparent header value; "" when no trace.
  std::string traceparent() const { return context_.traceparent(); }

  /// Sets an attribute, replacing one with the same key. Past
  /// span_data::max_attributes (128) distinct keys a new one is dropped and
  /// counted (OTLP's droppedAttributesCount).
  void set_attribute(std::string_view key, std::string_view value);
  void set_attribute(std::string_view key, const char* value) {
    set_attribute(key, std::string_view{value});
  }
  void set_attribute(std::string_view key, bool value);
  void set_attribute(std::string_view key, double value);
  /// Any integer type, stored as int64 (an unsigned value above INT64_MAX wraps).
  template <class Int,
            std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool>, int> = 0>
  void set_attribute(std::string_view key, Int value) {
    set_int(key, static_cast<std::int64_t>(value));
  }

  /// OpenTelemetry's rules: `ok` is final; `unset` is ignored; the message
  /// is kept with `error` only.
  void set_status(status_code code, std::string_view message = {});

  /// Ends the span now (system clock).
  void end();
  /// Ends the span at `end_unix_nano`.
  void end(std::uint64_t end_unix_nano);

 private:
  friend class tracer;
  span(std::unique_ptr<span_data> data, std::shared_ptr<batch_span_processor> processor);

  void set_int(std::string_view key, std::int64_t value);
  void set(std::string_view key, attribute_value&& value);

  /// Also held in data_->context while recording (the exported copy).
  span_context context_;
  /// Null unless recording.
  std::unique_ptr<span_data> data_;
  std::shared_ptr<batch_span_processor> processor_;
};

}  // namespace opea::monitoring
