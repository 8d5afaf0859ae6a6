#include "runtime/http/remote_service.hpp"

#include <stdexcept>

#include <caf/all.hpp>

#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"

namespace opea::runtime::http {

namespace {

std::string excerpt(const std::string& body, size_t max = 200) {
  if (body.size() <= max) return body;
  return body.substr(0, max) + "...";
}

/// Turns the client's result into the service's answer: the parsed JSON, or
/// an error naming the service and the cause.
caf::message to_answer(const std::string& name, const std::string& url,
                       caf::expected<client_response>& res) {
  if (!res) {
    // The client names the URL; restate it with the service name.
    const auto& err = res.error();
    auto code = code_of(err) != static_cast<errc>(0) ? code_of(err) : errc::http_connect;
    auto why = detail_of(err);
    if (why.empty()) why = describe(err);
    return caf::make_message(make_error(code, name, "POST " + url + ": " + why));
  }
  const auto& resp = *res;
  if (resp.status < 200 || resp.status > 299)
    return caf::make_message(make_error(
        errc::http_status, name,
        "HTTP " + std::to_string(resp.status) + " from " + url + ": " + excerpt(resp.body)));
  auto parsed = json::parse(resp.body, nullptr, false);
  if (parsed.is_discarded())
    return caf::make_message(
        make_error(errc::bad_response, name,
                   "response of " + url + " is not valid JSON: " + excerpt(resp.body)));
  return caf::make_message(json_ptr{std::make_shared<const json>(std::move(parsed))});
}

}  // namespace

service_actor::behavior_type http_service_actor(service_actor::pointer self, micro_service svc,
                                                std::shared_ptr<client> client) {
  auto url = svc.endpoint_url();
  auto name = svc.name;
  auto timeout = svc.timeout;
  return {
      [=](invoke_atom, const json_ptr& input,
          const request_context_ptr& ctx) -> caf::result<json_ptr> {
        client_request req;
        req.method = "POST";
        req.url = url;
        req.body = input->dump();
        req.headers = {{"Content-Type", "application/json"},
                       {"Accept", "application/json"},
                       {"X-Request-Id", ctx->request_id}};
        if (!ctx->traceparent.empty()) req.headers.emplace_back("traceparent", ctx->traceparent);
        if (!ctx->tracestate.empty()) req.headers.emplace_back("tracestate", ctx->tracestate);
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ctx->remaining());
        if (ctx->deadline != clock_type::time_point::max() && left < timeout)
          req.timeout = std::max(left, std::chrono::milliseconds{1});
        else
          req.timeout = timeout;
        // The answer goes from the client's I/O thread straight to the caller,
        // as the response to its request: no second hop through this actor.
        // Enqueueing without an execution unit is what anon_send does, so it is
        // safe from a foreign thread. The call is answered even if this actor
        // dies meanwhile.
        auto requester = self->current_sender();
        auto mid = self->take_current_message_id();
        auto exchange = client->async_request(
            std::move(req), [requester, mid, name, url](caf::expected<client_response> res) {
              if (requester)
                requester->enqueue(nullptr, mid.response_id(), to_answer(name, url, res), nullptr);
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
  a.start = [spec = svc, c](caf::local_actor& sup) {
    return caf::actor_cast<caf::actor>(sup.spawn(http_service_actor, spec, c));
  };
  svc.adapter = std::move(a);
  return svc;
}

micro_service remote_service(std::string name, const std::string& url, service_type type,
                             std::shared_ptr<client> c) {
  static const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    throw std::invalid_argument("service '" + name + "': URL \"" + url +
                                "\" is not an http:// URL");
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  micro_service s;
  s.name = std::move(name);
  s.type = type;
  s.endpoint = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon == std::string::npos) {
    s.host = authority;
    s.port = 80;
  } else {
    s.host = authority.substr(0, colon);
    auto port_text = authority.substr(colon + 1);
    size_t used = 0;
    unsigned long port = 0;
    try {
      port = std::stoul(port_text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != port_text.size() || port == 0 || port > 65535)
      throw std::invalid_argument("service '" + s.name + "': URL \"" + url +
                                  "\" has an invalid port");
    s.port = static_cast<uint16_t>(port);
  }
  if (s.host.empty())
    throw std::invalid_argument("service '" + s.name + "': URL \"" + url + "\" has no host");
  return http_service(std::move(s), std::move(c));
}

}  // namespace opea::runtime::http
