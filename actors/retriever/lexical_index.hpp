#pragma once

// A lexical (BM25) index of text chunks beside the vector index: Xapian
// (Debian's libxapian-dev) in memory, with its English Snowball stemmer and a
// stop list; a chunk's title is indexed as a second field that weighs more.
// It holds no state of its own worth keeping: the owner rebuilds it from the
// chunks it stores (on open) and applies every add and remove to it, so it
// follows the store's crash guarantees exactly.

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace opea::actors {

/// One lexical match: the chunk's id and its BM25 weight (Xapian's BM25,
/// k1 1.2, b 0.5 by default; comparable only within one search).
struct lexical_hit {
  std::string id;
  double score = 0;
};

/// Thread-safety: every member function may be called from any thread (one
/// mutex: Xapian's objects are not thread-safe).
class lexical_index {
 public:
  /// How many times a title term counts against a body term.
  static constexpr unsigned title_weight = 3;

  lexical_index();
  ~lexical_index();
  lexical_index(const lexical_index&) = delete;
  lexical_index& operator=(const lexical_index&) = delete;

  /// Indexes (or re-indexes) chunk `id`.
  void add(const std::string& id, std::string_view title, std::string_view text);

  /// Forgets chunk `id`; false if it was not indexed.
  bool remove(const std::string& id);

  /// Forgets every chunk.
  void clear();

  /// The best `k` chunks for `query`, best first (ties: Xapian's document
  /// order, i.e. insertion order). A query with no indexable term, or that
  /// matches nothing, gives none. Terms are OR-ed: a chunk matching some of
  /// the query's terms ranks below one matching more of its rare terms.
  std::vector<lexical_hit> search(std::string_view query, size_t k) const;

  /// Chunks indexed.
  size_t size() const;

 private:
  struct impl;
  mutable std::mutex mtx_;
  std::unique_ptr<impl> impl_;
};

}  // namespace opea::actors
