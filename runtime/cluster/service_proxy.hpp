#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>

#include "runtime/service/micro_service.hpp"

namespace opea::runtime {

/// (replica_up_atom, std::string node, caf::actor endpoint): a replica of the
/// proxy's service is reachable (sent by the membership directory). A newer
/// endpoint for the same node replaces the old one.
using replica_up_atom = caf::atom_constant<caf::atom("replup")>;
/// (replica_down_atom, std::string node): the node left; its replica is gone.
using replica_down_atom = caf::atom_constant<caf::atom("repldown")>;
/// (subscribe_atom, std::string service, caf::actor proxy): sent by a proxy
/// to its directory, which answers with replica_up messages now and
/// replica_up/replica_down as members come and go.
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;

/// How a proxy picks a replica.
enum class replica_choice {
  /// The next live replica in turn.
  round_robin,
  /// The live replica with the fewest calls in flight (ties: first added).
  least_outstanding,
};

/// Settings of one service proxy.
struct service_proxy_options {
  /// The service's name (in errors, envelopes and subscriptions).
  std::string service;
  /// When true, a call whose replica's node left is retried on another live
  /// replica (until its deadline, at most `max_attempts` in all); when false
  /// it fails with errc::node_down naming the node. Default: false.
  bool idempotent = false;
  /// Default: round_robin.
  replica_choice choice = replica_choice::round_robin;
  /// Attempts per call when replicas' nodes keep leaving. Default: 3.
  size_t max_attempts = 3;
  /// The membership directory to subscribe to (null: replicas are only
  /// added by replica_up messages sent directly).
  caf::actor directory;
};

/// Counters of a proxy, readable from any thread, and optionally its
/// Prometheus series (monitoring::metrics_registry's cluster instruments;
/// null = not exported).
struct service_proxy_stats {
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> retried{0};
  std::atomic<uint64_t> lost_to_node_down{0};
  prometheus::Gauge* replicas = nullptr;
  prometheus::Counter* retries = nullptr;
  prometheus::Counter* node_down = nullptr;
};

/// A service of a megaservice whose replicas run behind cluster endpoints
/// (runtime/cluster/service_endpoint.hpp), on this node or others. Speaks the
/// service actor contract, (invoke_atom, json_ptr, request_context_ptr) ->
/// json_ptr, so flows call it like a local service. Per call it picks a live
/// replica, sends the request envelope, forwards streamed pieces to the
/// request's sink (and a client's cancel to the replica), and answers with
/// the output or the replica's error. It monitors each replica: when a node
/// goes down, calls in flight there are retried elsewhere (idempotent
/// services) or fail at once with errc::node_down — never left hanging.
/// With no live replica a call fails with errc::service_unavailable naming
/// the service.
caf::behavior service_proxy(caf::event_based_actor* self, service_proxy_options options,
                            std::shared_ptr<service_proxy_stats> stats);

/// A micro_service (actor-bodied, `type`) running `service_proxy`.
micro_service make_proxy_service(std::string name, service_type type, service_proxy_options options,
                                 std::shared_ptr<service_proxy_stats> stats = nullptr);

}  // namespace opea::runtime
