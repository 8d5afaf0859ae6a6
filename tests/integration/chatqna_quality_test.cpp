// ChatQnA's answer quality on the test half of the held-out question set
// (tests/data/chatqna_eval.json), asked over HTTP to a real node serving the
// bundled corpus with the bundled configuration: the figures are printed with
// every run, and the test fails below the targets. Quality, unlike timing, is
// deterministic here (every stage is).

#include <fstream>

#include "tests/integration/cluster_fixture.hpp"
#include "tests/support/chatqna_config.hpp"
#include "tests/support/chatqna_eval.hpp"

using namespace opea::itest;

TEST_CASE("ChatQnA on the held-out questions: right sources, abstention off-corpus only",
          "[integration][chatqna][quality]") {
  opea::test::chatqna_config config;
  config.merge("node: {name: cq, log_level: warn}");
  config.set("megaservices.1",
             "{name: retrieval, route: /v1/retrieval, flows: [embedding >> retriever]}");
  node_process node{config.yaml()};
  std::ifstream in{std::string{OPEA_SOURCE_DIR} + "/tests/data/chatqna_eval.json"};
  REQUIRE(in);
  auto halves = opea::test::evaluate_chatqna(json::parse(in), node.url("/v1/chatqna"),
                                             node.url("/v1/retrieval"));
  REQUIRE(halves);
  auto table = opea::test::format_eval(*halves, 20);
  std::printf("%s", table.c_str());
  INFO(table);
  REQUIRE(halves->count("test") == 1);
  const auto& t = halves->at("test");
  REQUIRE(t.in >= 30);
  REQUIRE(t.off >= 15);
  using opea::test::percent;
  // The targets: right source cited >= 90 %, false abstention <= 5 %,
  // off-corpus abstention >= 95 %.
  CHECK(percent(t.cited, t.in) >= 90.0);
  CHECK(percent(t.false_abstain, t.in) <= 5.0);
  CHECK(percent(t.abstain, t.off) >= 95.0);
}
