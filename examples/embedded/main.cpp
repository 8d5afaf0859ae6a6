// Embedding opea-cpp in a C++ program, the way OPEA's Python README declares
// a megaservice:
//
//   s1 = MicroService(...); s2 = MicroService(...)
//   orchestrator.add(s1).add(s2); orchestrator.flow_to(s1, s2)
//   megaservice.add_route("/v1/example", handler)   (here: gateway.mount with a route)
//
// The same graph is then run twice: by a direct call (no HTTP at all) and
// through the HTTP gateway, on an ephemeral port of loopback.

#include <future>
#include <iostream>

#include <caf/all.hpp>

#include "monitoring/metrics_registry.hpp"
#include "nodes/gateway/gateway.hpp"
#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "runtime/http/json_route.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "runtime/scheduler.hpp"

using namespace opea;
using runtime::json;

int main() {
  // Declared before the actor system, so it outlives the actors that count
  // into it (destruction runs in reverse order).
  monitoring::metrics_registry metrics{"embedded"};
  caf::actor_system_config cfg;
  // The node's scheduler: work sharing whose idle workers poll briefly
  // before they sleep (runtime/scheduler.hpp), two workers.
  runtime::configure_scheduler(cfg, runtime::scheduler_policy::spinning, 2);
  caf::actor_system sys{cfg};

  // Two in-process microservices: C++ handlers turned into actors.
  auto greet = runtime::micro_service::local(
      "greet", [](const json& in, const runtime::request_context&) -> caf::expected<json> {
        if (!in.contains("name") || !in["name"].is_string())
          return runtime::make_error(runtime::errc::bad_request, "name",
                                     "a string 'name' is required");
        return json{{"text", "Hello, " + in["name"].get<std::string>() + "!"}};
      });
  auto shout = runtime::micro_service::local(
      "shout", [](const json& in, const runtime::request_context&) -> caf::expected<json> {
        auto text = in.at("text").get<std::string>();
        for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return json{{"text", text}};
      });

  runtime::service_orchestrator orchestrator;
  orchestrator.add(greet).add(shout);
  orchestrator.flow_to(greet, shout);

  runtime::megaservice mega{sys, orchestrator, {"example"}, metrics};

  // 1. A direct call, without HTTP.
  auto direct = mega.schedule({{"name", "world"}});
  if (!direct) {
    std::cerr << "direct call failed: " << runtime::describe(direct.error()) << "\n";
    return 1;
  }
  std::cout << "direct: " << direct->output->dump() << std::endl;

  // 2. The same graph through the HTTP gateway.
  runtime::http::server_config http;
  http.host = "127.0.0.1";
  http.port = 0;
  nodes::gateway gw{http, metrics, "embedded"};
  // OPEA's generic JSON contract: the body is the input, the last service's
  // output the answer.
  gw.mount(mega, {{"/v1/example", {"POST"}, runtime::http::flow_route(mega.runner())}});
  auto port = gw.start();
  if (!port) {
    std::cerr << "cannot start the gateway: " << runtime::describe(port.error()) << "\n";
    return 1;
  }
  runtime::http::client client;
  runtime::http::client_request req;
  req.url = "http://127.0.0.1:" + std::to_string(*port) + "/v1/example";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = R"({"name":"world"})";
  std::promise<caf::expected<runtime::http::client_response>> done;
  client.async_request(
      req, [&](caf::expected<runtime::http::client_response> r) { done.set_value(std::move(r)); });
  auto resp = done.get_future().get();
  if (!resp) {
    std::cerr << "HTTP call failed: " << runtime::describe(resp.error()) << "\n";
    return 1;
  }
  std::cout << "http: " << resp->status << " " << resp->body << std::endl;
  gw.stop();
  mega.stop();
  return resp->status == 200 ? 0 : 1;
}
