#include "runtime/http/json_route.hpp"

#include "runtime/http/request_parsing.hpp"
#include "runtime/service/cancellation.hpp"

namespace opea::runtime::http {

void responder::reply(const nlohmann::json& body, int status) const {
  out_->reply(status, "application/json", body.dump(), {{"X-Request-Id", request_id_}});
}

void responder::fail(const caf::error& err) const {
  reply_error(*out_, err, request_id_);
}

void responder::answer(const caf::expected<nlohmann::json>& res) const {
  if (res)
    reply(*res);
  else
    fail(res.error());
}

void responder::cancel_on_close(request_context& ctx) const {
  auto cancel = std::make_shared<cancellation>();
  out_->on_close([cancel] { cancel->cancel(); });
  ctx.cancel = std::move(cancel);
}

handler edge_route(edge_handler h) {
  return [h = std::move(h)](request&& req, std::shared_ptr<response_writer> out) {
    auto ctx = context_from_headers(req);
    responder r{std::move(out), ctx.request_id};
    h(std::move(req), std::move(ctx), std::move(r));
  };
}

handler json_route(json_handler h) {
  return edge_route([h = std::move(h)](request&& req, request_context ctx, responder out) {
    auto body = parse_json_object(req.body);
    if (!body) {
      out.fail(body.error());
      return;
    }
    h(std::move(*body), std::move(ctx), std::move(out));
  });
}

handler flow_route(flow_runner run) {
  return json_route(
      [run = std::move(run)](nlohmann::json input, request_context ctx, responder out) {
        out.cancel_on_close(ctx);
        run(std::move(input), std::move(ctx), [out](caf::expected<flow_result> res) {
          if (res)
            out.writer()->reply(200, "application/json", res->output->dump(),
                                {{"X-Request-Id", out.request_id()}});
          else
            out.fail(res.error());
        });
      });
}

}  // namespace opea::runtime::http
