#pragma once

#include <memory>
#include <string>

#include <caf/event_based_actor.hpp>

#include "runtime/http/fwd.hpp"
#include "runtime/service/messages.hpp"
#include "runtime/service/micro_service.hpp"

namespace opea::runtime::http {

/// An external HTTP service at `url` ("http://host:port/path"), OPEA's
/// `MicroService(host, port, endpoint)`: each call is `POST url` through an
/// `http_service_actor` on `client` (one of its own when null), supervised by
/// the megaservice like any service (kind "http" in /v1/list_service).
/// Throws std::invalid_argument "service 'NAME': URL \"URL\" <problem>" when the URL
/// does not parse (`runtime::url::parse` names the problem).
micro_service remote_service(std::string name, const std::string& url,
                             service_type type = service_type::undefined,
                             std::shared_ptr<client> client = nullptr);

/// Makes `svc` (its name, host, port, endpoint and timeout set) an external
/// HTTP service called through `client` (one of its own when null): sets its
/// adapter.
micro_service http_service(micro_service svc, std::shared_ptr<client> client = nullptr);

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
                                                std::shared_ptr<client> client);

}  // namespace opea::runtime::http
