#include "actors/rerank/bm25.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "runtime/text/text.hpp"

namespace opea::actors {

std::vector<double> bm25_scores(std::string_view query, const std::vector<std::string>& documents,
                                bm25_params params) {
  std::vector<double> scores(documents.size(), 0.0);
  if (documents.empty()) return scores;
  auto terms = text::tokenize(query);
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  if (terms.empty()) return scores;
  std::unordered_set<std::string> wanted(terms.begin(), terms.end());

  // Per document: its length and the frequencies of the query terms in it.
  std::vector<std::unordered_map<std::string, double>> tf(documents.size());
  std::vector<double> length(documents.size(), 0.0);
  std::unordered_map<std::string, double> df;
  double total = 0;
  for (size_t i = 0; i < documents.size(); ++i) {
    auto words = text::tokenize(documents[i]);
    length[i] = static_cast<double>(words.size());
    total += length[i];
    for (auto& w : words)
      if (wanted.count(w) != 0) tf[i][w] += 1;
    for (auto& kv : tf[i]) df[kv.first] += 1;
  }
  if (total == 0) return scores;
  auto n = static_cast<double>(documents.size());
  auto avgdl = total / n;
  for (size_t i = 0; i < documents.size(); ++i) {
    double s = 0;
    for (auto& t : terms) {
      auto f = tf[i].find(t);
      if (f == tf[i].end()) continue;
      auto nt = df[t];
      auto idf = std::log(1.0 + (n - nt + 0.5) / (nt + 0.5));
      auto norm = params.k1 * (1.0 - params.b + params.b * length[i] / avgdl);
      s += idf * f->second * (params.k1 + 1.0) / (f->second + norm);
    }
    scores[i] = s;
  }
  return scores;
}

std::vector<double> min_max_normalize(const std::vector<double>& xs) {
  std::vector<double> out(xs.size(), 0.0);
  if (xs.empty()) return out;
  auto [lo, hi] = std::minmax_element(xs.begin(), xs.end());
  double min = *lo;
  double max = *hi;
  if (max == min) {
    std::fill(out.begin(), out.end(), max > 0 ? 1.0 : 0.0);
    return out;
  }
  for (size_t i = 0; i < xs.size(); ++i) out[i] = (xs[i] - min) / (max - min);
  return out;
}

}  // namespace opea::actors
