#pragma once

#include <memory>

#include "nodes/chatqna/chat_request.hpp"
#include "runtime/dag/service_orchestrator.hpp"
#include "runtime/http/server.hpp"
#include "runtime/megaservice/megaservice.hpp"

namespace opea::nodes {

/// Sets OPEA ChatQnA's align hooks on `o`, chosen by service type as OPEA's
/// chatqna.py does:
/// - retriever: the request's retriever parameters join its input; when it
///   found no documents, its edges to rerank services are pruned (the LLM then
///   answers from the question alone, through the direct retriever -> llm
///   edge); when it found some and a rerank follows, the direct edges to LLM
///   services are pruned instead;
/// - rerank: the request's reranker parameters (top_n) join its input;
/// - llm: the request's LLM parameters (max_tokens, temperature, stream, ...)
///   join its input; a retriever's output (initial_query, retrieved_docs) is
///   turned into the LLM's (query, documents).
/// Any hook set before is replaced.
void set_chatqna_hooks(runtime::service_orchestrator& o);

/// The handler of a ChatQnA route running its flows on `run` (a
/// megaservice's runner): OPEA's `POST /v1/chatqna`
/// (api opea_chatqna: streaming unless "stream": false, events `data: b'...'`,
/// non-streaming ChatCompletionResponse with model "chatqna") or OpenAI's
/// `POST /v1/chat/completions` (api openai: exact chat.completion and
/// chat.completion.chunk shapes, ending with `data: [DONE]`). Tokens reach the
/// client as the LLM produces them; a client that disconnects cancels the
/// LLM's work through the request's stream sink.
runtime::http::handler chatqna_handler(runtime::flow_runner run, chat_api api);

}  // namespace opea::nodes
