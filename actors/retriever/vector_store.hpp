#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "actors/docs/opea_docs.hpp"
#include "actors/retriever/lexical_index.hpp"

namespace hnswlib {
template <typename T>
class HierarchicalNSW;
class InnerProductSpace;
}  // namespace hnswlib

namespace opea::actors {

/// One stored piece of a document.
struct chunk {
  /// Stable identifier, unique in the store (dataprep uses "<source>#<index>").
  /// Adding a chunk whose id exists replaces the old one.
  std::string id;
  /// The text returned to the retriever's caller.
  std::string text;
  /// A JSON object. The string field "source" (a file name) groups chunks for
  /// `remove_source` and `list_sources`; other fields (chunk_index, title...)
  /// are carried unchanged.
  nlohmann::json metadata = nlohmann::json::object();
  /// The embedding; any non-zero finite vector of the store's dimension. The
  /// store keeps it normalised to unit length.
  std::vector<float> embedding;
};

/// Retrieval parameters, with OPEA's EmbedDoc names and defaults.
/// One search result.
struct search_hit {
  std::string id;
  std::string text;
  nlohmann::json metadata;
  /// Cosine similarity between the query and the chunk, in [-1, 1] (higher
  /// is closer); this is also LangChain's relevance score for a cosine index,
  /// which OPEA's retrievers compare with score_threshold.
  double score = 0;
};

/// A source (file) and how many chunks of it are stored.
struct source_info {
  std::string name;
  size_t chunks = 0;
};

/// Tuning of a store.
struct vector_store_options {
  /// Vector dimension. 0 = take it from the files on disk, or from the first
  /// batch added to a new store. A non-zero value that differs from the one
  /// on disk is an error. Default: 0.
  size_t dimension = 0;
  /// HNSW graph degree. Default: 16.
  size_t m = 16;
  /// HNSW build-time candidate list size. Default: 200.
  size_t ef_construction = 200;
  /// HNSW search-time candidate list size (raised to k when k is larger).
  /// Used only above `exact_search_limit` chunks. Default: 256 (recall@4
  /// against exact search 0.91 on a 10k-chunk index of the hashed embedder's
  /// vectors, 0.68 at 64: bench/retrieval_recall.cpp, BENCHMARKS.md).
  size_t ef_search = 256;
  /// Stores with at most this many chunks are searched exhaustively (exact:
  /// a sparse query, at most half its dimensions non-zero, over a
  /// dimension-major copy of the vectors, reading only its non-zero
  /// dimensions; a dense one with SIMD inner products over every vector): on
  /// the hashed embedder's nearly orthogonal vectors HNSW visits a large part
  /// of a small graph anyway, so exact search is both exact and as fast
  /// there. Default: 20000.
  size_t exact_search_limit = 20000;
  /// Capacity of a new index; it doubles when full. Default: 1024.
  size_t initial_capacity = 1024;
  /// A snapshot is written once the log exceeds this size. Default: 64 MiB.
  size_t snapshot_log_bytes = size_t{64} << 20;
  /// Keep a lexical (BM25) index of the chunks' titles and texts beside the
  /// vectors, for `lexical_search` and `hybrid_search`. Default: true.
  bool lexical = true;
  /// The lexical index commits (fsync) once this many of its documents
  /// changed since its last commit, besides at every snapshot and on close:
  /// it bounds what an open replays into it. Default: 2000.
  size_t lexical_commit_changes = 2000;
};

/// How `hybrid_search` fuses the vector and lexical rankings.
struct hybrid_params {
  /// Reciprocal rank fusion's constant: a chunk scores the sum over the two
  /// rankings of 1 / (rrf_k + rank), rank 1 the best. Default: 10 (tuned on
  /// the development half of tests/data/chatqna_eval.json: retriever README).
  double rrf_k = 10;
  /// How deep each ranking is read (at least k). Default: 20.
  size_t depth = 20;
};

/// A persistent vector store of chunks: an hnswlib HNSW index over unit
/// vectors with inner product (= cosine similarity), plus the chunk table.
///
/// Thread-safe: a std::shared_mutex protects the index and the chunk table
/// (searches and listings share it; applying a change takes it exclusively,
/// for as long as the in-memory update of one batch lasts). A second mutex
/// serialises writers, so the log append and its fsync, and snapshots, run
/// without blocking readers. With a lexical index, a thread of the store's
/// own applies the logged changes to it in order (at most 4 behind the
/// writer, who waits when it is) and runs hybrid searches' BM25 queries; a
/// lexical or hybrid search sees every change made before it. The column
/// copy for sparse exact searches is updated by a searcher under a mutex of
/// its own (the index cannot change while searches hold the shared lock).
///
/// On disk, in `<data_dir>/<index_name>/`:
/// - `CURRENT`: one JSON line {"format":1,"dimension":D,"generation":G},
///   replaced atomically (write, fsync, rename, fsync directory).
/// - `wal-<G>.log`: append-only log of records, each
///   `u32 length | u32 crc32(payload) | payload` (little endian). A payload is
///   one whole change (an added batch, a removal, a clear), so a crash loses
///   no acknowledged change and never applies half of one. `add` and the
///   removals return after the record is fsynced. On open a torn or corrupt
///   tail is truncated.
/// - `index-<G>.hnsw` (hnswlib saveIndex) and `chunks-<G>.bin` (the chunk
///   table: labels, ids, texts, metadata) form snapshot G; the log of
///   generation G holds the changes made after it. Snapshots are written
///   when the log exceeds `snapshot_log_bytes`, by `snapshot()` and by
///   `close()`; one that finds more deleted than live vectors in the index
///   rebuilds it from the live ones first.
/// - `lexical/`: the lexical index (a Xapian glass database, when
///   `vector_store_options::lexical`). Every logged change is applied to it
///   too, and it stores with each commit the log position it reached
///   ("<generation>:<offset>"). On open the records after that position are
///   replayed into it (applying a record twice is harmless: each is "set
///   these ids", "drop these ids" or "drop this source"); an index that is
///   missing, unreadable or of another generation is rebuilt from the chunk
///   table. So it has the vector store's guarantees: every acknowledged
///   change, never half of one. Should it fail while running (disk full), the
///   store logs the error and goes on without it until the next open
///   rebuilds it.
class vector_store {
 public:
  /// Opens (or creates) the store in `<data_dir>/<index_name>/`: loads the
  /// snapshot, replays the log and truncates a torn tail. Errors (bad_request
  /// for a dimension mismatch or a bad name, service_failed for I/O and
  /// corruption) name the directory and the cause.
  [[nodiscard]] static caf::expected<std::shared_ptr<vector_store>> open(
      const std::string& data_dir, const std::string& index_name, vector_store_options opts = {});

