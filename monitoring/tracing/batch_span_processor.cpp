#include "monitoring/tracing/batch_span_processor.hpp"

#include <algorithm>

#include <pthread.h>

#include "monitoring/tracing/otlp_json.hpp"

namespace opea::monitoring {

batch_span_processor::batch_span_processor(span_transport transport,
                                           batch_span_processor_options options)
    : transport_(std::move(transport)), options_(options) {
  options_.max_queue_size = std::max<std::size_t>(options_.max_queue_size, 1);
  options_.max_export_batch_size =
      std::clamp<std::size_t>(options_.max_export_batch_size, 1, options_.max_queue_size);
  queue_.reserve(options_.max_queue_size);
  worker_ = std::thread{[this] { run(); }};
}

batch_span_processor::~batch_span_processor() {
  shutdown();
}

void batch_span_processor::on_end(std::unique_ptr<span_data> span) {
  if (!span) return;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    if (stopping_ || queue_.size() >= options_.max_queue_size) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(span));
    ++accepted_;
    wake = queue_.size() == options_.max_export_batch_size;
  }
  if (wake) wake_.notify_one();
}

bool batch_span_processor::force_flush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock{mutex_};
  const auto target = accepted_;
  if (finished_ >= target) return true;
  flush_requested_ = true;
  wake_.notify_one();
  return flushed_.wait_for(lock, timeout, [&] { return finished_ >= target; });
}

void batch_span_processor::shutdown() {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_one();
  std::lock_guard<std::mutex> lock{join_mutex_};
  if (worker_.joinable()) worker_.join();
}

span_processor_counters batch_span_processor::counters() const {
  span_processor_counters c;
  c.exported = exported_.load(std::memory_order_relaxed);
  c.dropped = dropped_.load(std::memory_order_relaxed);
  c.export_failures = failures_.load(std::memory_order_relaxed);
  return c;
}

void batch_span_processor::run() {
  pthread_setname_np(pthread_self(), "opea-tracing");
  std::vector<std::unique_ptr<span_data>> batch;
  batch.reserve(options_.max_queue_size);
  std::unique_lock<std::mutex> lock{mutex_};
  for (;;) {
    wake_.wait_for(lock, options_.schedule_delay, [this] {
      return stopping_ || flush_requested_ || queue_.size() >= options_.max_export_batch_size;
    });
    // The queue's and the batch's buffers swap, so both keep their capacity.
    batch.swap(queue_);
    flush_requested_ = false;
    const bool stop = stopping_;
    if (!batch.empty()) {
      lock.unlock();
      export_batch(batch);
      const auto n = batch.size();
      batch.clear();
      lock.lock();
      finished_ += n;
      flushed_.notify_all();
    }
    // on_end refuses spans once stopping_ is set, so an empty queue stays empty.
    if (stop && queue_.empty()) return;
  }
}

void batch_span_processor::export_batch(const std::vector<std::unique_ptr<span_data>>& batch) {
  std::string body;
  std::vector<const span_data*> chunk;
  const std::string content_type = otlp_json_content_type;
  for (std::size_t at = 0; at < batch.size(); at += options_.max_export_batch_size) {
    const auto n = std::min(options_.max_export_batch_size, batch.size() - at);
    chunk.clear();
    for (std::size_t i = at; i < at + n; ++i) chunk.push_back(batch[i].get());
    body.clear();
    append_otlp_json(body, chunk);
    bool ok = false;
    try {
      ok = transport_ && transport_(body, content_type);
    } catch (...) {
      ok = false;
    }
    if (ok)
      exported_.fetch_add(n, std::memory_order_relaxed);
    else
      failures_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace opea::monitoring
