#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "actors/retriever/lexical_index.hpp"
#include "runtime/errors.hpp"
#include "tests/actors/retriever/temp_dir.hpp"

using opea::actors::lexical_hit;
using opea::actors::lexical_index;

namespace {

std::vector<lexical_hit> hits_of(const caf::expected<std::vector<lexical_hit>>& hits) {
  REQUIRE(hits);
  return *hits;
}

std::vector<std::string> ids_of(const caf::expected<std::vector<lexical_hit>>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits_of(hits)) out.push_back(h.id);
  return out;
}

void add(lexical_index& index, const std::string& id, const std::string& title,
         const std::string& text, const std::string& source = "guide.md",
         const std::string& headings = "") {
  REQUIRE(index.add(id, source, title, headings, text));
}

const std::vector<std::string> none;

void add_corpus(lexical_index& index) {
  add(index, "deadlines#0", "Deadlines",
      "Every request has a deadline; a service that is too slow fails the request with 504.");
  add(index, "restarts#0", "Supervision and restarts",
      "A service actor that crashes is restarted by its supervisor, up to max_restarts times.");
  add(index, "metrics#0", "Metrics",
      "Every node exports Prometheus metrics on /metrics, per service and per route.");
}

}  // namespace

TEST_CASE("lexical index: the chunk sharing the query's rare, stemmed terms ranks first",
          "[retriever][lexical]") {
  lexical_index index;
  add_corpus(index);
  REQUIRE(index.size() == 3);
  // "crashing" and "crashes" share the stem "crash"; "restart" matches "restarted".
  auto hits =
      hits_of(index.search("what happens when my service keeps crashing, is it restarted?", 3));
  REQUIRE_FALSE(hits.empty());
  CHECK(hits.front().id == "restarts#0");
  for (size_t i = 1; i < hits.size(); ++i) CHECK(hits[i - 1].score >= hits[i].score);
  CHECK(ids_of(index.search("prometheus", 3)) == std::vector<std::string>{"metrics#0"});
  CHECK(ids_of(index.search("prometheus", 0)) == none);
}

TEST_CASE("lexical index: a title term outweighs the same term in a body", "[retriever][lexical]") {
  lexical_index index;
  add(index, "body", "Other things",
      "This page mentions deadlines once among many other words here.");
  add(index, "title", "Deadlines",
      "This page says what happens to slow requests among other words.");
  CHECK(ids_of(index.search("deadlines", 2)) == std::vector<std::string>{"title", "body"});
}

TEST_CASE("lexical index: a heading term outweighs the same term in a body, less than a title",
          "[retriever][lexical]") {
  lexical_index index;
  const std::string text = "This page mentions backoff once among many other words here.";
  add(index, "body", "Other things", text);
  add(index, "heading", "Other things", text, "guide.md", "Backoff\nIntensity");
  add(index, "title", "Backoff", text);
  CHECK(ids_of(index.search("backoff", 3)) == std::vector<std::string>{"title", "heading", "body"});
}

TEST_CASE("lexical index: remove, re-add and clear are exact", "[retriever][lexical]") {
  lexical_index index;
  add_corpus(index);
  CHECK(index.remove("metrics#0"));
  CHECK(index.remove("metrics#0"));  // unknown: nothing to do
  CHECK(index.size() == 2);
  CHECK(ids_of(index.search("prometheus metrics", 3)) == none);
  // Re-adding an id replaces its text: the old terms no longer find it.
  add(index, "deadlines#0", "Deadlines", "Budgets in milliseconds.");
  CHECK(index.size() == 2);
  CHECK(ids_of(index.search("slow 504", 3)) == none);
  CHECK(ids_of(index.search("budgets", 3)) == std::vector<std::string>{"deadlines#0"});
  REQUIRE(index.clear());
  CHECK(index.size() == 0);
  CHECK(ids_of(index.search("budgets", 3)) == none);
  add(index, "again", "", "Budgets again.");
  CHECK(ids_of(index.search("budgets", 3)) == std::vector<std::string>{"again"});
}

TEST_CASE("lexical index: a question is text, never query syntax", "[retriever][lexical]") {
  lexical_index index;
  add_corpus(index);
  // Operators, an unbalanced quote, a field prefix and boolean words are
  // searched as the words they contain, or ignored; nothing throws.
  for (const char* q : {"C++ AND \"deadline", "NOT metrics OR", "title:metrics", "(((", "\"\"",
                        "restarts -supervisor", "max_restarts*"})
    CHECK(index.search(q, 3));
  CHECK(ids_of(index.search("NOT metrics OR", 1)) == std::vector<std::string>{"metrics#0"});
  // Only stop words, or nothing to index: no hits.
  CHECK(ids_of(index.search("what is the", 3)) == none);
  CHECK(ids_of(index.search("", 3)) == none);
  CHECK(ids_of(index.search("   ?!  ", 3)) == none);
  lexical_index empty;
  CHECK(ids_of(empty.search("metrics", 3)) == none);
}

TEST_CASE("lexical index: a source is removed whole, other sources stay", "[retriever][lexical]") {
  lexical_index index;
  add(index, "a#0", "", "Budgets in milliseconds.", "a.md");
  add(index, "a#1", "", "More budgets.", "a.md");
  add(index, "b#0", "", "Budgets of b.", "b.md");
  add(index, "n#0", "", "Budgets of a chunk without a source.", "");
  REQUIRE(index.remove_source("a.md"));
  CHECK(index.size() == 2);
  CHECK(ids_of(index.search("budgets", 5)) == std::vector<std::string>{"b#0", "n#0"});
  REQUIRE(index.remove_source("nothing.md"));
  REQUIRE(index.clear());
  CHECK(index.size() == 0);
}

TEST_CASE("lexical index on disk: committed changes and the applied position survive a reopen",
          "[retriever][lexical]") {
  opea::actors::testing::temp_dir dir;
  auto where = dir.path() + "/lexical";
  {
    auto index = lexical_index::open(where);
    REQUIRE(index);
    CHECK((*index)->applied().empty());
    add(**index, "metrics#0", "Metrics", "Prometheus metrics on /metrics.");
    // An id longer than a Xapian term may be still works.
    add(**index, std::string(300, 'x'), "", "A chunk with a very long id about metrics.");
    (*index)->set_applied("0:120");
    CHECK((*index)->pending() == 2);
    // Searches see uncommitted changes.
    CHECK(ids_of((*index)->search("prometheus", 3)) == std::vector<std::string>{"metrics#0"});
    REQUIRE((*index)->commit());
    CHECK((*index)->pending() == 0);
    REQUIRE((*index)->remove(std::string(300, 'x')));
  }
  {
    auto index = lexical_index::open(where);
    REQUIRE(index);
    CHECK((*index)->applied() == "0:120");
    CHECK(ids_of((*index)->search("metrics", 3)) == std::vector<std::string>{"metrics#0"});
  }
  auto fresh = lexical_index::open(where, true);
  REQUIRE(fresh);
  CHECK((*fresh)->applied().empty());
  CHECK((*fresh)->size() == 0);
}

TEST_CASE("lexical index on disk: a directory that is not an index is an error naming it",
          "[retriever][lexical]") {
  opea::actors::testing::temp_dir dir;
  auto where = dir.write("not-a-dir", "x");
  auto index = lexical_index::open(where);
  REQUIRE_FALSE(index);
  CHECK(opea::runtime::describe(index.error()).find(where) != std::string::npos);
}
