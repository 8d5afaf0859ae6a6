#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "monitoring/tracing/batch_span_processor.hpp"

namespace opea::monitoring {

/// A span_transport that keeps the export requests in memory instead of
/// sending them: for tests, and for a node run without a collector that
/// wants to inspect its own spans.
///
/// Thread-safe: one mutex guards the recorded requests (the processor's
/// export thread writes, the test thread reads). The transport function
/// holds a shared_ptr to the state, so it may outlive this object.
class memory_transport {
 public:
  struct request {
    std::string body;
    std::string content_type;
  };

  memory_transport();

  /// The function to hand to a batch_span_processor or a tracer.
  span_transport transport() const;

  /// Every request received so far, in order (accepted or refused).
  std::vector<request> requests() const;

  /// From now on refuse (`true`) or accept (`false`, the default) requests.
  void fail(bool refuse);

 private:
  struct state {
    mutable std::mutex mutex;
    std::vector<request> requests;
    bool refuse = false;
  };
  std::shared_ptr<state> state_;
};

}  // namespace opea::monitoring
