#include "actors/rerank/reranker.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "runtime/errors.hpp"

namespace opea::actors {

void sort_by_score(std::vector<scored_text>& xs) {
  std::sort(xs.begin(), xs.end(), [](const scored_text& a, const scored_text& b) {
    return a.score != b.score ? a.score > b.score : a.index < b.index;
  });
}

double cosine_similarity(const vector& a, const vector& b) {
  double dot = 0;
  double na = 0;
  double nb = 0;
  auto n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  if (na == 0 || nb == 0) return 0;
  return std::clamp(dot / (std::sqrt(na) * std::sqrt(nb)), -1.0, 1.0);
}

hybrid_reranker::hybrid_reranker(embedder_ptr embedder, double alpha, bm25_params bm25)
    : embedder_(std::move(embedder)), alpha_(std::clamp(alpha, 0.0, 1.0)), bm25_(bm25) {
  // Nothing else to do.
}

std::string hybrid_reranker::name() const {
  return "bm25+" + embedder_->model();
}

std::vector<double> hybrid_reranker::blend(const std::string& query,
                                           const std::vector<std::string>& texts,
                                           const vector& query_vec,
                                           const std::vector<vector>& text_vecs) const {
  auto lexical = min_max_normalize(bm25_scores(query, texts, bm25_));
  std::vector<double> out(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    auto cos01 = (cosine_similarity(query_vec, text_vecs[i]) + 1.0) / 2.0;
    out[i] = alpha_ * lexical[i] + (1.0 - alpha_) * cos01;
  }
  return out;
}

void hybrid_reranker::rerank(std::string query, std::vector<std::string> texts,
                             std::function<void(caf::expected<std::vector<scored_text>>)> done) {
  if (texts.empty()) {
    done(std::vector<scored_text>{});
    return;
  }
  // One batch: the query first, then the candidates.
  std::vector<std::string> batch;
  batch.reserve(texts.size() + 1);
  batch.push_back(query);
  batch.insert(batch.end(), texts.begin(), texts.end());
  // The callback may outlive this object's caller: it carries copies.
  auto alpha = alpha_;
  auto bm25 = bm25_;
  auto emb = embedder_;
  embedder_->embed(std::move(batch), [query = std::move(query), texts = std::move(texts), alpha,
                                      bm25, emb, done = std::move(done)](
                                         caf::expected<std::vector<vector>> res) {
    if (!res) {
      done(std::move(res.error()));
      return;
    }
    if (res->size() != texts.size() + 1) {
      done(runtime::make_error(runtime::errc::service_failed, emb->model(),
                               "the embedder returned " + std::to_string(res->size()) +
                                   " vectors for " + std::to_string(texts.size() + 1) + " texts"));
      return;
    }
    hybrid_reranker calc{emb, alpha, bm25};
    std::vector<vector> docs(std::make_move_iterator(res->begin() + 1),
                             std::make_move_iterator(res->end()));
    auto scores = calc.blend(query, texts, res->front(), docs);
    std::vector<scored_text> out;
    out.reserve(scores.size());
    for (size_t i = 0; i < scores.size(); ++i) out.push_back({i, scores[i]});
    sort_by_score(out);
    done(std::move(out));
  });
}

}  // namespace opea::actors
