#include "actors/embedding/hashed_embedder.hpp"

#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/errors.hpp"

using namespace opea::actors;

namespace {

double dot(const vector& a, const vector& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

double norm(const vector& a) {
  return std::sqrt(dot(a, a));
}

/// Adds one feature to `v` as the documented method says.
void add_feature(std::vector<double>& v, const std::string& bytes, double weight) {
  auto h = fmix64(fnv1a64(bytes));
  v[h % v.size()] += (h >> 63) ? -weight : weight;
}

vector normalized(const std::vector<double>& v) {
  double n = 0;
  for (double x : v) n += x * x;
  n = std::sqrt(n);
  vector out;
  for (double x : v) out.push_back(static_cast<float>(x / n));
  return out;
}

}  // namespace

TEST_CASE("FNV-1a 64 matches the reference test vectors", "[embedding][hash]") {
  CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ULL);
  // Continuing from a state equals hashing the concatenation.
  CHECK(fnv1a64("bar", fnv1a64("foo")) == fnv1a64("foobar"));
}

TEST_CASE("hashed embedder: exact vector of a one-letter text", "[embedding][hashed]") {
  hashed_embedder e{64};
  // Features of "A": unigram "a" and the character 3-gram "<a>" (the padded
  // word has 3 code points, so no 4- or 5-grams, and one word has no bigram).
  std::vector<double> expect(64, 0.0);
  add_feature(expect, std::string{"\x01"} + "a", 1.0);
  add_feature(expect, std::string{"\x03"} + "<a>", 0.3);
  auto got = e.embed_one("A");
  auto want = normalized(expect);
  REQUIRE(got.size() == 64);
  for (size_t i = 0; i < 64; ++i) CHECK(got[i] == Approx(want[i]).margin(1e-7));
  CHECK(norm(got) == Approx(1.0).margin(1e-6));
}

TEST_CASE("hashed embedder: sublinear TF, bigrams and code-point n-grams", "[embedding][hashed]") {
  hashed_embedder e{128};
  std::vector<double> expect(128, 0.0);
  // "ab ab": unigram "ab" twice, bigram "ab ab" once, "<ab>" n-grams twice.
  double tf2 = 1.0 + std::log(2.0);
  add_feature(expect,
              "\x01"
              "ab",
              1.0 * tf2);
  add_feature(expect,
              "\x02"
              "ab ab",
              0.7);
  for (auto g : {"<ab", "ab>", "<ab>"}) add_feature(expect, std::string{"\x03"} + g, 0.3 * tf2);
  auto got = e.embed_one("ab AB");
  auto want = normalized(expect);
  for (size_t i = 0; i < 128; ++i) CHECK(got[i] == Approx(want[i]).margin(1e-6));

  // "é" (two bytes) is one code point: "<é>" is a 3-gram, and no 4-gram exists.
  std::vector<double> accent(128, 0.0);
  add_feature(accent,
              "\x01"
              "\xC3\xA9",
              1.0);
  add_feature(accent,
              "\x03"
              "<\xC3\xA9>",
              0.3);
  auto got2 = e.embed_one("\xC3\xA9");
  auto want2 = normalized(accent);
  for (size_t i = 0; i < 128; ++i) CHECK(got2[i] == Approx(want2[i]).margin(1e-6));
}

TEST_CASE("hashed embedder: deterministic, unit norm, model name", "[embedding][hashed]") {
  hashed_embedder e;
  CHECK(e.dimension() == 384);
  CHECK(e.model() == "opea-hashed-ngram-384");
  auto a = e.embed_one("The quick brown fox jumps over the lazy dog.");
  auto b = hashed_embedder{}.embed_one("The quick brown fox jumps over the lazy dog.");
  CHECK(a == b);
  CHECK(std::fabs(norm(a) - 1.0) < 1e-6);
  // Case and punctuation do not matter.
  CHECK(e.embed_one("the QUICK brown fox, jumps over the lazy dog") == a);
  CHECK(hashed_embedder{1000}.model() == "opea-hashed-ngram-1000");
}

TEST_CASE("hashed embedder: empty text is the zero vector", "[embedding][hashed]") {
  hashed_embedder e{16};
  CHECK(e.embed_one("") == vector(16, 0.0f));
  CHECK(e.embed_one(" ,.;!? ") == vector(16, 0.0f));
}

TEST_CASE("hashed embedder: similar texts are closer than unrelated ones", "[embedding][hashed]") {
  hashed_embedder e;
  struct triple {
    const char* anchor;
    const char* similar;
    const char* unrelated;
  };
  std::vector<triple> cases{
      {"How do I reset my password?", "Steps to reset a forgotten password",
       "The weather in Paris is sunny today"},
      {"machine learning models", "learning machines model", "banana bread recipe"},
      {"running", "runner", "xylophone"},
      {"OPEA ChatQnA retrieval augmented generation", "retrieval-augmented generation with OPEA",
       "a cat sat on the mat"},
  };
  for (auto& c : cases) {
    INFO(c.anchor);
    auto a = e.embed_one(c.anchor);
    auto s = e.embed_one(c.similar);
    auto u = e.embed_one(c.unrelated);
    CHECK(dot(a, s) > dot(a, u));
    CHECK(dot(a, s) > 0.2);
  }
}

TEST_CASE("hashed embedder: batch embed answers synchronously, in order", "[embedding][hashed]") {
  hashed_embedder e{32};
  bool called = false;
  e.embed({"one", "two", ""}, [&](caf::expected<std::vector<vector>> res) {
    called = true;
    REQUIRE(res);
    REQUIRE(res->size() == 3);
    CHECK((*res)[0] == e.embed_one("one"));
    CHECK((*res)[1] == e.embed_one("two"));
    CHECK((*res)[2] == vector(32, 0.0f));
  });
  CHECK(called);
}

TEST_CASE("hashed embedder: make validates the dimension", "[embedding][hashed]") {
  auto bad = hashed_embedder::make(0);
  REQUIRE(!bad);
  CHECK(opea::runtime::code_of(bad.error()) == opea::runtime::errc::bad_request);
  CHECK(opea::runtime::subject_of(bad.error()) == "dimension");
  CHECK(!hashed_embedder::make(65537));
  auto ok = hashed_embedder::make(8);
  REQUIRE(ok);
  CHECK((*ok)->dimension() == 8);
}
