#include "runtime/service/http_service_actor.hpp"

#include <unordered_map>

#include <caf/all.hpp>

#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"

namespace opea::runtime {

namespace {

using response_ptr = std::shared_ptr<caf::expected<http::client_response>>;

std::string excerpt(const std::string& body, size_t max = 200) {
  if (body.size() <= max) return body;
  return body.substr(0, max) + "...";
}

}  // namespace

}  // namespace opea::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(opea::runtime::response_ptr)

namespace opea::runtime {

caf::behavior http_service_actor(caf::event_based_actor* self, micro_service svc,
                                 std::shared_ptr<http::client> client) {
  struct state {
    uint64_t next_id = 0;
    std::unordered_map<uint64_t, caf::response_promise> pending;
  };
  auto st = std::make_shared<state>();
  auto url = svc.endpoint_url();
  auto name = svc.name;
  auto timeout = svc.timeout;
  // Calls still running when the actor dies are answered by nobody: their
  // callbacks find the actor gone (weak handle) and drop the result.
  return {
      [=](invoke_atom, const json_ptr& input,
          const request_context_ptr& ctx) -> caf::result<json_ptr> {
        auto id = ++st->next_id;
        auto rp = self->make_response_promise();
        st->pending.emplace(id, rp);
        http::client_request req;
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
        caf::weak_actor_ptr weak{self->ctrl()};
        client->async_request(std::move(req), [weak, id](caf::expected<http::client_response> res) {
          if (auto strong = weak.lock())
            caf::anon_send(caf::actor_cast<caf::actor>(strong), http_done_atom::value, id,
                           std::make_shared<caf::expected<http::client_response>>(std::move(res)));
        });
        return rp;
      },
      [=](http_done_atom, uint64_t id, const response_ptr& res) {
        auto i = st->pending.find(id);
        if (i == st->pending.end()) return;
        auto rp = std::move(i->second);
        st->pending.erase(i);
        if (!*res) {
          // The client names the URL; restate it with the service name.
          const auto& err = res->error();
          auto code = code_of(err) != static_cast<errc>(0) ? code_of(err) : errc::http_connect;
          auto why = detail_of(err);
          if (why.empty()) why = describe(err);
          rp.deliver(make_error(code, name, "POST " + url + ": " + why));
          return;
        }
        const auto& resp = **res;
        if (resp.status < 200 || resp.status > 299) {
          rp.deliver(make_error(
              errc::http_status, name,
              "HTTP " + std::to_string(resp.status) + " from " + url + ": " + excerpt(resp.body)));
          return;
        }
        auto parsed = json::parse(resp.body, nullptr, false);
        if (parsed.is_discarded()) {
          rp.deliver(
              make_error(errc::bad_response, name,
                         "response of " + url + " is not valid JSON: " + excerpt(resp.body)));
          return;
        }
        rp.deliver(json_ptr{std::make_shared<const json>(std::move(parsed))});
      },
  };
}

}  // namespace opea::runtime
