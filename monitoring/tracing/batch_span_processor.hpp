#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "monitoring/tracing/span_data.hpp"

namespace opea::monitoring {

/// Sends one export request: POSTs `body` with `content_type` to the
/// collector and returns true when it accepted it (HTTP 2xx). Supplied by a
/// layer that has an HTTP client; called from the processor's export thread
/// only, one call at a time. It must not throw (a throw counts as a failure)
/// and must bound its own time: OTEL_EXPORTER_OTLP_TIMEOUT is its budget, the
/// processor cannot interrupt it.
using span_transport =
    std::function<bool(const std::string& body, const std::string& content_type)>;

/// OpenTelemetry's BatchSpanProcessor settings (OTEL_BSP_*), with its defaults.
struct batch_span_processor_options {
  /// Spans waiting for export; beyond it an ended span is dropped. Default: 2048.
  std::size_t max_queue_size = 2048;
  /// Longest a span waits before its batch is exported. Default: 5000 ms.
  std::chrono::milliseconds schedule_delay{5000};
  /// Spans per export request; a queue this long wakes the export thread
  /// early. At most max_queue_size. Default: 512.
  std::size_t max_export_batch_size = 512;
  /// Default wait of force_flush. Default: 30000 ms.
  std::chrono::milliseconds export_timeout{30000};
};

/// What the processor has done since it started; read by a metrics layer
/// (opea_tracing_spans_exported_total, opea_tracing_spans_dropped_total,
/// opea_tracing_export_failures_total).
struct span_processor_counters {
  /// Spans in export requests the transport accepted.
  std::uint64_t exported = 0;
  /// Spans ended while the queue was full, or after shutdown.
  std::uint64_t dropped = 0;
  /// Export requests the transport refused (returned false or threw); their
  /// spans are lost (no retry) and not counted as dropped.
  std::uint64_t export_failures = 0;
};

/// Queues ended spans and exports them in batches, OTLP/HTTP JSON encoded,
/// from one background thread, as OpenTelemetry's BatchSpanProcessor.
///
/// Thread-safe: `on_end`, `force_flush`, `counters` and `shutdown` may be
/// called from any thread. One mutex guards the queue and the flush
/// bookkeeping; `on_end` holds it for a push, never while exporting, so
/// ending a span never waits for the network. The export thread wakes every
/// `schedule_delay`, when the queue reaches `max_export_batch_size`, on
/// `force_flush` and on `shutdown`, and then takes the whole queue. Counters
/// are atomics.
class batch_span_processor {
 public:
  /// Starts the export thread. `options` must hold positive values with
  /// max_export_batch_size <= max_queue_size (tracing_settings checks them);
  /// a larger batch size is clamped to the queue size.
  explicit batch_span_processor(span_transport transport,
                                batch_span_processor_options options = {});
  /// shutdown().
  ~batch_span_processor();

  batch_span_processor(const batch_span_processor&) = delete;
  batch_span_processor& operator=(const batch_span_processor&) = delete;

  /// Queues an ended span; never blocks on export. Drops it (and counts the
  /// drop) if the queue is full or the processor is shut down. A span's data
  /// stays where the tracer allocated it: the queue moves pointers.
  void on_end(std::unique_ptr<span_data> span);

  /// Exports every span queued before this call; returns true once they have
  /// all been handed to the transport (accepted or refused), false if
  /// `timeout` passed first (the export goes on).
  bool force_flush(std::chrono::milliseconds timeout);
  /// force_flush with options().export_timeout.
  bool force_flush() { return force_flush(options_.export_timeout); }

  /// Exports everything still queued, stops and joins the export thread.
  /// Idempotent; spans ended afterwards are dropped. Waits for the transport
  /// as long as it takes (it bounds itself).
  void shutdown();

  span_processor_counters counters() const;

  const batch_span_processor_options& options() const { return options_; }

 private:
  void run();
  void export_batch(const std::vector<std::unique_ptr<span_data>>& batch);

  span_transport transport_;
  batch_span_processor_options options_;

  mutable std::mutex mutex_;
  /// The export thread waits on it.
  std::condition_variable wake_;
  /// force_flush waits on it.
  std::condition_variable flushed_;
  /// Guarded by mutex_. Reserved to max_queue_size: a push never reallocates.
  std::vector<std::unique_ptr<span_data>> queue_;
  /// Spans accepted into the queue, and spans whose export finished (both
  /// guarded by mutex_): force_flush waits until finished_ reaches the
  /// accepted_ it saw.
  std::uint64_t accepted_ = 0;
  std::uint64_t finished_ = 0;
  bool flush_requested_ = false;
  bool stopping_ = false;

  std::atomic<std::uint64_t> exported_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> failures_{0};

  /// Serialises concurrent shutdowns' join.
  std::mutex join_mutex_;
  std::thread worker_;
};

}  // namespace opea::monitoring
