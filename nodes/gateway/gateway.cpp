#include "nodes/gateway/gateway.hpp"

#include <unordered_map>

#include "monitoring/log.hpp"
#include "runtime/http/error_body.hpp"

namespace opea::nodes {

using runtime::json;
namespace http = runtime::http;

gateway::gateway(http::server_config cfg, monitoring::metrics_registry& metrics,
                 std::string node_name)
    : metrics_(metrics),
      node_name_(std::move(node_name)),
      server_(std::make_unique<http::server>(std::move(cfg))) {}

gateway::~gateway() {
  stop();
}

void gateway::mount(const runtime::megaservice& m, std::vector<http::route> routes) {
  mounted entry{&m, {}};
  for (auto& r : routes) {
    entry.paths.push_back(r.path);
    add_route(std::move(r.path), std::move(r.methods), std::move(r.h));
  }
  megaservices_.push_back(std::move(entry));
}

std::vector<std::string> gateway::routes_of(const std::string& megaservice) const {
  for (const auto& m : megaservices_)
    if (m.megaservice->name() == megaservice) return m.paths;
  return {};
}

void gateway::add_route(std::string path, std::vector<std::string> methods, http::handler handler) {
  routes_.insert(path);
  server_->add_route(std::move(path), std::move(methods), std::move(handler));
}

void gateway::add_builtin_routes() {
  auto megas = megaservices_;
  auto node_name = node_name_;
  auto failed_services = [megas] {
    json failed = json::array();
    for (const auto& m : megas) {
      const auto& st = m.megaservice->status();
      for (size_t i = 0; i < st.size(); ++i)
        if (st.status(i) == runtime::service_status::failed)
          failed.push_back(m.megaservice->name() + "/" + st.name(i));
    }
    return failed;
  };
  server_->add_route(
      "/v1/health_check", {"GET"},
      [node_name, failed_services](http::request&&, std::shared_ptr<http::response_writer> out) {
        auto failed = failed_services();
        out->reply_json(200, json{{"Service Title", "opea-node " + node_name},
                                  {"Service Description", "OPEA Microservice Infrastructure"},
                                  {"version", monitoring::metrics_registry::version()},
                                  {"status", failed.empty() ? "healthy" : "degraded"}});
      });
  server_->add_route(
      "/health", {"GET"},
      [failed_services](http::request&&, std::shared_ptr<http::response_writer> out) {
        auto failed = failed_services();
        if (failed.empty())
          out->reply_json(200, json{{"status", "ok"}});
        else
          out->reply_json(503, json{{"status", "degraded"}, {"failed", failed}});
      });
  server_->add_route(
      "/v1/list_service", {"GET"},
      [megas](http::request&&, std::shared_ptr<http::response_writer> out) {
        json body = json::object();
        for (const auto& m : megas)
          body[m.megaservice->name()] = {{"routes", m.paths},
                                         {"services", m.megaservice->describe_services()}};
        out->reply_json(200, body);
      });
  auto& metrics = metrics_;
  server_->add_route(
      "/metrics", {"GET"}, [&metrics](http::request&&, std::shared_ptr<http::response_writer> out) {
        out->reply(200, "text/plain; version=0.0.4; charset=utf-8", metrics.serialize());
      });
  // OPEA's statistics: per megaservice and per service, latency and (for
  // streamed answers) first-token latency, average / p50 / p99 in seconds,
  // null until observed.
  server_->add_route(
      "/v1/statistics", {"GET"},
      [&metrics](http::request&&, std::shared_ptr<http::response_writer> out) {
        auto put = [](json& into, const std::string& suffix, const monitoring::latency_summary& s) {
          auto value = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
          into["p50_" + suffix] = value(s.p50);
          into["p99_" + suffix] = value(s.p99);
          into["average_" + suffix] = value(s.average);
        };
        json body = json::object();
        for (const auto& [name, stats] : metrics.all_statistics()) {
          json entry = json::object();
          put(entry, "latency", stats->latency());
          put(entry, "latency_first_token", stats->first_token());
          body[name] = std::move(entry);
        }
        out->reply_json(200, body);
      });
  for (auto p : {"/v1/health_check", "/health", "/v1/list_service", "/metrics", "/v1/statistics"})
    routes_.insert(p);
  // Resolve the series of every served route and usual status once, so that
  // counting a response takes no lock; other codes go through the family.
  struct route_series {
    prometheus::Histogram* duration = nullptr;
    std::unordered_map<int, prometheus::Counter*> codes;
  };
  auto series = std::make_shared<std::unordered_map<std::string, route_series>>();
  auto routes = routes_;
  routes.insert("other");
  for (const auto& route : routes) {
    auto& rs = (*series)[route];
    rs.duration = &metrics.http_duration.Add({{"route", route}},
                                             monitoring::metrics_registry::latency_buckets());
    for (int code : {200, 400, 404, 405, 413, 499, 500, 502, 503, 504})
      rs.codes[code] =
          &metrics.http_requests.Add({{"route", route}, {"code", std::to_string(code)}});
  }
  std::shared_ptr<const std::unordered_map<std::string, route_series>> frozen = std::move(series);
  server_->set_observer(
      [&metrics, frozen, access = access_log_](const http::exchange& ex) {
        auto it = frozen->find(ex.req.path);
        if (it == frozen->end()) it = frozen->find("other");
        it->second.duration->Observe(ex.seconds);
        auto c = it->second.codes.find(ex.status);
        if (c != it->second.codes.end())
          c->second->Increment();
        else
          metrics.http_requests.Add({{"route", it->first}, {"code", std::to_string(ex.status)}})
              .Increment();
        // Only the method, the target with its secrets redacted (a token in
        // the query), sizes and ids: never a header or the body.
        auto& logger = monitoring::log(monitoring::log_component::gateway);
        if (access && logger.should_log(spdlog::level::info)) {
          // traceparent: version-traceid-parentid-flags (validated at the edge
          // before use; here only its shape matters).
          logger.info("access {} {} {} {:.3f} ms in={} out={} caller={} request_id={} trace_id={}",
                      ex.req.method, monitoring::redact_target(ex.req.target), ex.status,
                      ex.seconds * 1e3, ex.bytes_in, ex.bytes_out,
                      ex.req.remote_address.empty() ? "-" : ex.req.remote_address,
                      ex.request_id.empty() ? std::string_view{"-"} : ex.request_id,
                      monitoring::trace_id_of(ex.traceparent));
        }
      },
      access_log_);
}

caf::expected<uint16_t> gateway::start() {
  add_builtin_routes();
  return server_->start();
}

void gateway::stop() {
  if (server_) server_->stop();
}

uint16_t gateway::port() const {
  return server_->port();
}

}  // namespace opea::nodes
