#pragma once

// ChatQnA answer quality on a labelled question set (tests/data/chatqna_eval.json),
// asked over HTTP as a user asks it: the scoring shared by
// opea-bench-chatqna-eval and the integration test that holds the targets.

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

namespace opea::test {

/// The figures of one half ("dev" or "test") of the set.
struct eval_tally {
  /// In-corpus questions; those whose answer cites the expected source (or
  /// an equally good one listed in "also"); those whose first citation does;
  /// those whose answer cites nothing (abstained).
  size_t in = 0, cited = 0, first = 0, false_abstain = 0;
  /// Off-corpus questions; those whose answer cites nothing.
  size_t off = 0, abstain = 0;
  /// In-corpus questions asked to the retrieval route; those whose expected
  /// source is the first / among the first 4 retrieved chunks' sources.
  size_t retrieved = 0, hit1 = 0, hit4 = 0;
  std::vector<std::string> misses, false_abstentions, answered_off;
};

/// Percentage x / n (0 when n is 0).
double percent(size_t x, size_t n);

/// Asks every question of `set` ({"in_corpus": [{"question", "source",
/// "also"?, "split"}], "off_corpus": [{"question", "split"}]}) to
/// `chatqna_url` ({"messages": Q, "stream": false}) and, when
/// `retrieval_url` is not empty, every in-corpus question to it ({"text":
/// Q}, a route answering OPEA's SearchedDoc). An answer abstains when it has
/// no "Sources:" line. Errors: a bad set, or a call that fails or does not
/// answer 200 with JSON (errc::service_failed naming the URL).
caf::expected<std::map<std::string, eval_tally>> evaluate_chatqna(const nlohmann::json& set,
                                                                  const std::string& chatqna_url,
                                                                  const std::string& retrieval_url);

/// The table opea-bench-chatqna-eval prints, and the first `show` misses of
/// each kind per half.
std::string format_eval(const std::map<std::string, eval_tally>& halves, size_t show);

}  // namespace opea::test
