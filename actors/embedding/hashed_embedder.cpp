#include "actors/embedding/hashed_embedder.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "runtime/errors.hpp"
#include "runtime/text/text.hpp"

namespace opea::actors {

namespace {

/// English function words (articles, pronouns, auxiliaries, prepositions,
/// conjunctions, question words), kept sorted for binary search.
constexpr std::string_view stopwords[] = {
    "a",      "about", "after", "all",  "also", "an",    "and",   "any",  "are",   "as",
    "at",     "be",    "been",  "but",  "by",   "can",   "could", "did",  "do",    "does",
    "doing",  "for",   "from",  "had",  "has",  "have",  "how",   "i",    "if",    "in",
    "into",   "is",    "it",    "its",  "me",   "my",    "of",    "on",   "or",    "our",
    "should", "so",    "than",  "that", "the",  "their", "them",  "then", "there", "these",
    "they",   "this",  "to",    "us",   "was",  "we",    "were",  "what", "when",  "where",
    "which",  "while", "who",   "why",  "will", "with",  "would", "you",  "your"};

bool is_stopword(std::string_view word) {
  return std::binary_search(std::begin(stopwords), std::end(stopwords), word);
}

enum family : uint8_t { unigram = 1, bigram = 2, char_ngram = 3 };

constexpr float family_weight[] = {0.0f, hashed_embedder::unigram_weight,
                                   hashed_embedder::bigram_weight,
                                   hashed_embedder::char_ngram_weight};

struct feature {
  uint64_t hash;
  uint8_t family;
  bool operator<(const feature& other) const { return hash < other.hash; }
};

uint64_t family_seed(uint8_t f) {
  char tag = static_cast<char>(f);
  return fnv1a64(std::string_view{&tag, 1});
}

/// Sorts `xs` by hash (as std::sort with feature::operator< would, up to the
/// order of equal hashes): an LSD radix sort, 8 passes of 8 bits, about three
/// times faster than std::sort on the thousands of features of a chunk.
void sort_by_hash(std::vector<feature>& xs, std::vector<feature>& scratch) {
  if (xs.size() < 64) {
    std::sort(xs.begin(), xs.end());
    return;
  }
  scratch.resize(xs.size());
  for (unsigned shift = 0; shift < 64; shift += 8) {
    size_t count[257] = {};
    for (const auto& f : xs) ++count[((f.hash >> shift) & 0xFF) + 1];
    if (count[((xs.front().hash >> shift) & 0xFF) + 1] == xs.size()) continue;  // one digit
    for (size_t b = 0; b < 256; ++b) count[b + 1] += count[b];
    for (const auto& f : xs) scratch[count[(f.hash >> shift) & 0xFF]++] = f;
    xs.swap(scratch);
  }
}

}  // namespace

hashed_embedder::hashed_embedder(size_t dimension) : dimension_(dimension) {
  // Guards direct construction; `make` reports the error as a value.
  if (dimension_ == 0) dimension_ = default_dimension;
}

caf::expected<embedder_ptr> hashed_embedder::make(size_t dimension) {
  if (dimension < 1 || dimension > max_dimension)
    return runtime::make_error(
        runtime::errc::bad_request, "dimension",
        "must be in [1, " + std::to_string(max_dimension) + "], got " + std::to_string(dimension));
  return embedder_ptr{std::make_shared<hashed_embedder>(dimension)};
}

std::string hashed_embedder::model() const {
  return "opea-hashed-ngram-" + std::to_string(dimension_);
}

void hashed_embedder::embed(std::vector<std::string> texts,
                            std::function<void(caf::expected<std::vector<vector>>)> done) {
  std::vector<vector> out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back(embed_one(t));
  done(std::move(out));
}

vector hashed_embedder::embed_one(std::string_view text) const {
  static const uint64_t seeds[] = {0, family_seed(unigram), family_seed(bigram),
                                   family_seed(char_ngram)};
  std::string lowered;
  std::vector<std::pair<size_t, size_t>> words;
  text::tokenize_into(text, lowered, words);
  vector out(dimension_, 0.0f);
  if (words.empty()) return out;

  // Function words carry no topic: they are left out, unless the text has
  // nothing else (so that "a" or "the" still embed to something).
  std::string_view all_words{lowered};
  std::vector<std::pair<size_t, size_t>> content;
  for (auto& w : words)
    if (!is_stopword(all_words.substr(w.first, w.second))) content.push_back(w);
  if (!content.empty()) words.swap(content);
  std::vector<feature> features;
  features.reserve(words.size() * 16);
  std::string padded;
  std::vector<size_t> starts;  // Code point starts in `padded`, plus its end.
  std::string_view all{lowered};
  for (size_t i = 0; i < words.size(); ++i) {
    auto word = all.substr(words[i].first, words[i].second);
    features.push_back({fnv1a64(word, seeds[unigram]), unigram});
    if (i + 1 < words.size()) {
      auto next = all.substr(words[i + 1].first, words[i + 1].second);
      features.push_back({fnv1a64(next, fnv1a64(" ", fnv1a64(word, seeds[bigram]))), bigram});
    }
    padded.clear();
    padded.push_back('<');
    padded.append(word);
    padded.push_back('>');
    starts.clear();
    for (size_t p = 0; p < padded.size(); ++p)
      if ((static_cast<unsigned char>(padded[p]) & 0xC0) != 0x80) starts.push_back(p);
    starts.push_back(padded.size());
    size_t code_points = starts.size() - 1;
    std::string_view pv{padded};
    for (size_t n = min_char_ngram; n <= max_char_ngram && n <= code_points; ++n)
      for (size_t s = 0; s + n <= code_points; ++s)
        features.push_back(
            {fnv1a64(pv.substr(starts[s], starts[s + n] - starts[s]), seeds[char_ngram]),
             char_ngram});
  }
  std::vector<feature> scratch;
  sort_by_hash(features, scratch);
  for (size_t i = 0; i < features.size();) {
    size_t j = i + 1;
    while (j < features.size() && features[j].hash == features[i].hash) ++j;
    auto tf = static_cast<float>(j - i);
    auto h = fmix64(features[i].hash);
    float w = family_weight[features[i].family] * (1.0f + std::log(tf));
    out[h % dimension_] += (h >> 63) ? -w : w;
    i = j;
  }
  double norm = 0;
  for (float x : out) norm += static_cast<double>(x) * x;
  if (norm > 0) {
    auto inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (auto& x : out) x *= inv;
  }
  return out;
}

}  // namespace opea::actors
