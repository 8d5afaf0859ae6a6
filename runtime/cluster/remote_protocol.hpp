#pragma once

// The messages that cross nodes when a flow calls a replica of a service on
// another cluster member. Only built-in CAF types travel (atoms, integers,
// strings, actor handles); the request itself is a serialized
// opea.v1.Envelope, so nodes of different versions interoperate and fields a
// node does not know pass through it unchanged.
//
//   caller proxy -> endpoint:  (rinvoke_atom, uint64_t call, std::string envelope, bool stream)
//   endpoint -> the sender:    (rpiece_atom, uint64_t call, std::string piece)     streamed text
//                              (rreply_atom, uint64_t call, std::string envelope)  the output
//                              (rfail_atom, uint64_t call, uint8_t errc, std::string subject,
//                               std::string detail)                               an error
//   caller proxy -> endpoint:  (rcancel_atom, uint64_t call)                       client left
//
// The endpoint answers the actor that sent the call (BASP carries the
// sender in every message's header: nothing to serialize, and a caller
// cannot direct answers to a third actor); a call without a sender is
// dropped. A call id is unique per sender. Pieces of a call arrive before
// its reply (one BASP connection per node pair keeps order).

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/expected.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <nlohmann/json.hpp>

#include "opea/v1/envelope.pb.h"
#include "runtime/service/request_context.hpp"

namespace opea::runtime {

using rinvoke_atom = caf::atom_constant<caf::atom("rinvoke")>;
using rreply_atom = caf::atom_constant<caf::atom("rreply")>;
using rfail_atom = caf::atom_constant<caf::atom("rfail")>;
using rpiece_atom = caf::atom_constant<caf::atom("rpiece")>;
using rcancel_atom = caf::atom_constant<caf::atom("rcancel")>;

/// A hosting node's endpoint of one service (runtime/cluster/service_endpoint):
/// (rinvoke_atom, uint64_t call, std::string envelope, bool stream) runs a
/// call and answers its sender, which it treats as a `remote_caller_actor`;
/// (rcancel_atom, uint64_t call) from the same sender stops it.
using endpoint_actor = caf::typed_actor<caf::reacts_to<rinvoke_atom, uint64_t, std::string, bool>,
                                        caf::reacts_to<rcancel_atom, uint64_t>>;

/// The calling side of a remote call (a service proxy): (rreply_atom, call,
/// reply envelope bytes), (rfail_atom, call, errc code, subject, detail),
/// (rpiece_atom, call, piece) for a streamed answer.
using remote_caller_actor =
    caf::typed_actor<caf::reacts_to<rreply_atom, uint64_t, std::string>,
                     caf::reacts_to<rfail_atom, uint64_t, uint8_t, std::string, std::string>,
                     caf::reacts_to<rpiece_atom, uint64_t, std::string>>;

/// Wall-clock milliseconds since the Unix epoch.
int64_t unix_now_ms();

/// The envelope of a call of `service`: request id, trace context, deadline
/// (as the remaining budget in ms, which the receiver adds to its own clock,
/// and as wall-clock ms for older nodes), caller, and `input` as JSON text
/// (exact for integers).
v1::Envelope make_call_envelope(const nlohmann::json& input, const request_context& ctx,
                                const std::string& service);

/// A call received by an endpoint: the input, the context rebuilt from the
/// envelope (no sink, no params), and the envelope itself (its payload
/// cleared) to answer with, so unknown fields come back unchanged.
struct received_call {
  nlohmann::json input;
  request_context ctx;
  v1::Envelope envelope;
};

/// Parses a call's envelope bytes. Errors are errc::bad_request naming the
/// field ("opea.v1.Envelope" when the bytes do not parse).
[[nodiscard]] caf::expected<received_call> decode_call(const std::string& bytes);

/// `request` (payload cleared) with `output` as its payload, serialized
/// (`request` is reused: the call's envelope is answered once).
std::string encode_reply(v1::Envelope&& request, const nlohmann::json& output);

/// The output carried by a reply's envelope bytes. Errors are
/// errc::bad_response naming `service`.
[[nodiscard]] caf::expected<nlohmann::json> decode_reply(const std::string& bytes,
                                                         const std::string& service);

}  // namespace opea::runtime
