#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "actors/docs/opea_docs.hpp"
#include "actors/llm/extractive_answerer.hpp"
#include "actors/llm/openai_chat_backend.hpp"
#include "runtime/http/fwd.hpp"
#include "runtime/service/micro_service.hpp"
#include "runtime/service/service_catalog.hpp"

namespace opea::actors {

/// Settings of one `llm` service.
struct llm_config {
  /// "extractive" (the built-in answerer) or "openai". Default: "extractive".
  std::string backend = "extractive";
  /// Longest answer: words for the extractive answerer, tokens for a remote
  /// model. A request's max_tokens can lower it, never raise it.
  /// Default: 128 (extractive), 1024 (openai, OPEA's default).
  int64_t max_tokens = 128;
  /// The extractive answerer's abstention threshold (params `abstain_below`):
  /// see extractive_answerer. Default: 0.42; 0 never abstains.
  double abstain_below = extractive_answerer::default_min_coverage;
  /// The remote backend when `backend` is "openai".
  std::shared_ptr<const openai_chat_backend> openai;
};

/// The behavior of the `llm` service actor. It answers (invoke_atom, json_ptr,
/// request_context_ptr) with OPEA's GeneratedDoc plus model and usage:
/// {"text", "prompt": query, "model", "usage": {"prompt_tokens",
/// "completion_tokens", "total_tokens"}}.
///
/// Streaming: when the request has a sink and the input asks for a stream
/// (OPEA's default), the pieces of the answer are written to the sink as they
/// are produced, then the full document is the reply. The extractive answerer
/// writes one word (with the white space after it) per message the actor
/// sends itself, so other actors run between words; the OpenAI backend
/// forwards each content delta as it arrives. When the sink is cancelled the
/// generation stops and the request fails with errc::service_failed "cancelled
/// by client".
///
/// Usage: the extractive answerer counts words (it has no tokenizer): prompt =
/// the query and documents, completion = the answer. A remote backend's usage
/// is the server's; when a stream carries none, completion_tokens is the
/// number of content pieces and prompt_tokens the words of the prompt.
runtime::actor_body llm_actor(llm_config cfg);

/// Builds an `llm` service from built-in parameters:
/// - backend: "extractive" (default) | "openai"
/// - url: base URL of the OpenAI-compatible server (required for openai)
/// - model: model name sent to the server. Default: "" (not sent)
/// - api_key: sent as Authorization: Bearer. Default: "" (none)
/// - max_tokens: positive integer. Default: 128 extractive, 1024 openai
/// - abstain_below: number in [0, 1], extractive only: the answer is "I could
///   not find this in the documents." when less than this share of the
///   question's terms occurs in its documents, no sentence holds two of its
///   terms, or a name it asks about occurs in none (0: never). Default: 0.42
/// - timeout_ms: positive integer, per call (streams: per silence).
///   Default: 120000
/// Unknown parameters are rejected (errc::bad_request naming them).
/// `client` serves the openai backend (one is created when null).
[[nodiscard]] caf::expected<runtime::micro_service> make_llm_service(
    const nlohmann::json& params, std::shared_ptr<runtime::http::client> client);

/// Registers the built-in "llm" (service type llm) in `catalog`.
void register_llm_builtins(runtime::service_catalog& catalog,
                           std::shared_ptr<runtime::http::client> client);

}  // namespace opea::actors