  ~vector_store();
  vector_store(const vector_store&) = delete;
  vector_store& operator=(const vector_store&) = delete;

  /// Adds `batch` as one atomic change. Chunks whose id exists replace the
  /// stored ones. When `replace_source` is not empty, every stored chunk of
  /// that source is removed in the same change (re-ingesting a file). Every
  /// chunk is validated first (non-empty unique ids, an object metadata, the
  /// store's dimension, finite, non-zero): errc::bad_request naming the chunk.
  [[nodiscard]] caf::expected<void> add(std::vector<chunk> batch,
                                        const std::string& replace_source = {});

  /// Removes the chunks with these ids; unknown ids are ignored. Returns the
  /// number removed.
  [[nodiscard]] caf::expected<size_t> remove(const std::vector<std::string>& ids);

  /// Removes every chunk of `source`. Returns the number removed.
  [[nodiscard]] caf::expected<size_t> remove_source(const std::string& source);

  /// Removes every chunk. Returns the number removed.
  [[nodiscard]] caf::expected<size_t> clear();

  /// Nearest chunks to `query` (normalised here), per `params`; sorted by
  /// score, highest first, except for "mmr" (selection order). An empty store
  /// answers no hits. errc::bad_request for a wrong dimension, a zero or
  /// non-finite query, an unknown search type, k or fetch_k of 0 or above
  /// 10000, a missing distance_threshold, lambda_mult outside [0, 1].
  [[nodiscard]] caf::expected<std::vector<search_hit>> search(const std::vector<float>& query,
                                                              const search_params& params) const;

