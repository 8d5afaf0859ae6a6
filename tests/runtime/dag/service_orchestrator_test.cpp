#include <catch2/catch.hpp>

#include "runtime/dag/service_orchestrator.hpp"

using namespace opea::runtime;

namespace {

micro_service svc(const std::string& name) {
  return micro_service::local(name, [](const json& in, const request_context&) { return in; });
}

}  // namespace

TEST_CASE("add is chainable and rejects duplicate names", "[dag]") {
  service_orchestrator o;
  o.add(svc("s1")).add(svc("s2"));
  REQUIRE(o.services().size() == 2);
  REQUIRE_THROWS_WITH(o.add(svc("s1")), "service 's1' already exists in the orchestrator");
  REQUIRE_THROWS_WITH(o.add(svc("")), "a service needs a non-empty name");
}

TEST_CASE("flow_to rejects unknown services, self loops and cycles", "[dag]") {
  service_orchestrator o;
  o.add(svc("a")).add(svc("b")).add(svc("c"));
  o.flow_to("a", "b").flow_to("b", "c");
  REQUIRE_THROWS_WITH(o.flow_to("a", "x"), "flow_to(a, x): unknown service 'x'");
  REQUIRE_THROWS_WITH(o.flow_to("y", "a"), "flow_to(y, a): unknown service 'y'");
  REQUIRE_THROWS_WITH(o.flow_to("b", "b"), "flow_to(b, b): a service cannot flow to itself");
  REQUIRE_THROWS_WITH(o.flow_to("c", "a"),
                      "flow_to(c, a): the edge would create a cycle ('a' already reaches 'c')");
  // The failed edge left the graph unchanged: a is still the only source.
  auto g = o.compile();
  REQUIRE(g->sources == std::vector<size_t>{0});
  REQUIRE(g->successors[2].empty());
}

TEST_CASE("an empty orchestrator does not validate", "[dag]") {
  service_orchestrator o;
  auto err = o.validate();
  REQUIRE(err);
  REQUIRE_THROWS_WITH(o.compile(), "invalid graph (orchestrator): the graph has no services");
}

TEST_CASE("compile keeps add order for predecessors and flow order for successors", "[dag]") {
  service_orchestrator o;
  o.add(svc("s1")).add(svc("s5")).add(svc("s2")).add(svc("s3")).add(svc("s4"));
  // OPEA's mega_flow: "(s1, s5) >> s2", "s2 >> (s3, s4)", added in a scrambled order.
  o.flow_to("s5", "s2").flow_to("s1", "s2").flow_to("s2", "s4").flow_to("s2", "s3");
  o.flow_to("s1", "s2");  // again: a no-op
  auto g = o.compile();
  REQUIRE(g->names == std::vector<std::string>{"s1", "s5", "s2", "s3", "s4"});
  REQUIRE(g->sources == std::vector<size_t>{0, 1});
  REQUIRE(g->predecessors[2] == std::vector<size_t>{0, 1});
  REQUIRE(g->successors[2] == std::vector<size_t>{4, 3});
  REQUIRE(g->index_of("s4") == 4u);
  REQUIRE_FALSE(g->index_of("nope"));
}
