#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "actors/docs/opea_docs.hpp"

namespace opea::actors {

/// What the answerer produced.
struct extractive_answer {
  /// The composed answer: sentences with citation markers, then the sources.
  std::string text;
  /// Cited source names; citation [n] is `sources[n - 1]`.
  std::vector<std::string> sources;
  /// Number of document sentences quoted (0 for the "nothing found" answers).
  size_t sentences = 0;
  /// Whether the answer is `abstention_answer()`.
  bool abstained = false;
};

/// How well a question is supported by the documents given to answer it.
struct evidence {
  /// Share of the question's terms (`extractive_answerer::terms`) that occur
  /// in the documents, in [0, 1]; 0 for a question without terms.
  double coverage = 0;
  /// The question's distinct terms (without contraction tails: "s", "t",
  /// "d", "m", "ll", "re", "ve").
  size_t question_terms = 0;
  /// The most of them that one sentence of the documents holds.
  size_t best_sentence_terms = 0;
  /// Words of the question written as names (an upper-case letter or a digit
  /// in a word that does not start a sentence: "Kubernetes", "AWS", "11")
  /// whose terms do not all occur in the documents.
  std::vector<std::string> unknown_names;
  /// Whether the question is about the assistant rather than the documents:
  /// it addresses it ("you", "your", "yours", "yourself") and asks about one
  /// term at most ("What's your name?", "Who made you?", "How old are you?").
  bool about_assistant = false;
};

/// The built-in offline answerer of the `llm` service. It is NOT a language
/// model and says so: it answers a question by quoting the sentences of the
/// context documents that best match it, with citations. Its model name is
/// "opea-extractive-answerer".
///
/// How it answers:
/// 1. Documents are split into sentences. Markdown is read as prose: fenced
///    code blocks, tables and headings are skipped, list markers stripped,
///    wrapped lines of one paragraph joined. A sentence ends at `.`, `!` or `?`
///    (plus closing quotes or brackets) followed by white space, except after
///    an abbreviation ("e.g.", "i.e.", "etc.", "vs.", ...) or a one-letter
///    initial, and never inside `inline code`. Sentences of fewer than 3
///    words and exact duplicates (overlapping retrieval chunks) are dropped.
///    Chunks of one file overlap: a document's last sentence cut by the
///    chunk's end is joined with the rest of it when another document of the
///    same source starts with its last 16 or more characters, and a sentence
///    contained in another candidate is dropped. A piece that stays cut is
///    quoted with "..." where text is missing (a first sentence starting
///    with a lower-case letter, a last one without final punctuation).
/// 2. Each sentence is scored against the query with BM25 (k1 = 1.2, b = 0.75)
///    where the "collection" is the candidate sentences themselves, so the IDF
///    of a term is ln(1 + (N - n + 0.5) / (n + 0.5)) over the N sentences.
///    Terms are lower-cased alphanumeric runs (`_` and `-` separate), common
///    English stop words removed, suffixes lightly folded (plural -s/-es/-ies,
///    then -ing/-ed, then a final -e: "crashes", "crashed", "crash" meet). A sentence that
///    matches at least one term gets a proximity bonus, 0.3 * m / w when
///    m >= 2 distinct query terms occur within a window of w terms. (No
///    bonus for leading sentences: it quoted a section's heading line and
///    opening context instead of the sentence that answers; no change on
///    the eval set's figures, BENCHMARKS.md.)
/// 3. Sentences scoring at least 50% of the best are taken greedily by score
///    (ties: document order, then position) while the total stays within
///    `max_tokens` words; a single best sentence longer than that is cut to
///    `max_tokens` words and ends with "...".
/// 4. The chosen sentences are written in reading order (by the source's first
///    appearance among the documents, then document, then position), each
///    followed by its citation marker " [n]", then a blank line and
///    "Sources: [1] a.md, [2] b.md".
///
/// 0. Abstention: when the documents do not support the question (see
///    `weigh_evidence`): coverage below `min_coverage`, a name the
///    question asks about that none of them contains, for a question of
///    two terms or more no sentence holding two of them, or a question
///    about the assistant itself (`evidence::about_assistant`), the answer is
///    `abstention_answer()`, with no citation. `min_coverage` 0 turns this
///    off. The default, 0.42, is calibrated on the development half of
///    tests/data/chatqna_eval.json (the bundled corpus through the default
///    ChatQnA pipeline): just below the lowest coverage of its in-corpus
///    questions (0.43), so that none of them abstains; the test half then
///    gives the reported figures (BENCHMARKS.md, bench/run_chatqna_eval.sh).
///
/// Without documents, or when no sentence shares a term with the query, it
/// says it found nothing in the indexed documents and what it can do; it never
/// invents text. Deterministic: the same input gives the same answer.
///
/// Thread-safe: stateless; `answer` may be called from any thread.
class extractive_answerer {
 public:
  /// The model name reported in API responses.
  static constexpr const char* model_name = "opea-extractive-answerer";

  /// Default answer length, in words.
  static constexpr size_t default_max_tokens = 128;

  /// Default abstention threshold on `evidence::coverage` (see step 0).
  static constexpr double default_min_coverage = 0.42;

  /// Answers `query` from `documents` (ranked, most relevant first) in at most
  /// `max_tokens` words of quoted text (citations and the sources line are
  /// not counted). `max_tokens` 0 is treated as 1.
  extractive_answer answer(std::string_view query, const std::vector<context_document>& documents,
                           size_t max_tokens = default_max_tokens,
                           double min_coverage = default_min_coverage) const;

  /// How well `documents` support `query` (step 0).
  static evidence weigh_evidence(std::string_view query,
                                 const std::vector<context_document>& documents);

  /// The answer when the documents do not support the question:
  /// "I could not find this in the documents."
  static std::string abstention_answer();

  /// The answer given when there are no documents.
  static std::string no_documents_answer();

  /// The answer given when no sentence of the documents matches the query.
  static std::string no_match_answer();

  /// Splits `text` into sentences as described above (exposed for tests).
  static std::vector<std::string> split_sentences(std::string_view text);

  /// The scoring terms of `text`: lower-cased, stop words removed, suffixes
  /// folded (exposed for tests).
  static std::vector<std::string> terms(std::string_view text);
};

/// Splits `text` into streaming pieces: each piece is a word followed by the
/// white space after it, so the pieces concatenated give `text` back (leading
/// white space, if any, is its own first piece).
std::vector<std::string> split_stream_pieces(std::string_view text);

}  // namespace opea::actors
