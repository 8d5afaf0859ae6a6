#include <catch2/catch.hpp>

#include <algorithm>

#include "actors/dataprep/chunker.hpp"
#include "runtime/errors.hpp"

using namespace opea::actors;
using strings = std::vector<std::string>;

namespace {

strings split(const std::string& text, size_t size, size_t overlap) {
  auto out = split_text(text, chunk_options{size, overlap});
  REQUIRE(out);
  return *out;
}

}  // namespace

TEST_CASE("the chunker packs whole sentences", "[dataprep]") {
  REQUIRE(split("One. Two. Three.", 10, 0) == strings{"One. Two.", "Three."});
  REQUIRE(split("  Short text.  ", 1500, 100) == strings{"Short text."});
  REQUIRE(split("Why? Because! Yes.", 13, 0) == strings{"Why? Because!", "Yes."});
  // A '.' not followed by white space does not end a sentence.
  REQUIRE(split("Pi is 3.14 here. Next one.", 17, 0) == strings{"Pi is 3.14 here.", "Next one."});
  // Closing quotes stay with their sentence.
  REQUIRE(split("He said \"stop.\" Then left.", 16, 0) ==
          strings{"He said \"stop.\"", "Then left."});
  REQUIRE(split(" \n\t ", 10, 0).empty());
  REQUIRE(split("", 10, 0).empty());
}

TEST_CASE("the chunker keeps line breaks and cuts at them", "[dataprep]") {
  REQUIRE(split("Alpha beta.\n\nGamma delta!\nEpsilon?", 30, 0) ==
          strings{"Alpha beta.\n\nGamma delta!", "Epsilon?"});
  REQUIRE(split("title line\nbody without a stop", 25, 0) ==
          strings{"title line", "body without a stop"});
}

TEST_CASE("the chunker overlaps whole trailing sentences", "[dataprep]") {
  REQUIRE(split("One. Two. Three.", 12, 5) == strings{"One. Two.", "Two. Three."});
  REQUIRE(split("A a. B b. C c. D d. E e.", 14, 9) ==
          strings{"A a. B b. C c.", "B b. C c. D d.", "C c. D d. E e."});
  // The overlap never keeps a sentence that would leave no room for a new one.
  REQUIRE(split("One. Two. Three.", 10, 5) == strings{"One. Two.", "Three."});
}

TEST_CASE("the chunker splits long sentences between words, long words anywhere", "[dataprep]") {
  REQUIRE(split("aaa bbb ccc ddd", 8, 0) == strings{"aaa bbb", "ccc ddd"});
  REQUIRE(split("abcdefghij", 4, 0) == strings{"abcd", "efgh", "ij"});
  REQUIRE(split("Short. abcdefghij kl.", 8, 0) == strings{"Short.", "abcdefgh", "ij kl."});
  // Sizes count code points, not bytes.
  REQUIRE(split("h\xC3\xA9llo w\xC3\xB6rld.", 6, 0) == strings{"h\xC3\xA9llo", "w\xC3\xB6rld."});
  REQUIRE(split("\xC3\xA9\xC3\xA9\xC3\xA9", 2, 0) == strings{"\xC3\xA9\xC3\xA9", "\xC3\xA9"});
}

TEST_CASE("the chunker is deterministic and bounded on a long text", "[dataprep]") {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "Sentence number " + std::to_string(i) + " is here. ";
  auto a = split(text, 150, 40);
  auto b = split(text, 150, 40);
  REQUIRE(a == b);
  REQUIRE(a.size() == 50);  // 5 sentences each, advancing by 4
  for (auto& c : a) REQUIRE(c.size() <= 150);
  REQUIRE(a.front() ==
          "Sentence number 0 is here. Sentence number 1 is here. Sentence number 2 "
          "is here. Sentence number 3 is here. Sentence number 4 is here.");
  REQUIRE(a[1].rfind("Sentence number 4 is here.", 0) == 0);  // overlap of one sentence
}

TEST_CASE("the chunker rejects bad sizes by name", "[dataprep]") {
  auto zero = split_text("x", chunk_options{0, 0});
  REQUIRE(!zero);
  REQUIRE(opea::runtime::subject_of(zero.error()) == "chunk_size");
  auto overlap = split_text("x", chunk_options{10, 10});
  REQUIRE(!overlap);
  REQUIRE(opea::runtime::subject_of(overlap.error()) == "chunk_overlap");
  REQUIRE(opea::runtime::code_of(overlap.error()) == opea::runtime::errc::bad_request);
}

TEST_CASE("chunk_headings: the section in effect at a chunk's start, then those inside it",
          "[dataprep][chunker]") {
  auto doc = markdown_to_text(
      "# Guide #\nIntro sentence here.\n\n```sh\n# not a heading\n```\n\n"
      "Restarts\n--------\nA crashed actor restarts. It waits with backoff.\n"
      "#hashtag is no heading\n### Intensity\nFive restarts in ten seconds.");
  REQUIRE(doc.title == "Guide");
  std::vector<std::string> names;
  for (auto& h : doc.headings) {
    names.push_back(h.text);
    CHECK(doc.text.compare(h.offset, h.text.size(), h.text) == 0);
  }
  REQUIRE(names == strings{"Guide", "Restarts", "Intensity"});
  // One chunk: every heading, in order.
  auto whole = split_text(doc.text, chunk_options{1000, 0});
  REQUIRE(whole);
  REQUIRE(whole->size() == 1);
  CHECK(chunk_headings(doc.text, doc.headings, *whole) ==
        std::vector<strings>{{"Guide", "Restarts", "Intensity"}});
  // Small chunks: each names the section it starts in first.
  auto chunks = split_text(doc.text, chunk_options{40, 0});
  REQUIRE(chunks);
  auto headings = chunk_headings(doc.text, doc.headings, *chunks);
  REQUIRE(headings.size() == chunks->size());
  std::vector<strings> expected;
  for (const auto& c : *chunks) {
    if (c.find("Intro") != std::string::npos || c == "Guide")
      expected.push_back({"Guide"});
    else if (c.find("# not a heading") != std::string::npos)
      expected.push_back({"Guide", "Restarts"});
    else if (c.find("#hashtag") != std::string::npos)
      expected.push_back({"Restarts", "Intensity"});
    else if (c.find("Five") != std::string::npos)
      expected.push_back({"Intensity"});
    else
      expected.push_back({"Restarts"});
  }
  INFO(Catch::Detail::stringify(*chunks));
  CHECK(headings == expected);
  // Text without headings: none.
  auto plain = split_text("No headings. Just text.", chunk_options{10, 0});
  REQUIRE(plain);
  for (const auto& h : chunk_headings("No headings. Just text.", {}, *plain)) CHECK(h.empty());
}
