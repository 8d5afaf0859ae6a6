#pragma once

#include "opea/v1/chat.pb.h"
#include "opea/v1/docs.pb.h"

namespace opea::runtime {

/// proto3 cannot declare OPEA's non-zero defaults (k = 4, stream = true, ...),
/// so opea/v1 keeps every scalar `optional` and the codec never invents
/// values (a JSON round trip stays lossless). A consumer that needs the
/// effective parameters calls `apply_opea_defaults`: it sets each field that
/// is absent and has a non-None default in GenAIComps (docarray.py,
/// api_protocol.py) to that default, and leaves present fields and
/// None-defaulted fields alone. Idempotent.

/// EmbedDoc: search_type "similarity", k 4, fetch_k 20, lambda_mult 0.5,
/// score_threshold 0.2.
void apply_opea_defaults(v1::EmbedDoc& doc);

/// SearchedDoc: top_n 1.
void apply_opea_defaults(v1::SearchedDoc& doc);

/// LLMParamsDoc: max_tokens 1024, max_new_tokens 1024, top_k 10, top_p 0.95,
/// typical_p 0.95, temperature 0.01, frequency_penalty 0, presence_penalty 0,
/// repetition_penalty 1.03, language "auto", and stream = the legacy
/// `streaming` if that is set, else true.
void apply_opea_defaults(v1::LLMParamsDoc& doc);

/// ChatCompletionRequest: modalities ["text"], frequency_penalty 0,
/// logprobs false, top_logprobs 0, max_tokens 1024, n 1, presence_penalty 0,
/// stream false, temperature 0.01, tool_choice "none", parallel_tool_calls
/// true, language "auto", best_of 1, repetition_penalty 1.0, echo false,
/// add_generation_prompt true, add_special_tokens false, encoding_format
/// "float", search_type "similarity", k 4, fetch_k 20, lambda_mult 0.5,
/// score_threshold 0.2, top_n 1, request_type "chat".
void apply_opea_defaults(v1::ChatCompletionRequest& request);

}  // namespace opea::runtime
