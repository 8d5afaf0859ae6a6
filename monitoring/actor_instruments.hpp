#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace opea::monitoring {

class metrics_registry;

/// Who an actor is, as its series are labelled: `actor` is a stable name
/// (never an address): the service's name for a service actor, "proxy",
/// "flow_executor", "megaservice", "endpoint", "membership",
/// "supervisor:<name>". `megaservice` and `service` are set where the actor
/// belongs to one; empty ones are left out of the label set.
struct actor_labels {
  std::string actor;
  std::string megaservice;
  std::string service;
};

/// The series of one named actor, shared by all its instances: the
/// successive instances a supervisor restarts, or a pool (flow executors).
/// runtime/instrumented_actor.hpp feeds them from inside CAF's mailbox and
/// message loop.
///
/// Thread-safe: enqueues come from any thread (atomic gauge), the rest from
/// the actor's own (atomic counters, the histogram's mutex).
class actor_instruments {
 public:
  /// `instances`: how many instances run at once (a pool's size); every
  /// start past the first `instances` counts as a restart.
  actor_instruments(metrics_registry& reg, actor_labels labels, uint32_t instances = 1);

  actor_instruments(const actor_instruments&) = delete;
  actor_instruments& operator=(const actor_instruments&) = delete;

  /// An instance was constructed.
  void started();
  /// `n` messages entered (+) or left (-) a mailbox.
  void mailbox_changed(double n) { mailbox_->Increment(n); }
  /// A message was handled in `seconds`.
  void handled(double seconds) {
    messages_->Increment();
    handling_->Observe(seconds);
  }
  /// An instance exited abnormally; `reason` is a name from a small fixed
  /// set (see metrics_registry::actor_failures).
  void failed(const std::string& reason);

  const actor_labels& labels() const { return names_; }

 private:
  /// Keeps the series alive for actors that outlive the metrics_registry
  /// (an embedder that destroys it before the actor system).
  std::shared_ptr<prometheus::Registry> owner_;
  actor_labels names_;
  prometheus::Labels labels_;
  uint32_t instances_;
  std::atomic<uint64_t> starts_{0};
  prometheus::Counter* messages_;
  prometheus::Histogram* handling_;
  prometheus::Gauge* mailbox_;
  prometheus::Counter* restarts_;
  prometheus::Family<prometheus::Counter>* failures_;
};

using actor_instruments_ptr = std::shared_ptr<actor_instruments>;

/// A shared actor_instruments, or null when `reg` is null (no metrics).
actor_instruments_ptr make_actor_instruments(metrics_registry* reg, actor_labels labels,
                                             uint32_t instances = 1);

}  // namespace opea::monitoring
