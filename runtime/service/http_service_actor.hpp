#pragma once

#include <memory>
#include <string>

#include <caf/event_based_actor.hpp>

#include "runtime/service/messages.hpp"

namespace opea::runtime::http {
class client;
}

namespace opea::runtime {

/// An adapter to an external HTTP microservice (an OPEA Python service, TEI,
/// TGI, vLLM): each invoke becomes `POST <url>` with the input as JSON body, on
/// the shared pooled keep-alive `client`, without blocking the actor. The
/// request id and trace context travel as `X-Request-Id` and `traceparent`.
/// Non-2xx answers, bodies that are not JSON, refused connections and timeouts
/// are errors naming the service and the cause, never data passed downstream.
/// The call timeout is min(svc.timeout, time left before the deadline). A
/// cancelled request (`ctx->cancel`) aborts the upstream exchange: its
/// connection is closed, so the service sees the client leave.
service_actor::behavior_type http_service_actor(service_actor::pointer self, micro_service svc,
                                                std::shared_ptr<http::client> client);

}  // namespace opea::runtime
