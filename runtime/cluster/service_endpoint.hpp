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
caf::behavior service_endpoint(caf::event_based_actor* self, std::string service,
                               std::shared_ptr<const megaservice> host);

}  // namespace opea::runtime