  /// The best `k` chunks for the words of `text` by BM25 over titles and
  /// texts (stemmed, stop words ignored, a title term weighs 3 body terms),
  /// best first; a hit's score is its BM25 weight. No hits without a lexical
  /// index. errc::bad_request for k of 0 or above 10000.
  [[nodiscard]] caf::expected<std::vector<search_hit>> lexical_search(const std::string& text,
                                                                      size_t k) const;

  /// "similarity" search fused with `lexical_search(text)` by reciprocal
  /// rank fusion: the `params.k` chunks with the best fused score, in that
  /// order; a hit's score stays its cosine similarity to `query`. Other
  /// search types (and a store without lexical index) are `search`.
  [[nodiscard]] caf::expected<std::vector<search_hit>> hybrid_search(
      const std::vector<float>& query, const std::string& text, const search_params& params,
      const hybrid_params& fusion = {}) const;

  /// Whether the lexical index is in use (false when disabled, or after it
  /// failed; see the log).
  bool has_lexical() const;

  /// Sources and their chunk counts, sorted by name. Chunks without a
  /// "source" are counted under "".
  std::vector<source_info> list_sources() const;

  /// Number of stored chunks.
  size_t size() const;

  /// Number of sources with stored chunks (`list_sources().size()`, without
  /// the list).
  size_t source_count() const;

  /// Vector dimension; 0 until known (new store opened with dimension 0).
  size_t dimension() const;

  /// Bytes dropped from the log's tail when the store was opened (a torn
  /// record), 0 when the log was clean.
  size_t recovered_tail_bytes() const { return dropped_tail_bytes_; }

  /// Writes a snapshot and starts an empty log.
  [[nodiscard]] caf::expected<void> snapshot();

  /// Writes a snapshot if the log is not empty. Later changes fail.
  [[nodiscard]] caf::expected<void> close();

 private:
  struct entry {
    std::string id;
    std::string text;
    nlohmann::json metadata;
    std::string source;
  };

  using index_type = hnswlib::HierarchicalNSW<float>;
  /// One decoded log record.
  struct record;

  vector_store(std::string dir, vector_store_options opts);

  caf::expected<void> load();
  caf::expected<void> load_snapshot();
  caf::expected<void> replay_log();
  caf::expected<void> initialize(size_t dimension);
  caf::expected<void> write_current(size_t generation);
  caf::expected<void> append_record(const std::string& payload);
  caf::expected<void> maybe_snapshot();
  caf::expected<void> snapshot_locked();
  caf::expected<void> log_and_apply(const std::string& payload);
  caf::expected<record> decode(const std::string& payload) const;
  void apply(record rec);
  caf::expected<void> apply_lexical(const record& rec);
  void follow_lexical(const record& rec);
  void enqueue_lexical(std::unique_ptr<record> rec, bool commit);
  /// The lexical index's best `k` for `text`, searched on the lexical thread
  /// after every change queued before (read your writes); none when it does
  /// not run. Wait on it without holding state_mutex_ (drop_lexical).
  std::future<caf::expected<std::vector<lexical_hit>>> lexical_hits(const std::string& text,
                                                                    size_t k) const;
  void lexical_worker();
  void wait_lexical() const;
  void stop_lexical();
  caf::expected<void> open_lexical(bool overwrite);
  caf::expected<void> rebuild_lexical();
  void drop_lexical(const caf::error& why);
  std::string log_position() const;
  /// `query` checked against the store's dimension and normalised
  /// (errc::bad_request naming "embedding").
  caf::expected<std::vector<float>> unit_query(const std::vector<float>& query) const;
  /// The `n` nearest live chunks to `unit_query`, as (distance, label),
  /// nearest first (call with state_mutex_ held).
  caf::expected<std::vector<std::pair<float, uint64_t>>> nearest(const float* unit_query,
                                                                 size_t n) const;
  /// Every stored chunk's label, ascending (call with state_mutex_ held).
  std::vector<uint64_t> sorted_labels() const;
  void create_index(size_t capacity);
  /// Makes `index` the store's index (call with state_mutex_ held exclusively
  /// or while opening): the column copy starts over.
  void replace_index(std::unique_ptr<index_type> index);
  /// Brings the column copy up to date with the index (call with
  /// state_mutex_ held); false when it cannot be (out of memory).
  bool sync_columns() const;
  void ensure_capacity(size_t extra);
  void erase_label(uint64_t label);
  void insert(uint64_t label, entry e, const float* unit_vector);
  std::string path(const std::string& file) const;

