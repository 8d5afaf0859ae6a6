#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

namespace opea::nodes {

/// A validated chat request, as OPEA's ChatQnA gateway and OpenAI's
/// `/v1/chat/completions` accept it.
struct chat_request {
  /// The prompt built from `messages` by OPEA's `handle_message` rules (the
  /// conversation): what the LLM answers.
  std::string prompt;
  /// The text of the last user message (all of `messages` when it is a
  /// string; the prompt when there is no user message): what embedding,
  /// retrieval and rerank search with, so that a follow-up question finds
  /// its own documents rather than the first question's.
  std::string query;
  /// The client's `model`, echoed back in OpenAI responses ("" if absent).
  std::string model;
  /// Absent `stream` means streaming on `/v1/chatqna` (OPEA's default) and no
  /// streaming on `/v1/chat/completions` (OpenAI's default).
  bool stream = true;
  /// LLM parameters (OPEA names): max_tokens, temperature, top_p, top_k,
  /// frequency_penalty, presence_penalty, repetition_penalty, chat_template.
  nlohmann::json llm = nlohmann::json::object();
  /// Retriever parameters: search_type, k, distance_threshold, fetch_k,
  /// lambda_mult, score_threshold.
  nlohmann::json retriever = nlohmann::json::object();
  /// Reranker parameters: top_n.
  nlohmann::json reranker = nlohmann::json::object();
};

/// Which API a request came in on; decides defaults and field rules.
enum class chat_api { opea_chatqna, openai };

/// Parses and validates a request body. Errors are runtime::errc::bad_request
/// whose subject names the field (e.g. "messages[1].role") and whose detail
/// says what is wrong: missing or empty `messages`, wrong JSON types, an
/// unknown role, a non-positive max_tokens, an unknown search_type.
[[nodiscard]] caf::expected<chat_request> parse_chat_request(const nlohmann::json& body,
                                                             chat_api api);

/// OPEA's `handle_message`: a string is the prompt as is; for a message list,
/// the system message (if any) comes first followed by a newline, then one
/// line "role: content" per role in order of first appearance, where each role
/// keeps only its LAST message (OPEA keys messages by role); text parts of a
/// multi-part content are joined with newlines.
[[nodiscard]] caf::expected<std::string> prompt_from_messages(const nlohmann::json& messages);

}  // namespace opea::nodes
