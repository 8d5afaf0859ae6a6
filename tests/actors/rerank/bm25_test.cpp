#include "actors/rerank/bm25.hpp"

#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace opea::actors;

// The hand-computed example: N = 3 candidates,
//   d0 = "Cat dog"          |d0| = 2
//   d1 = "dog"              |d1| = 1
//   d2 = "cat, cat cat fish" |d2| = 4      avgdl = 7/3
// n(cat) = n(dog) = 2, so idf = ln(1 + (3 - 2 + 0.5) / (2 + 0.5)) = ln 1.6.
// The length factor K(d) = k1 * (1 - b + b * |d| / avgdl) with k1 = 1.2, b = 0.75:
//   K(d0) = 1.2 * (1/4 + 9/14) = 15/14,  K(d1) = 1.2 * (1/4 + 9/28) = 24/35,
//   K(d2) = 1.2 * (1/4 + 9/7)  = 129/70.
// term score = idf * tf * 2.2 / (tf + K(d)).
namespace {
const std::vector<std::string> docs{"Cat dog", "dog", "cat, cat cat fish"};
const double idf = std::log(1.6);
}  // namespace

TEST_CASE("BM25: exact scores of a one-term query", "[rerank][bm25]") {
  auto s = bm25_scores("cat?", docs);
  REQUIRE(s.size() == 3);
  CHECK(s[0] == Approx(idf * 2.2 / (1 + 15.0 / 14)).epsilon(1e-12));
  CHECK(s[1] == 0.0);
  CHECK(s[2] == Approx(idf * 3 * 2.2 / (3 + 129.0 / 70)).epsilon(1e-12));
}

TEST_CASE("BM25: terms add up, a repeated query term counts once", "[rerank][bm25]") {
  auto s = bm25_scores("CAT dog cat", docs);
  REQUIRE(s.size() == 3);
  CHECK(s[0] == Approx(2 * idf * 2.2 / (1 + 15.0 / 14)).epsilon(1e-12));
  CHECK(s[1] == Approx(idf * 2.2 / (1 + 24.0 / 35)).epsilon(1e-12));
  CHECK(s[2] == Approx(idf * 3 * 2.2 / (3 + 129.0 / 70)).epsilon(1e-12));
}

TEST_CASE("BM25: the +1 form keeps a term found everywhere positive", "[rerank][bm25]") {
  // n = N = 2: idf = ln(1 + 0.5 / 2.5) = ln 1.2; both docs have length 1 = avgdl.
  auto s = bm25_scores("x", {"x", "x"});
  CHECK(s[0] == Approx(std::log(1.2) * 2.2 / (1 + 1.2)).epsilon(1e-12));
  CHECK(s[0] == s[1]);
}

TEST_CASE("BM25: custom parameters, empty query and empty candidates", "[rerank][bm25]") {
  // b = 0: no length normalisation, K = k1 = 2.
  auto s = bm25_scores("cat", docs, {2.0, 0.0});
  CHECK(s[0] == Approx(idf * 3.0 / (1 + 2.0)).epsilon(1e-12));
  CHECK(s[2] == Approx(idf * 3 * 3.0 / (3 + 2.0)).epsilon(1e-12));
  CHECK(bm25_scores("", docs) == std::vector<double>{0, 0, 0});
  CHECK(bm25_scores("...", docs) == std::vector<double>{0, 0, 0});
  CHECK(bm25_scores("cat", {}) == std::vector<double>{});
  CHECK(bm25_scores("cat", {"", " "}) == std::vector<double>{0, 0});
}

TEST_CASE("min-max normalisation", "[rerank][bm25]") {
  CHECK(min_max_normalize({2, 4, 3}) == std::vector<double>{0, 1, 0.5});
  CHECK(min_max_normalize({}) == std::vector<double>{});
  CHECK(min_max_normalize({0.7}) == std::vector<double>{1});
  CHECK(min_max_normalize({0, 0}) == std::vector<double>{0, 0});
  CHECK(min_max_normalize({2, 2}) == std::vector<double>{1, 1});
}
