#pragma once

#include <memory>
#include <string>

#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>

#include "runtime/cluster/remote_protocol.hpp"
#include "runtime/megaservice/megaservice.hpp"

namespace opea::runtime {

/// The actor through which other nodes call a service this node hosts
/// (runtime/cluster/remote_protocol.hpp). `host` is a one-service
/// megaservice: it supervises and restarts the service actor and counts its
/// metrics. Each call is decoded from its envelope (deadline, request id,
/// trace and caller restored), run on `host`, and answered to its `reply_to`
/// with the output or an error; streamed pieces (when the caller asked for a
/// stream) are sent as they are produced, and (rcancel_atom) stops them.
/// A malformed envelope is answered with errc::bad_request naming the field;
/// nothing a peer sends can crash the endpoint.
///
/// Calls go through the host's proxy of the service (no flow per call), so
/// the host's own call path applies to remote callers: its deadline,
/// bulkhead, circuit breaker, and the wait for a restarting service. With `metrics`, each call counts in
/// the host's megaservice series (opea_megaservice_requests_total,
/// _request_duration_seconds, _request_pending with megaservice = the
/// host's name), as a flow would.
endpoint_actor::behavior_type service_endpoint(endpoint_actor::pointer self, std::string service,
                                               std::shared_ptr<const megaservice> host,
                                               monitoring::metrics_registry* metrics = nullptr);

}  // namespace opea::runtime
