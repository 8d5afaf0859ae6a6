#pragma once

#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "actors/rerank/reranker.hpp"

namespace opea::actors {

/// A parsed `POST /rerank` request in the shape of Hugging Face's Text
/// Embeddings Inference (TEI), the reranking server OPEA deploys.
struct tei_rerank_call {
  std::string query;
  std::vector<std::string> texts;
  /// `return_text`: echo each text in the answer. Default: false.
  bool return_text = false;
};

/// Most texts one `/rerank` call may score (TEI's default max batch is of
/// the same order).
constexpr size_t max_tei_rerank_texts = 1024;

/// Validates TEI's rerank request: `query` a string, `texts` a non-empty list
/// of strings (at most `max_tei_rerank_texts`), `raw_scores`, `return_text`
/// and `truncate` booleans when present, `truncation_direction` "Left" or
/// "Right" when present. `raw_scores` and `truncate` are accepted and have no
/// effect: the built-in reranker's scores are already in [0, 1] and it
/// truncates nothing. Unknown fields are errors (TEI rejects them too).
/// Errors are errc::bad_request naming the field, e.g. "texts[2]".
[[nodiscard]] caf::expected<tei_rerank_call> parse_tei_rerank_request(const nlohmann::json& body);

/// TEI's answer: `[{"index": i, "score": s}, ...]` (plus `"text"` when
/// `return_text`), in the order of `scores` (best first).
nlohmann::json tei_rerank_response(const tei_rerank_call& call,
                                   const std::vector<scored_text>& scores);

}  // namespace opea::actors
