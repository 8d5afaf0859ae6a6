#pragma once

// A lexical (BM25) index of text chunks beside the vector index: Xapian
// (Debian's libxapian-dev) with its English Snowball stemmer and a stop list;
// a chunk's title is indexed before its text with a higher weight, and its
// source is kept so that a whole source can be dropped (as the vector store's
// log records do). On disk it is a Xapian glass database; in memory for a
// store that needs no persistence. The index does not decide what is durable:
// its owner (the vector store) applies its logged changes to it and stores,
// with each commit, the log position they reach (`applied`), so that on open
// it replays only the changes after that position (see vector_store.hpp).

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace opea::actors {

/// One lexical match: the chunk's id and its BM25 weight (Xapian's BM25,
/// k1 1.2, b 0.5 by default; comparable only within one search).
struct lexical_hit {
  std::string id;
  double score = 0;
};

/// Thread-safety: every member function may be called from any thread (one
/// mutex: Xapian's objects are not thread-safe). Xapian's exceptions do not
/// leave this class: failures are errc::service_failed naming the directory.
class lexical_index {
 public:
  /// How many times a title term counts against a body term.
  static constexpr unsigned title_weight = 3;
  /// How many times a section heading's term counts against a body term.
  static constexpr unsigned heading_weight = 2;

  /// An empty index in memory.
  lexical_index();

  /// Opens the on-disk index in `dir`, creating it when missing; with
  /// `overwrite`, starts it empty whatever `dir` holds. errc::service_failed
  /// for a database that cannot be opened (corrupt, locked by another
  /// process, unreadable), naming `dir` and Xapian's message.
  [[nodiscard]] static caf::expected<std::unique_ptr<lexical_index>> open(const std::string& dir,
                                                                          bool overwrite = false);

  ~lexical_index();
  lexical_index(const lexical_index&) = delete;
  lexical_index& operator=(const lexical_index&) = delete;

  /// Indexes (or re-indexes) chunk `id` of `source`: its document's
  /// `title`, the `headings` of the sections it covers and its `text`.
  [[nodiscard]] caf::expected<void> add(const std::string& id, std::string_view source,
                                        std::string_view title, std::string_view headings,
                                        std::string_view text);

  /// Forgets chunk `id` (nothing when it is not indexed).
  [[nodiscard]] caf::expected<void> remove(const std::string& id);

  /// Forgets every chunk of `source`.
  [[nodiscard]] caf::expected<void> remove_source(const std::string& source);

  /// Forgets every chunk.
  [[nodiscard]] caf::expected<void> clear();

  /// The best `k` chunks for `query`, best first (ties: Xapian's document
  /// order, i.e. insertion order). A query with no indexable term, or that
  /// matches nothing, gives none. Terms are OR-ed: a chunk matching some of
  /// the query's terms ranks below one matching more of its rare terms.
  /// Searches see every change made so far, committed or not.
  [[nodiscard]] caf::expected<std::vector<lexical_hit>> search(std::string_view query,
                                                               size_t k) const;

  /// Chunks indexed.
  size_t size() const;

  /// The owner's label of the last change applied ("" for a new index): set
  /// with the change, made durable with it by `commit`.
  std::string applied() const;
  void set_applied(const std::string& position);

  /// Changes (documents added or removed) since the last commit.
  size_t pending() const;

  /// Makes every change so far durable (on disk: Xapian's commit, which
  /// fsyncs); nothing in memory.
  [[nodiscard]] caf::expected<void> commit();

 private:
  struct impl;
  explicit lexical_index(std::unique_ptr<impl> p);
  mutable std::mutex mtx_;
  std::unique_ptr<impl> impl_;
};

}  // namespace opea::actors
