#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "actors/embedding/embedder.hpp"

namespace opea::actors {

/// FNV-1a 64 offset basis, the seed of every feature hash.
constexpr uint64_t fnv1a64_offset_basis = 0xcbf29ce484222325ULL;
/// FNV-1a 64 prime.
constexpr uint64_t fnv1a64_prime = 0x100000001b3ULL;

/// FNV-1a 64 of `bytes`, continuing from `state` (the offset basis to start).
constexpr uint64_t fnv1a64(std::string_view bytes, uint64_t state = fnv1a64_offset_basis) {
  for (unsigned char c : bytes) {
    state ^= c;
    state *= fnv1a64_prime;
  }
  return state;
}

/// MurmurHash3's 64-bit finaliser. FNV-1a's low bits depend only on the low
/// bits of the input bytes, so the hash is avalanched before taking a bucket.
constexpr uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

/// A deterministic text vectorizer that needs no model: feature hashing of
/// word unigrams, word bigrams and character n-grams.
///
/// Method, for a text:
/// 1. `text::tokenize` it into lower-cased words (runtime/text/text.hpp).
/// 1b. English function words ("the", "of", "how", ... 69 of them, listed in
///    hashed_embedder.cpp) are dropped, unless the text has no other word:
///    they carry no topic and otherwise dominate short questions. On the
///    bundled ChatQnA questions this raised recall@4 from 0.76 to 0.83.
/// 2. Features, each a byte string whose first byte names its family:
///    - unigram: 0x01 + word;                     family weight 1.0
///    - bigram:  0x02 + word + ' ' + next word;   family weight 0.7
///    - char n-gram: 0x03 + n consecutive code points of "<" + word + ">"
///      for n = 3, 4, 5 (n-grams never cross words; a padded word shorter
///      than n yields none of that length);     family weight 0.3
///    The weights give each family a comparable share of the vector's energy
///    for typical words (a 5-letter word has 1 unigram, ~1 bigram and 12
///    character n-grams: 1.0^2 vs 0.7^2 vs 12 * 0.3^2).
/// 3. Each distinct feature f with count tf adds
///    sign(h) * family_weight * (1 + ln tf) to bucket(h), where
///    h = fmix64(fnv1a64(f)) (FNV-1a 64 seeded with its standard offset basis
///    0xcbf29ce484222325), bucket(h) = h mod dimension and sign(h) = -1 when
///    h's top bit is set, else +1 (signed feature hashing keeps collisions
///    unbiased).
/// 4. The vector is L2-normalised. A text without any word (empty, only
///    punctuation or spaces) gives the zero vector (norm 0, not 1).
///
/// Similar wording gives close vectors (shared words and sub-words); it is a
/// lexical model, not a semantic one.
///
/// Thread-safe: immutable after construction. `embed` calls `done`
/// synchronously, on the caller's thread, before returning.
class hashed_embedder : public embedder {
 public:
  /// Default vector dimension.
  static constexpr size_t default_dimension = 384;
  /// Largest accepted dimension.
  static constexpr size_t max_dimension = 65536;

  static constexpr float unigram_weight = 1.0f;
  static constexpr float bigram_weight = 0.7f;
  static constexpr float char_ngram_weight = 0.3f;
  static constexpr size_t min_char_ngram = 3;
  static constexpr size_t max_char_ngram = 5;

  /// `dimension` must be in [1, max_dimension]; use `make` to validate.
  explicit hashed_embedder(size_t dimension = default_dimension);

  /// A new embedder, or errc::bad_request naming "dimension" if it is out of range.
  [[nodiscard]] static caf::expected<embedder_ptr> make(size_t dimension = default_dimension);

  size_t dimension() const override { return dimension_; }

  /// "opea-hashed-ngram-<dimension>".
  std::string model() const override;

  void embed(std::vector<std::string> texts,
             std::function<void(caf::expected<std::vector<vector>>)> done) override;

  /// The vector of one text.
  vector embed_one(std::string_view text) const;

 private:
  size_t dimension_;
};

}  // namespace opea::actors
