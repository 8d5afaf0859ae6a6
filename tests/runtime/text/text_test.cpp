#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "runtime/text/text.hpp"

namespace text = opea::text;
using strings = std::vector<std::string>;

TEST_CASE("text::trim drops every ASCII white space, trim_blanks only blanks", "[text]") {
  CHECK(text::trim(" \t\r\n\f\va b\v\f\n\r\t ") == "a b");
  CHECK(text::trim("   ").empty());
  CHECK(text::trim("") == "");
  CHECK(text::trim("x") == "x");
  CHECK(text::trim_blanks(" \t a b \t ") == "a b");
  CHECK(text::trim_blanks("\r\n a \r\n") == "\r\n a \r\n");
}

TEST_CASE("text::lower and upper change ASCII letters only", "[text]") {
  CHECK(text::lower("HTTPS://Host-1_Ü") == "https://host-1_Ü");
  CHECK(text::upper("abc-\xC3\xA9z") == "ABC-\xC3\xA9Z");
  CHECK(text::lower("") == "");
}

TEST_CASE("text::count_words counts white-space separated runs", "[text]") {
  CHECK(text::count_words(" a  b\nc ") == 3);
  CHECK(text::count_words("") == 0);
  CHECK(text::count_words(" \t\n") == 0);
  CHECK(text::count_words("don't stop-me") == 2);
  CHECK(text::count_words("a\vb\fc\rd") == 4);
}

TEST_CASE("text::tokenize: lower-cased ASCII words, punctuation separates", "[text]") {
  CHECK(text::tokenize("Hello, World! x2") == std::vector<std::string>{"hello", "world", "x2"});
  CHECK(text::tokenize("") == std::vector<std::string>{});
  CHECK(text::tokenize("  ...!?  ") == std::vector<std::string>{});
  CHECK(text::tokenize("don't stop-me_now") ==
        std::vector<std::string>{"don", "t", "stop", "me", "now"});
  CHECK(text::tokenize("tab\there\nnew\r\nline") ==
        std::vector<std::string>{"tab", "here", "new", "line"});
  CHECK(text::tokenize("ABC123def") == std::vector<std::string>{"abc123def"});
}

TEST_CASE("text::tokenize: UTF-8 multibyte sequences stay inside words", "[text]") {
  // "Wörld" keeps its two-byte ö; non-ASCII letters are not case-folded.
  CHECK(text::tokenize("Hello, W\xC3\xB6rld!") ==
        std::vector<std::string>{"hello", "w\xC3\xB6rld"});
  CHECK(text::tokenize("\xC3\x96l caf\xC3\xA9") ==
        std::vector<std::string>{"\xC3\x96l", "caf\xC3\xA9"});
  // CJK (three bytes each) and an emoji (four bytes) are word bytes.
  CHECK(text::tokenize("\xE4\xBD\xA0\xE5\xA5\xBD, \xF0\x9F\x98\x80") ==
        std::vector<std::string>{"\xE4\xBD\xA0\xE5\xA5\xBD", "\xF0\x9F\x98\x80"});
}

TEST_CASE("text::tokenize_into: the same words as offsets into one string", "[text]") {
  std::string lowered;
  std::vector<std::pair<size_t, size_t>> words{{9, 9}};
  text::tokenize_into("Ab, cD", lowered, words);
  CHECK(lowered == "abcd");
  CHECK(words == std::vector<std::pair<size_t, size_t>>{{0, 2}, {2, 2}});
}

TEST_CASE("english_stop_words is sorted, lower case and unique; is_english_stop_word looks it up",
          "[text]") {
  const auto& words = opea::text::english_stop_words();
  REQUIRE(std::is_sorted(words.begin(), words.end()));
  REQUIRE(std::adjacent_find(words.begin(), words.end()) == words.end());
  for (auto w : words) REQUIRE(opea::text::lower(w) == w);
  CHECK(opea::text::is_english_stop_word("the"));
  CHECK(opea::text::is_english_stop_word("whom"));
  CHECK_FALSE(opea::text::is_english_stop_word("The"));
  CHECK_FALSE(opea::text::is_english_stop_word("deadline"));
  CHECK_FALSE(opea::text::is_english_stop_word(""));
}
