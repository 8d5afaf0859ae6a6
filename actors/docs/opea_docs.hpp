#pragma once

// OPEA's documents as the built-in microservices and the ChatQnA hooks read
// and write them: one view per document, each with one reader, one writer
// and its passthrough rules. The documents themselves stay JSON (the runtime
// carries json_ptr between services; see runtime/README.md "Documents"), so
// a view reads what it needs from a document and a writer copies the fields
// the next service expects, exactly as OPEA's pydantic models do.
//
//   TextDoc      -> embedding -> EmbedDoc
//   EmbedDoc     -> retriever -> SearchedDoc
//   SearchedDoc  -> reranker  -> LLMParamsDoc (with reranked_docs)
//   LLMParamsDoc | SearchedDoc | ChatCompletionRequest -> llm

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "actors/rerank/reranker.hpp"

namespace opea::runtime {
struct align_result;
}  // namespace opea::runtime

namespace opea::actors {

// -- TextDoc (the embedding service's input) ----------------------------------

/// The texts of one embedding request and whether it was a batch.
struct text_doc {
  std::vector<std::string> texts;
  /// True when the texts came as a list (the answer then holds a list of
  /// vectors), false for a single string.
  bool batch = false;
  /// The field they came from: "text" or "input".
  std::string field;
};

/// Reads a string or a list of strings from `x` (a TextDoc's `text`, an
/// OpenAI embeddings request's `input`), naming `field` in errors ("text",
/// "input[2]"); an empty list is an error unless `allow_empty_list`.
[[nodiscard]] caf::expected<text_doc> read_texts(const nlohmann::json& x, const std::string& field,
                                                 bool allow_empty_list);

/// Reads OPEA's TextDoc `{"text": "..."}` or `{"text": ["...", ...]}`
/// (batch), or OpenAI's `{"input": "..." | ["...", ...]}`; "text" wins when
/// both are present. Errors (errc::bad_request) name the field: "text",
/// "input", "text[2]".
[[nodiscard]] caf::expected<text_doc> read_text_doc(const nlohmann::json& input);

// -- EmbedDoc (embedding -> retriever) ----------------------------------------

/// EmbedDoc's search fields, with OPEA's defaults.
struct search_params {
  /// "similarity", "similarity_distance_threshold",
  /// "similarity_score_threshold" or "mmr". Default: "similarity".
  std::string search_type = "similarity";
  /// Number of results. Default: 4.
  size_t k = 4;
  /// Largest cosine distance (1 - cosine similarity, in [0, 2]) kept by
  /// "similarity_distance_threshold"; required for that search type.
  std::optional<double> distance_threshold;
  /// Smallest score (cosine similarity, in [-1, 1]) kept by
  /// "similarity_score_threshold". Default: 0.2.
  double score_threshold = 0.2;
  /// Nearest neighbours MMR chooses from. Default: 20.
  size_t fetch_k = 20;
  /// MMR trade-off: 1 = pure relevance, 0 = maximal diversity. Default: 0.5.
  double lambda_mult = 0.5;
};

/// What the retriever reads of an EmbedDoc.
struct embed_doc {
  /// The query text.
  std::string text;
  /// The query's vector.
  std::vector<float> embedding;
  search_params search;
};

/// The retriever parameters of an EmbedDoc that the embedding service copies
/// from its input to its output when present: search_type, k,
/// distance_threshold, fetch_k, lambda_mult, score_threshold, constraints,
/// index_name, downstream_black_list.
const std::vector<std::string>& embed_doc_passthrough_fields();

/// The EmbedDoc for the TextDoc `input`: `{"text": <the input's text or
/// input, as given>, "embedding": [...]}` (a list of vectors for a batch),
/// plus the passthrough fields present in `input`. Absent fields are not
/// filled with OPEA's defaults: `read_embed_doc` applies them.
/// errc::service_failed if `vectors` does not hold one vector per text (a
/// broken embedder).
[[nodiscard]] caf::expected<nlohmann::json> write_embed_doc(
    const nlohmann::json& input, const text_doc& doc,
    const std::vector<std::vector<float>>& vectors);

/// Reads EmbedDoc's search fields, with OPEA's defaults (a JSON null means
/// the default). A field of the wrong type is errc::bad_request naming it.
[[nodiscard]] caf::expected<search_params> read_search_params(const nlohmann::json& input);

/// Reads an EmbedDoc: `text` (string, required), `embedding` (a non-empty
/// array of finite numbers; one vector wrapped in an array, as TEI's /embed
/// answers, is accepted) and the search fields (`read_search_params`).
/// Errors are errc::bad_request naming the field.
[[nodiscard]] caf::expected<embed_doc> read_embed_doc(const nlohmann::json& input);

// -- SearchedDoc (retriever -> reranker or llm) -------------------------------

/// The SearchedDoc of the EmbedDoc `input` and its search results:
/// `{"initial_query": doc.text, "retrieved_docs": retrieved_docs}` plus every
/// input field the retriever does not consume (the rerank and LLM parameters:
/// top_n, max_tokens, temperature, stream, ...); EmbedDoc's own fields (text,
/// embedding, the search fields, constraints, index_name) are not copied.
[[nodiscard]] nlohmann::json write_searched_doc(const nlohmann::json& input, const embed_doc& doc,
                                                nlohmann::json retrieved_docs);

/// What the reranker reads of a SearchedDoc.
struct searched_doc {
  std::string initial_query;
  /// The retrieved documents, as given (objects with at least "text").
  std::vector<nlohmann::json> docs;
  /// Their texts, in the same order.
  std::vector<std::string> texts;
  size_t top_n = 0;
};

/// Reads a SearchedDoc: `initial_query` (string, required), `retrieved_docs`
/// (list of objects with a string `text`, required, may be empty), `top_n`
/// (positive integer, `default_top_n` when absent). Errors are
/// errc::bad_request naming the field ("retrieved_docs[1].text").
[[nodiscard]] caf::expected<searched_doc> read_searched_doc(const nlohmann::json& input,
                                                            size_t default_top_n);

// -- LLMParamsDoc (reranker -> llm) -------------------------------------------

/// LLM parameters of OPEA's LLMParamsDoc copied from a SearchedDoc to the
/// reranker's output when present: model, max_tokens, max_new_tokens, top_k,
/// top_p, typical_p, temperature, frequency_penalty, presence_penalty,
/// repetition_penalty, stream, streaming, language, chat_template,
/// input_guardrail_params, output_guardrail_params, downstream_black_list.
const std::vector<std::string>& llm_params_passthrough_fields();

/// The reranker's answer, shaped as OPEA's LLMParamsDoc (what its reranking
/// microservice returns for a SearchedDoc) plus the scores: `{"query":
/// initial_query, "documents": [text, ...], "reranked_docs": [{...the
/// retrieved doc..., "score": s}, ...]}` with the best `top_n` documents,
/// best first, plus the passthrough fields present in `input`. `scores` are
/// the reranker's answer (sorted, indices into doc.docs).
[[nodiscard]] nlohmann::json write_llm_params_doc(const nlohmann::json& input,
                                                  const searched_doc& doc,
                                                  const std::vector<scored_text>& scores);

/// The sampling parameters of LLMParamsDoc that OpenAI's chat completions
/// take too; absent ones are not sent (the server's defaults apply).
struct sampling_params {
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<double> frequency_penalty;
  std::optional<double> presence_penalty;
};

/// Sets the present fields of `p` on the JSON object `body` (OpenAI's names).
void write_sampling_params(const sampling_params& p, nlohmann::json& body);

/// A document the LLM answers from, with the source it cites.
struct context_document {
  std::string text;
  /// Name shown in the "Sources:" line. Documents with the same source (chunks
  /// of one file) share one citation number.
  std::string source;
};

/// What the `llm` service reads of OPEA's LLMParamsDoc (or of a
/// ChatCompletionRequest, or of a SearchedDoc when the retriever feeds the
/// LLM directly).
struct llm_params {
  /// LLMParamsDoc.query; else the last "user" message of `messages` (or
  /// `messages` itself when it is a string); else SearchedDoc.initial_query.
  std::string query;
  /// The question alone when `query` is a whole conversation (ChatQnA sets
  /// "question" to the last user message next to OPEA's prompt in "query");
  /// else `query`. The extractive answerer answers and weighs evidence
  /// against it.
  std::string question;
  /// `reranked_docs` (objects with "text" and "metadata", as the rerank
  /// service sends them next to the bare texts of `documents`); else
  /// `retrieved_docs`; else `documents` (strings, or objects with "text").
  std::vector<context_document> documents;
  /// `max_tokens`, else `max_new_tokens`; must be positive.
  std::optional<int64_t> max_tokens;
  /// temperature, top_p, frequency_penalty, presence_penalty: numbers.
  sampling_params sampling;
  /// `stream`, else the legacy `streaming`. Default: true (OPEA's default).
  bool stream = true;
  /// Prompt template with {context} and/or {question}. Default: none.
  std::string chat_template;
  /// The model asked for (OpenAI backend). Default: the service's model.
  std::string model;
  /// `messages` when it is an array (a chat conversation), else null.
  nlohmann::json messages;
};

/// Reads and validates an llm input document; errors are errc::bad_request
/// naming the field. A document's source (for citations) is the first string
/// among metadata.source, metadata.file_name, metadata.filename,
/// metadata.title, title, source; else "document <n>" (1-based position).
[[nodiscard]] caf::expected<llm_params> read_llm_params(const nlohmann::json& in);

/// What OPEA's ChatQnA gateway adds to a SearchedDoc that goes to an LLM
/// service without a reranker between them, so that an LLM that reads only
/// LLMParamsDoc (an OPEA Python llm microservice) gets its fields: `documents`
/// (the texts of `retrieved_docs`) unless present, `query` (=
/// `initial_query`) unless present. Sets them on `patch`; nothing for a
/// document that has them or is no SearchedDoc.
void searched_to_llm_params(const nlohmann::json& in, runtime::align_result& patch);

}  // namespace opea::actors
