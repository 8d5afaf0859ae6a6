#include "monitoring/latency_statistics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace opea::monitoring {

void latency_statistics::ring::add(double v) {
  if (values.size() < window) {
    values.push_back(v);
    return;
  }
  values[next] = v;
  next = (next + 1) % window;
}

void latency_statistics::record(double seconds) {
  std::lock_guard<std::mutex> lock{mutex_};
  latency_.add(seconds);
}

void latency_statistics::record_first_token(double seconds) {
  std::lock_guard<std::mutex> lock{mutex_};
  first_token_.add(seconds);
}

latency_summary latency_statistics::latency() const {
  std::vector<double> copy;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    copy = latency_.values;
  }
  return summarize(std::move(copy));
}

latency_summary latency_statistics::first_token() const {
  std::vector<double> copy;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    copy = first_token_.values;
  }
  return summarize(std::move(copy));
}

latency_summary latency_statistics::summarize(std::vector<double> values) {
  latency_summary out;
  if (values.empty()) return out;
  std::sort(values.begin(), values.end());
  auto percentile = [&](double q) {
    double rank = q * static_cast<double>(values.size() - 1);
    auto lo = static_cast<size_t>(std::floor(rank));
    auto hi = std::min(lo + 1, values.size() - 1);
    return values[lo] + (values[hi] - values[lo]) * (rank - static_cast<double>(lo));
  };
  out.p50 = percentile(0.5);
  out.p99 = percentile(0.99);
  out.average =
      std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  return out;
}

}  // namespace opea::monitoring
