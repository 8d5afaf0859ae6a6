#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "runtime/http/server.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "runtime/service/request_context.hpp"

namespace opea::runtime::http {

/// How an edge route answers one request: JSON with the request id header,
/// or an error in OpenAI's shape with its status (`reply_error`). Cheap to
/// copy into callbacks; any copy may answer, from any thread, and only the
/// first answer counts (response_writer's rule).
class responder {
 public:
  responder(std::shared_ptr<response_writer> out, std::string request_id)
      : out_(std::move(out)), request_id_(std::move(request_id)) {}

  const std::string& request_id() const { return request_id_; }

  /// The writer, for a route that streams its answer.
  const std::shared_ptr<response_writer>& writer() const { return out_; }

  /// `status` with `body` as JSON and `X-Request-Id`.
  void reply(const nlohmann::json& body, int status = 200) const;

  /// The error's status with its OpenAI-shaped body and `X-Request-Id`.
  void fail(const caf::error& err) const;

  /// `reply(*res)` or `fail(res.error())`.
  void answer(const caf::expected<nlohmann::json>& res) const;

  /// Gives `ctx` a cancellation that trips when the client leaves before the
  /// response completed, so the flow or call it starts stops with it.
  void cancel_on_close(request_context& ctx) const;

 private:
  std::shared_ptr<response_writer> out_;
  std::string request_id_;
};

/// The body of a JSON route: the request body (one JSON object), the
/// request's context and the way to answer it.
using json_handler = std::function<void(nlohmann::json body, request_context ctx, responder out)>;

/// The body of an edge route that reads the raw request (e.g. a multipart
/// upload): the request, its context and the way to answer it.
using edge_handler = std::function<void(request&& req, request_context ctx, responder out)>;

/// The one prologue of every edge route: the request context from the
/// headers (`context_from_headers`: X-Request-Id, W3C trace context) and a
/// responder; the handler runs on the I/O thread and must not block.
handler edge_route(edge_handler h);

/// `edge_route` for a JSON API: a body that is not one JSON object is
/// answered 400 with the parser's message (`parse_json_object`) before `h`.
handler json_route(json_handler h);

/// A megaservice's generic JSON contract (OPEA's default route): the request
/// body is the input of every source; the reply is the output of the only
/// leaf reached, or an object keyed by service name when several were. The
/// client leaving cancels the flow and the calls it has in flight.
handler flow_route(flow_runner run);

}  // namespace opea::runtime::http
