#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "actors/retriever/lexical_index.hpp"

using opea::actors::lexical_hit;
using opea::actors::lexical_index;

namespace {

std::vector<std::string> ids_of(const std::vector<lexical_hit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.id);
  return out;
}

void add_corpus(lexical_index& index) {
  index.add("deadlines#0", "Deadlines",
            "Every request has a deadline; a service that is too slow fails the request with 504.");
  index.add(
      "restarts#0", "Supervision and restarts",
      "A service actor that crashes is restarted by its supervisor, up to max_restarts times.");
  index.add("metrics#0", "Metrics",
            "Every node exports Prometheus metrics on /metrics, per service and per route.");
}

}  // namespace

TEST_CASE("lexical index: the chunk sharing the query's rare, stemmed terms ranks first",
          "[retriever][lexical]") {
  lexical_index index;
  add_corpus(index);
  REQUIRE(index.size() == 3);
  // "crashing" and "crashes" share the stem "crash"; "restart" matches "restarted".
  auto hits = index.search("what happens when my service keeps crashing, is it restarted?", 3);
  REQUIRE_FALSE(hits.empty());
  CHECK(hits.front().id == "restarts#0");
  for (size_t i = 1; i < hits.size(); ++i) CHECK(hits[i - 1].score >= hits[i].score);
  CHECK(ids_of(index.search("prometheus", 3)) == std::vector<std::string>{"metrics#0"});
  CHECK(index.search("prometheus", 0).empty());
}

TEST_CASE("lexical index: a title term outweighs the same term in a body", "[retriever][lexical]") {
  lexical_index index;
  index.add("body", "Other things",
            "This page mentions deadlines once among many other words here.");
  index.add("title", "Deadlines",
            "This page says what happens to slow requests among other words.");
  CHECK(ids_of(index.search("deadlines", 2)) == std::vector<std::string>{"title", "body"});
}

TEST_CASE("lexical index: remove, re-add and clear are exact", "[retriever][lexical]") {
  lexical_index index;
  add_corpus(index);
  CHECK(index.remove("metrics#0"));
  CHECK_FALSE(index.remove("metrics#0"));
  CHECK(index.size() == 2);
  CHECK(index.search("prometheus metrics", 3).empty());
  // Re-adding an id replaces its text: the old terms no longer find it.
  index.add("deadlines#0", "Deadlines", "Budgets in milliseconds.");
  CHECK(index.size() == 2);
  CHECK(index.search("slow 504", 3).empty());
  CHECK(ids_of(index.search("budgets", 3)) == std::vector<std::string>{"deadlines#0"});
  index.clear();
  CHECK(index.size() == 0);
  CHECK(index.search("budgets", 3).empty());
  index.add("again", "", "Budgets again.");
  CHECK(ids_of(index.search("budgets", 3)) == std::vector<std::string>{"again"});
}

TEST_CASE("lexical index: a question is text, never query syntax", "[retriever][lexical]") {
  lexical_index index;
  add_corpus(index);
  // Operators, an unbalanced quote, a field prefix and boolean words are
  // searched as the words they contain, or ignored; nothing throws.
  for (const char* q : {"C++ AND \"deadline", "NOT metrics OR", "title:metrics", "(((", "\"\"",
                        "restarts -supervisor", "max_restarts*"})
    CHECK_NOTHROW(index.search(q, 3));
  CHECK(ids_of(index.search("NOT metrics OR", 1)) == std::vector<std::string>{"metrics#0"});
  // Only stop words, or nothing to index: no hits.
  CHECK(index.search("what is the", 3).empty());
  CHECK(index.search("", 3).empty());
  CHECK(index.search("   ?!  ", 3).empty());
  lexical_index empty;
  CHECK(empty.search("metrics", 3).empty());
}