  const std::string dir_;
  const vector_store_options opts_;

  /// Serialises writers (add, remove, snapshot): taken before state_mutex_.
  mutable std::mutex writer_mutex_;
  /// Protects everything below.
  mutable std::shared_mutex state_mutex_;

  size_t dimension_ = 0;
  size_t generation_ = 0;
  uint64_t next_label_ = 0;
  std::unique_ptr<hnswlib::InnerProductSpace> space_;
  std::unique_ptr<index_type> index_;
  /// Bumped by `replace_index`.
  size_t index_serial_ = 0;
  /// The vectors again, dimension-major (`columns_[d * columns_capacity_ +
  /// id]`, by hnswlib internal id), for exact searches with a sparse query
  /// (the hashed embedder's: a question sets about a fifth of the
  /// dimensions), which then read only the query's non-zero dimensions.
  /// Built by the first such search and brought up to date by the next one
  /// after changes, so a store searched with dense vectors never holds it;
  /// freed when the store outgrows exact search. Updated under
  /// columns_mutex_ with state_mutex_ held shared; read with state_mutex_
  /// held shared once up to date (the index changes only under the
  /// exclusive lock, so it stays up to date until the readers leave).
  mutable std::mutex columns_mutex_;
  mutable std::vector<float> columns_;
  mutable size_t columns_capacity_ = 0;
  mutable size_t columns_count_ = 0;
  mutable size_t columns_serial_ = 0;
  std::unordered_map<uint64_t, entry> entries_;
  std::unordered_map<std::string, uint64_t> by_id_;
  std::unordered_map<std::string, std::set<uint64_t>> by_source_;
  int log_fd_ = -1;
  size_t log_bytes_ = 0;
  size_t dropped_tail_bytes_ = 0;
  bool closed_ = false;
  /// Written under writer_mutex_ (and state_mutex_ exclusively when the
  /// pointer changes); read under state_mutex_.
  std::unique_ptr<lexical_index> lexical_;
  /// Logged changes waiting for the lexical index, applied in order by
  /// lexical_thread_ (so that indexing overlaps the writer's next batch).
  /// A job without record is a commit (after a snapshot).
  /// A job with `search` set runs a lexical search instead (`lexical_hits`:
  /// after every change queued before it, beside a hybrid search's vector
  /// search).
  struct lexical_job {
    std::unique_ptr<record> rec;
    std::string position;
    bool commit = false;
    std::function<void()> search;
  };
  mutable std::mutex lexical_mtx_;
  mutable std::condition_variable lexical_cv_;
  mutable std::deque<lexical_job> lexical_queue_;
  mutable uint64_t lexical_enqueued_ = 0;
  uint64_t lexical_done_ = 0;
  bool lexical_stop_ = false;
  std::thread lexical_thread_;
  /// The log offset (in this generation) the lexical index reached on disk,
  /// while opening.
  size_t lexical_from_ = 0;
  bool lexical_rebuild_ = false;
};

using vector_store_ptr = std::shared_ptr<vector_store>;

}  // namespace opea::actors
