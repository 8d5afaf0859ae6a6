#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <vector>

namespace opea::monitoring {

/// Average, median and 99th percentile of a set of latencies (seconds);
/// empty when nothing was recorded.
struct latency_summary {
  std::optional<double> p50;
  std::optional<double> p99;
  std::optional<double> average;
};

/// The latencies behind OPEA's `GET /v1/statistics` for one megaservice or
/// service: whole-call latencies and, for streamed answers, first-token
/// latencies, each over the last `window` recorded (OPEA's Python keeps every
/// one it ever saw; a bounded window keeps a long-running node's memory
/// flat). Percentiles as numpy's default (linear interpolation between the
/// closest ranks).
///
/// Thread-safe: one mutex, held for an insertion (a store and an index
/// increment) or while a summary copies the window.
class latency_statistics {
 public:
  /// Observations kept per series.
  static constexpr size_t window = 4096;

  void record(double seconds);
  void record_first_token(double seconds);

  latency_summary latency() const;
  latency_summary first_token() const;

 private:
  struct ring {
    std::vector<double> values;
    size_t next = 0;
    void add(double v);
  };
  static latency_summary summarize(std::vector<double> values);

  mutable std::mutex mutex_;
  ring latency_;
  ring first_token_;
};

}  // namespace opea::monitoring
