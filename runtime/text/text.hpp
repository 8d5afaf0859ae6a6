#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// Byte-level text utilities shared by the config reader, the HTTP parsers
/// and the built-ins' scorers. Every function is ASCII-only on purpose: bytes
/// >= 0x80 (UTF-8 sequences, valid or not) are never changed or split, so a
/// word in any script stays whole. No locale is consulted.
namespace opea::text {

/// True for the six ASCII white-space bytes: ' ', '\t', '\n', '\r', '\f', '\v'
/// (what `std::isspace` accepts in the C locale).
[[nodiscard]] bool is_space(char c);

/// True for a byte of a word: an ASCII letter or digit, or any byte >= 0x80.
[[nodiscard]] bool is_word_byte(char c);

/// `s` without leading and trailing white space (`is_space`).
[[nodiscard]] std::string_view trim(std::string_view s);

/// `s` without leading and trailing blanks (' ' and '\t' only): HTTP's
/// optional white space around header values and parameters, where a CR or
/// LF is never part of the value's edges but must not be silently dropped.
[[nodiscard]] std::string_view trim_blanks(std::string_view s);

/// ASCII lower case of `s` (other bytes unchanged).
[[nodiscard]] std::string lower(std::string_view s);

/// ASCII upper case of `s` (other bytes unchanged).
[[nodiscard]] std::string upper(std::string_view s);

/// Number of white-space separated words of `s` (runs of non-`is_space`
/// bytes): the word count that stands in for tokens in `usage`.
/// Example: " a  b\nc " -> 3.
[[nodiscard]] size_t count_words(std::string_view s);

/// The words of `s` for scoring (BM25, hashed embeddings, answer terms):
/// maximal runs of `is_word_byte`, ASCII lower-cased; every other ASCII byte
/// (space, punctuation, control) separates words.
/// Example: "Hello, Wörld! don't x2" -> {"hello", "wörld", "don", "t", "x2"}.
[[nodiscard]] std::vector<std::string> tokenize(std::string_view s);

/// `tokenize` without a string per word, for hot loops: writes the
/// lower-cased word bytes of `s` into `lowered` and each word as
/// (offset, length) into it to `words` (both cleared first).
void tokenize_into(std::string_view s, std::string& lowered,
                   std::vector<std::pair<size_t, size_t>>& words);

/// English function words (articles, pronouns, auxiliaries, prepositions,
/// conjunctions, question words), lower case, sorted: the stop list of the
/// retriever's lexical index. (The hashed embedder and the extractive
/// answerer still keep lists of their own, a few words apart; moving them
/// here changes their scores, so it waits for the retrieval work that
/// measures it.)
[[nodiscard]] const std::vector<std::string_view>& english_stop_words();

/// Whether `word` (lower case) is one of `english_stop_words`.
[[nodiscard]] bool is_english_stop_word(std::string_view word);

}  // namespace opea::text
