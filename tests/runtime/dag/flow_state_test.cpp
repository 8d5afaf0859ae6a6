#include <catch2/catch.hpp>

#include "runtime/dag/flow_state.hpp"
#include "runtime/errors.hpp"

using namespace opea::runtime;

namespace {

micro_service svc(const std::string& name) {
  return micro_service::local(name, [](const json& in, const request_context&) { return in; });
}

json_ptr doc(json j) {
  return std::make_shared<const json>(std::move(j));
}

std::shared_ptr<const dag> graph(const std::vector<std::string>& nodes,
                                 const std::vector<std::pair<std::string, std::string>>& edges) {
  service_orchestrator o;
  for (auto& n : nodes) o.add(svc(n));
  for (auto& e : edges) o.flow_to(e.first, e.second);
  return o.compile();
}

std::vector<size_t> ok(caf::expected<std::vector<size_t>> x) {
  REQUIRE(x);
  return *x;
}

}  // namespace

TEST_CASE("a linear flow dispatches one node after the other", "[flow]") {
  flow_state f{graph({"s1", "s2"}, {{"s1", "s2"}})};
  REQUIRE(f.start() == std::vector<size_t>{0});
  auto in = doc({{"text", "hello, "}});
  REQUIRE(*f.input_of(0, in).value() == *in);
  REQUIRE(ok(f.complete(0, doc({{"text", "hello, opea "}}))) == std::vector<size_t>{1});
  REQUIRE(f.input_of(1, in).value()->at("text") == "hello, opea ");
  REQUIRE_FALSE(f.finished());
  REQUIRE(ok(f.complete(1, doc({{"text", "hello, opea project!"}}))).empty());
  REQUIRE(f.finished());
  REQUIRE(*f.final_output() == json{{"text", "hello, opea project!"}});
}

TEST_CASE("fan-out dispatches all siblings at once; fan-in waits for all", "[flow]") {
  // (s1, s5) >> s2, s2 >> (s3, s4)
  flow_state f{graph({"s1", "s5", "s2", "s3", "s4"},
                     {{"s1", "s2"}, {"s5", "s2"}, {"s2", "s3"}, {"s2", "s4"}})};
  REQUIRE(f.start() == std::vector<size_t>{0, 1});
  // s5 finishes first: s2 still waits for s1.
  REQUIRE(ok(f.complete(1, doc({{"a", 5}, {"shared", "s5"}}))).empty());
  REQUIRE(ok(f.complete(0, doc({{"b", 1}, {"shared", "s1"}}))) == std::vector<size_t>{2});
  // Merged in add order (s1 then s5): the later predecessor's keys win.
  REQUIRE(*f.input_of(2, doc({})).value() == json{{"a", 5}, {"b", 1}, {"shared", "s5"}});
  REQUIRE(ok(f.complete(2, doc({{"x", 1}}))) == std::vector<size_t>{3, 4});
  REQUIRE(ok(f.complete(4, doc({{"y", 4}}))).empty());
  REQUIRE_FALSE(f.finished());
  REQUIRE(ok(f.complete(3, doc({{"y", 3}}))).empty());
  REQUIRE(f.finished());
  REQUIRE(*f.final_output() == json{{"s3", {{"y", 3}}}, {"s4", {{"y", 4}}}});
  REQUIRE(f.leaves_reached() == std::vector<size_t>{3, 4});
}

TEST_CASE("downstream_black_list prunes edges for one request (OPEA runtime graph test)",
          "[flow]") {
  auto g = graph({"s1", "s2", "s3"}, {{"s1", "s2"}, {"s1", "s3"}});
  SECTION("empty list: both branches run") {
    flow_state f{g};
    f.start();
    REQUIRE(ok(f.complete(0, doc({{"text", "Hi!OPEA Project!"},
                                  {"downstream_black_list", json::array()}}))) ==
            std::vector<size_t>{1, 2});
  }
  SECTION("'.*' prunes everything: s1 is the leaf") {
    flow_state f{g};
    f.start();
    REQUIRE(ok(f.complete(0, doc({{"text", "Bye!"}, {"downstream_black_list", {".*"}}}))).empty());
    REQUIRE(f.finished());
    REQUIRE(f.state(1) == flow_state::node_state::skipped);
    REQUIRE(f.final_output()->at("text") == "Bye!");
  }
  SECTION("'s2' prunes one branch") {
    flow_state f{g};
    f.start();
    REQUIRE(ok(f.complete(0, doc({{"text", "x"}, {"downstream_black_list", {"s2"}}}))) ==
            std::vector<size_t>{2});
    REQUIRE(ok(f.complete(2, doc({{"text", "x add s3!"}}))).empty());
    REQUIRE(f.leaves_reached() == std::vector<size_t>{2});
  }
  SECTION("the next request on the same graph is unaffected") {
    flow_state f1{g};
    f1.start();
    (void)f1.complete(0, doc({{"downstream_black_list", {".*"}}}));
    flow_state f2{g};
    f2.start();
    REQUIRE(ok(f2.complete(0, doc({{"text", "again"}}))) == std::vector<size_t>{1, 2});
  }
  SECTION("an invalid regex is an error naming the node and pattern") {
    flow_state f{g};
    f.start();
    auto r = f.complete(0, doc({{"downstream_black_list", {"(["}}}));
    REQUIRE_FALSE(r);
    REQUIRE(code_of(r.error()) == errc::bad_response);
    REQUIRE(subject_of(r.error()) == "s1");
    REQUIRE_THAT(describe(r.error()),
                 Catch::StartsWith("service 's1': downstream_black_list pattern \"([\" is not a "
                                   "valid regex"));
  }
}

