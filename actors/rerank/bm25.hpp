#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace opea::actors {

/// BM25 parameters. Defaults: k1 = 1.2, b = 0.75.
struct bm25_params {
  /// Term-frequency saturation. Default: 1.2.
  double k1 = 1.2;
  /// Length normalisation, 0 = none, 1 = full. Default: 0.75.
  double b = 0.75;
};

/// Okapi BM25 of `query` against each of `documents`, with the collection
/// statistics taken from `documents` alone (the candidate set):
///
///   score(d) = sum over distinct query terms t of
///              idf(t) * tf(t,d) * (k1 + 1) / (tf(t,d) + k1 * (1 - b + b * |d| / avgdl))
///   idf(t)   = ln(1 + (N - n(t) + 0.5) / (n(t) + 0.5))
///
/// where terms come from `text::tokenize` (runtime/text/text.hpp),
/// N is the number of documents, n(t) the number containing t, |d| the
/// document's term count and avgdl the mean of |d|. The "+1" inside the log
/// keeps idf positive even for terms found in every candidate. A query term
/// repeated in the query counts once. Documents (or a query) without terms
/// score 0; when every document is empty avgdl is 0 and every score is 0.
/// Returns one score per document, in order.
std::vector<double> bm25_scores(std::string_view query, const std::vector<std::string>& documents,
                                bm25_params params = {});

/// Min-max normalisation to [0, 1]: (x - min) / (max - min). When all values
/// are equal (including a single value) the result is 1 for each if that
/// value is > 0 (every candidate matches equally), else 0.
std::vector<double> min_max_normalize(const std::vector<double>& xs);

}  // namespace opea::actors
