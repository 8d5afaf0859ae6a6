#pragma once

#include <memory>
#include <string>

#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>

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
/// Calls go straight to the host's live service actor (no flow actor per
/// call; the host only supervises and restarts it); a call that finds no
/// live actor, or bounces off one that just died, runs as a flow of `host`
/// instead, which waits for the restart. With `metrics`, each call counts in
/// the host's megaservice series (opea_megaservice_requests_total,
/// _request_duration_seconds, _request_pending with megaservice = the
/// host's name), as a flow would.
caf::behavior service_endpoint(caf::event_based_actor* self, std::string service,
                               std::shared_ptr<const megaservice> host,
                               monitoring::metrics_registry* metrics = nullptr);

}  // namespace opea::runtime
