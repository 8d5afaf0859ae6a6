#include "runtime/http/remote_service.hpp"

#include <stdexcept>

#include <caf/all.hpp>

#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "runtime/http/post_json.hpp"
#include "runtime/instrumented_actor.hpp"
#include "runtime/service/reply_later.hpp"
#include "runtime/service/url.hpp"

namespace opea::runtime::http {

service_actor::behavior_type http_service_actor(service_actor::pointer self, micro_service svc,
                                                std::shared_ptr<client> client) {
  auto url = svc.endpoint_url();
  auto name = svc.name;
  auto timeout = svc.timeout;
  return {
      [=](invoke_atom, const json_ptr& input,
          const request_context_ptr& ctx) -> caf::result<json_ptr> {
        json_post req;
        req.url = url;
        req.subject = name;
        req.body = input->dump();
        req.headers = {{"X-Request-Id", ctx->request_id}};
        if (!ctx->traceparent.empty()) req.headers.emplace_back("traceparent", ctx->traceparent);
        if (!ctx->tracestate.empty()) req.headers.emplace_back("tracestate", ctx->tracestate);
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ctx->remaining());
        if (ctx->deadline != clock_type::time_point::max() && left < timeout)
          req.timeout = std::max(left, std::chrono::milliseconds{1});
        else
          req.timeout = timeout;
        // The answer goes from the client's I/O thread straight to the caller:
        // no second hop through this actor.
        reply_later reply{self};
        auto exchange = post_json(*client, std::move(req), [reply](caf::expected<json> res) {
          reply.deliver(
              res ? caf::make_message(json_ptr{std::make_shared<const json>(std::move(*res))})
                  : caf::make_message(std::move(res.error())));
        });
        // The request was cancelled (its client left, a sibling branch
        // failed): close the upstream connection, so the service stops too.
        // The handle is weak: a finished exchange is not kept alive by it.
        if (ctx->cancel) ctx->cancel->on_cancel([exchange] { exchange->abort(); });
        return caf::delegated<json_ptr>{};
      },
  };
}

micro_service http_service(micro_service svc, std::shared_ptr<client> c) {
  if (!c) c = std::make_shared<client>();
  service_adapter a;
  a.kind = "http";
  // The adapter's copy of the description: what it calls never changes.
  a.start = [spec = svc, c](caf::local_actor& sup,
                            const monitoring::actor_instruments_ptr& instruments) {
    return caf::actor_cast<caf::actor>(
        runtime::spawn_instrumented(sup, instruments, http_service_actor, spec, c));
  };
  svc.adapter = std::move(a);
  return svc;
}

micro_service remote_service(std::string name, const std::string& url, service_type type,
                             std::shared_ptr<client> c) {
  auto parsed = runtime::url::parse(url);
  if (!parsed)
    throw std::invalid_argument("service '" + name + "': URL \"" + url + "\" " +
                                detail_of(parsed.error()));
  micro_service s;
  s.name = std::move(name);
  s.type = type;
  s.host = std::move(parsed->host);
  s.port = parsed->port;
  s.endpoint = std::move(parsed->target);
  return http_service(std::move(s), std::move(c));
}

}  // namespace opea::runtime::http
