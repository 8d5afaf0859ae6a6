#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "actors/embedding/embedder.hpp"
#include "actors/rerank/bm25.hpp"

namespace opea::actors {

/// The score of one candidate: its index in the list given to `rerank`.
struct scored_text {
  size_t index = 0;
  double score = 0;

  bool operator==(const scored_text& other) const {
    return index == other.index && score == other.score;
  }
};

/// Orders candidate texts by relevance to a query. Implementations: the
/// built-in `hybrid_reranker` (BM25 blended with embedding cosine) and
/// `tei_reranker` (TEI's `POST /rerank`).
///
/// Thread-safe: `rerank` may be called from any thread; `done` is called
/// exactly once, on the caller's thread or on an HTTP client I/O thread, and
/// must not block.
class reranker {
 public:
  virtual ~reranker() = default;

  /// Name reported in logs and errors, e.g. "bm25+opea-hashed-ngram-384".
  virtual std::string name() const = 0;

  /// Scores every text against `query`: one entry per text, sorted by score
  /// descending, ties by index ascending. Errors are runtime::errc values
  /// naming the backend and the cause.
  virtual void rerank(std::string query, std::vector<std::string> texts,
                      std::function<void(caf::expected<std::vector<scored_text>>)> done) = 0;
};

using reranker_ptr = std::shared_ptr<reranker>;

/// Sorts by score descending, ties by index ascending.
void sort_by_score(std::vector<scored_text>& xs);

/// The built-in reranker, needing no model: a lexical score blended with an
/// embedding similarity.
///
///   score(d) = alpha * bm25n(d) + (1 - alpha) * (cos(q, d) + 1) / 2
///
/// bm25n is `bm25_scores` (k1 1.2, b 0.75, statistics over the candidates)
/// min-max normalised over the candidates (`min_max_normalize`); cos is the
/// cosine similarity of the query's and the candidate's embeddings from
/// `embedder` (0 when either vector is zero), mapped from [-1, 1] to [0, 1].
/// So every score lies in [0, 1]. BM25 rewards exact term matches; the
/// embedding term (the hashed embedder's character n-grams) rewards shared
/// sub-words, inflections and word order. Scores are comparable only within
/// one call.
///
/// Thread-safe: immutable after construction; `done` runs where the
/// embedder's callback runs.
class hybrid_reranker : public reranker {
 public:
  /// Default weight of the BM25 term.
  static constexpr double default_alpha = 0.5;

  /// `alpha` in [0, 1] (clamped).
  hybrid_reranker(embedder_ptr embedder, double alpha = default_alpha, bm25_params bm25 = {});

  /// "bm25+<embedder model>".
  std::string name() const override;

  void rerank(std::string query, std::vector<std::string> texts,
              std::function<void(caf::expected<std::vector<scored_text>>)> done) override;

  /// The unsorted blended scores of `query_vec` against `text_vecs` for `texts`.
  std::vector<double> blend(const std::string& query, const std::vector<std::string>& texts,
                            const vector& query_vec, const std::vector<vector>& text_vecs) const;

  double alpha() const { return alpha_; }

 private:
  embedder_ptr embedder_;
  double alpha_;
  bm25_params bm25_;
};

/// Cosine similarity of `a` and `b` over their common length; 0 when either
/// is a zero vector.
double cosine_similarity(const vector& a, const vector& b);

}  // namespace opea::actors
