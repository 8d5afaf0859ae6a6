#include "runtime/text/text.hpp"

#include <algorithm>

namespace opea::text {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_word_byte(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u >= 0x80;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  return out;
}

std::string upper(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - ('a' - 'A'));
  return out;
}

size_t count_words(std::string_view s) {
  size_t n = 0;
  bool in_word = false;
  for (char c : s) {
    bool space = is_space(c);
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

void tokenize_into(std::string_view s, std::string& lowered,
                   std::vector<std::pair<size_t, size_t>>& words) {
  lowered.clear();
  words.clear();
  lowered.reserve(s.size());
  size_t start = std::string::npos;
  for (char c : s) {
    if (is_word_byte(c)) {
      if (start == std::string::npos) start = lowered.size();
      lowered.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c);
    } else if (start != std::string::npos) {
      words.emplace_back(start, lowered.size() - start);
      start = std::string::npos;
    }
  }
  if (start != std::string::npos) words.emplace_back(start, lowered.size() - start);
}

std::vector<std::string> tokenize(std::string_view s) {
  std::string lowered;
  std::vector<std::pair<size_t, size_t>> words;
  tokenize_into(s, lowered, words);
  std::vector<std::string> out;
  out.reserve(words.size());
  for (auto [off, len] : words) out.emplace_back(lowered, off, len);
  return out;
}

const std::vector<std::string_view>& english_stop_words() {
  static const std::vector<std::string_view> words{
      "a",     "about", "after", "again", "all",   "also",   "am",    "an",   "and",  "any",
      "are",   "as",    "at",    "be",    "been",  "before", "being", "but",  "by",   "can",
      "could", "did",   "do",    "does",  "doing", "for",    "from",  "had",  "has",  "have",
      "how",   "i",     "if",    "in",    "into",  "is",     "it",    "its",  "just", "me",
      "my",    "no",    "not",   "of",    "off",   "on",     "once",  "only", "or",   "other",
      "our",   "out",   "over",  "own",   "same",  "should", "so",    "some", "such", "than",
      "that",  "the",   "their", "them",  "then",  "there",  "these", "they", "this", "those",
      "to",    "too",   "under", "up",    "us",    "very",   "was",   "we",   "were", "what",
      "when",  "where", "which", "while", "who",   "whom",   "why",   "will", "with", "would",
      "you",   "your"};
  return words;
}

bool is_english_stop_word(std::string_view word) {
  const auto& words = english_stop_words();
  return std::binary_search(words.begin(), words.end(), word);
}

}  // namespace opea::text
