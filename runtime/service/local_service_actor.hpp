#pragma once

#include <string>

#include <caf/event_based_actor.hpp>

#include "runtime/service/messages.hpp"

namespace opea::runtime {

/// An in-process microservice: an actor around a `service_handler`.
/// Protocol: `service_actor`.
/// An error returned by the handler goes back to the caller as is when it is a
/// runtime error, else as errc::service_failed naming the service. A handler
/// that throws answers errc::service_crashed to the request that hit it, then
/// the actor quits with that error so that its supervisor restarts it.
service_actor::behavior_type local_service_actor(service_actor::pointer self, std::string name,
                                                 service_handler handler);

/// Runs a user-written service actor (`micro_service::body`) under the same
/// crash contract as `local_service_actor`: an exception escaping any handler
/// answers errc::service_crashed (naming the service and the exception) to the
/// request being handled, then the actor quits so its supervisor restarts it.
/// The body is dynamically typed (it may add messages of its own, e.g. the
/// LLM actor's streaming steps); it must answer `service_actor`'s invoke.
caf::behavior guarded_service_actor(caf::event_based_actor* self, std::string name,
                                    actor_body body);

}  // namespace opea::runtime
