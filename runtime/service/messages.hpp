#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/expected.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "runtime/service/micro_service.hpp"
#include "runtime/service/request_context.hpp"

namespace opea::runtime {

/// (invoke_atom, json_ptr input, request_context_ptr) -> json_ptr: call a service actor.
using invoke_atom = caf::atom_constant<caf::atom("invoke")>;
/// The interface of a service actor, and the call part of a service proxy's:
/// every hop of a call (flow executor -> proxy -> service actor) is a request
/// the compiler checks against it. The built-in service actors (an
/// in-process handler, an HTTP adapter) are typed so; a user's own actor body
/// (micro_service::actor) is dynamically typed and is cast to this interface
/// once, where its supervisor announces it to the proxy.
using service_actor =
    caf::typed_actor<caf::replies_to<invoke_atom, json_ptr, request_context_ptr>::with<json_ptr>>;

/// (run_atom, flow_job_ptr): start one request on a megaservice (no reply; the
/// job's callback is invoked exactly once).
using run_atom = caf::atom_constant<caf::atom("run")>;

/// What a finished flow returns.
struct flow_result {
  /// The response contract: the only leaf's output, or an object keyed by
  /// service name when several leaves were reached.
  json_ptr output;
  /// Names of the leaves reached, in add order.
  std::vector<std::string> leaves;
  /// Output of every executed service, in add order (OPEA's result_dict).
  std::vector<std::pair<std::string, json_ptr>> results;
};

/// One request handed to a megaservice. `done` is called exactly once, from a
/// CAF scheduler thread: it must not block (post to your own executor).
struct flow_job {
  flow_job() = default;
  flow_job(const flow_job&) = delete;
  flow_job& operator=(const flow_job&) = delete;
  /// A job dropped before it completed (e.g. sent to a megaservice that had
  /// stopped) completes with errc::service_unavailable naming `megaservice`:
  /// accepted work is answered, never lost silently.
  ~flow_job();

  /// Calls `done` with `result`, the first time only; an exception thrown by
  /// `done` is logged and swallowed (it must not take down the caller).
  void complete(caf::expected<flow_result> result);

  json_ptr input;
  request_context_ptr ctx;
  std::function<void(caf::expected<flow_result>)> done;
  /// The megaservice's name, for the error of a dropped job.
  std::string megaservice;
};

using flow_job_ptr = std::shared_ptr<flow_job>;

/// One call to one service from outside a megaservice's flows (an HTTP
/// route, dataprep): `done` is called exactly once, with the service's output
/// or its error, on a CAF thread, and must not block. Made by
/// `megaservice::caller`, so the call takes the service's one call path.
using service_call =
    std::function<void(json input, std::function<void(caf::expected<json_ptr>)> done)>;

}  // namespace opea::runtime

// Local-only message types: shared immutable data, never serialized. Messages
// that cross nodes use the protobuf envelope instead.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(opea::runtime::json_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(opea::runtime::request_context_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(opea::runtime::flow_job_ptr)
