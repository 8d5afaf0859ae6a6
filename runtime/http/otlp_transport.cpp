#include "runtime/http/otlp_transport.hpp"

#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/http/client.hpp"

namespace opea::runtime::http {

monitoring::span_transport otlp_http_transport(const monitoring::tracing_settings& settings) {
  auto c = std::make_shared<client>();
  return
      [c, url = settings.endpoint, headers = settings.headers, timeout = settings.exporter_timeout](
          const std::string& body, const std::string& content_type) {
        client_request req;
        req.url = url;
        req.body = body;
        req.timeout = timeout;
        req.headers = headers;
        req.headers.emplace_back("Content-Type", content_type);
        auto answered = std::make_shared<std::promise<bool>>();
        auto result = answered->get_future();
        c->async_request(std::move(req), [answered](caf::expected<client_response> res) {
          answered->set_value(res && res->status >= 200 && res->status < 300);
        });
        // The request's own timeout answers first; this wait only bounds a stuck
        // callback.
        if (result.wait_for(timeout + std::chrono::seconds{1}) != std::future_status::ready)
          return false;
        return result.get();
      };
}

}  // namespace opea::runtime::http