TEST_CASE("a join fed by one live edge runs with that input; skips propagate", "[flow]") {
  // a >> b, a >> c, b >> d, c >> d, d >> e; a prunes b.
  flow_state f{graph({"a", "b", "c", "d", "e"},
                     {{"a", "b"}, {"a", "c"}, {"b", "d"}, {"c", "d"}, {"d", "e"}})};
  f.start();
  REQUIRE(ok(f.complete(0, doc({{"downstream_black_list", {"^b$"}}}))) == std::vector<size_t>{2});
  REQUIRE(f.state(1) == flow_state::node_state::skipped);
  REQUIRE(ok(f.complete(2, doc({{"from", "c"}}))) == std::vector<size_t>{3});
  REQUIRE(*f.input_of(3, doc({})).value() == json{{"from", "c"}});
  SECTION("pruning every input of a node skips it and its descendants") {
    REQUIRE(ok(f.complete(3, doc({{"downstream_black_list", {"e"}}}))).empty());
    REQUIRE(f.finished());
    REQUIRE(f.state(4) == flow_state::node_state::skipped);
    REQUIRE(f.leaves_reached() == std::vector<size_t>{3});
  }
}

TEST_CASE("merging a non-object output at a join is an error", "[flow]") {
  flow_state f{graph({"a", "b", "c"}, {{"a", "c"}, {"b", "c"}})};
  f.start();
  (void)f.complete(0, doc(json::array({1, 2})));
  REQUIRE(ok(f.complete(1, doc({{"k", 1}}))) == std::vector<size_t>{2});
  auto in = f.input_of(2, doc({}));
  REQUIRE_FALSE(in);
  REQUIRE(describe(in.error()) ==
          "service 'a': output is not a JSON object and cannot be merged into the input of 'c'");
}

TEST_CASE("a hook prunes edges by node index, for one request", "[flow]") {
  auto g = graph({"s1", "s2", "s3"}, {{"s1", "s2"}, {"s1", "s3"}});
  flow_state f{g};
  f.start();
  // 0 (itself) and 7 (no such node) are not successors of s1: ignored.
  REQUIRE(ok(f.complete(0, doc({{"text", "x"}}), {2, 0, 7})) == std::vector<size_t>{1});
  REQUIRE(f.state(2) == flow_state::node_state::skipped);
  REQUIRE(ok(f.complete(1, doc({{"text", "y"}}))).empty());
  REQUIRE(f.leaves_reached() == std::vector<size_t>{1});
  flow_state next{g};
  next.start();
  REQUIRE(ok(next.complete(0, doc({{"text", "x"}}))) == std::vector<size_t>{1, 2});
}

TEST_CASE("a cached black list pattern prunes alike request after request", "[flow]") {
  auto g = graph({"s1", "s2", "s3"}, {{"s1", "s2"}, {"s1", "s3"}});
  for (int round = 0; round < 3; ++round) {
    flow_state f{g};
    f.start();
    REQUIRE(ok(f.complete(0, doc({{"downstream_black_list", {"^s3$"}}}))) ==
            std::vector<size_t>{1});
  }
  flow_state bad{g};
  bad.start();
  auto res = bad.complete(0, doc({{"downstream_black_list", {"s("}}}));
  REQUIRE_FALSE(res);
  REQUIRE(code_of(res.error()) == errc::bad_response);
}

TEST_CASE("a merge patch sets and deletes keys on a copy", "[flow]") {
  auto d = doc({{"a", 1}, {"b", 2}});
  auto patched = apply_patch(d, json{{"b", nullptr}, {"c", 3}});
  REQUIRE(*patched == json{{"a", 1}, {"c", 3}});
  REQUIRE(*d == json{{"a", 1}, {"b", 2}});  // the shared document is unchanged
  REQUIRE(*apply_patch(doc("text"), json{{"x", 1}, {"y", nullptr}}) == json{{"x", 1}});
  REQUIRE(*apply_patch(d, json::array({1})) == json::array({1}));
  align_result r;
  r.set("k", "v").erase("gone");
  REQUIRE(*r.patch == json{{"k", "v"}, {"gone", nullptr}});
}
