// align_inputs / align_outputs hooks of an in-code orchestrator whose services
// are real HTTP microservices (OPEA's megaservice pattern), driven in-process.

#include <caf/all.hpp>

#include "monitoring/metrics_registry.hpp"
#include "runtime/http/remote_service.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "tests/integration/cluster_fixture.hpp"

using namespace opea::itest;
namespace rt = opea::runtime;

TEST_CASE("align hooks rewrite inputs and outputs of remote services", "[integration]") {
  service_process svc{{"/v1/a:echo", "/v1/b:append:!"}};
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  opea::monitoring::metrics_registry metrics{"itest"};  // outlives the system's actors
  caf::actor_system sys{cfg};
  rt::service_orchestrator o;
  o.add(rt::http::remote_service("a", svc.url("/v1/a")))
      .add(rt::http::remote_service("b", svc.url("/v1/b")));
  o.flow_to("a", "b");
  // As OPEA's ChatQnA does: reshape what goes into a service and what comes out.
  o.set_align_inputs([](const json& in, const rt::align_node& node, const rt::request_context&) {
    rt::align_result r;
    if (node.name == "b") r.set("text", in["query"]).erase("query");
    return r;
  });
  o.set_align_outputs(
      [](const json& out, const rt::align_node& node, const json&, const rt::request_context&) {
        rt::align_result r;
        if (node.name == "a") r.set("query", out["text"].get<std::string>() + "?");
        return r;
      });
  rt::megaservice mega{sys, o, {"hooks"}, metrics};
  auto res = mega.schedule({{"text", "why"}});
  REQUIRE(res);
  REQUIRE(*res->output == json{{"text", "why?!"}});
  mega.stop();
}
