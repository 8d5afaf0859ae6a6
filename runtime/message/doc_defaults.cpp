#include "runtime/message/doc_defaults.hpp"

namespace opea::runtime {

// Each OPEA_DEFAULT line mirrors one field default of GenAIComps, so a reviewer
// can check them side by side.
#define OPEA_DEFAULT(msg, field, value)                 \
  do {                                                  \
    if (!(msg).has_##field()) (msg).set_##field(value); \
  } while (false)

void apply_opea_defaults(v1::EmbedDoc& doc) {
  OPEA_DEFAULT(doc, search_type, "similarity");
  OPEA_DEFAULT(doc, k, 4);
  OPEA_DEFAULT(doc, fetch_k, 20);
  OPEA_DEFAULT(doc, lambda_mult, 0.5);
  OPEA_DEFAULT(doc, score_threshold, 0.2);
}

void apply_opea_defaults(v1::SearchedDoc& doc) {
  OPEA_DEFAULT(doc, top_n, 1);
}

void apply_opea_defaults(v1::LLMParamsDoc& doc) {
  OPEA_DEFAULT(doc, max_tokens, 1024);
  OPEA_DEFAULT(doc, max_new_tokens, 1024);
  OPEA_DEFAULT(doc, top_k, 10);
  OPEA_DEFAULT(doc, top_p, 0.95);
  OPEA_DEFAULT(doc, typical_p, 0.95);
  OPEA_DEFAULT(doc, temperature, 0.01);
  OPEA_DEFAULT(doc, frequency_penalty, 0.0);
  OPEA_DEFAULT(doc, presence_penalty, 0.0);
  OPEA_DEFAULT(doc, repetition_penalty, 1.03);
  OPEA_DEFAULT(doc, stream, doc.has_streaming() ? doc.streaming() : true);
  OPEA_DEFAULT(doc, language, "auto");
}

void apply_opea_defaults(v1::ChatCompletionRequest& request) {
  if (request.modalities_size() == 0) request.add_modalities("text");
  OPEA_DEFAULT(request, frequency_penalty, 0.0);
  OPEA_DEFAULT(request, logprobs, false);
  OPEA_DEFAULT(request, top_logprobs, 0);
  OPEA_DEFAULT(request, max_tokens, 1024);
  OPEA_DEFAULT(request, n, 1);
  OPEA_DEFAULT(request, presence_penalty, 0.0);
  OPEA_DEFAULT(request, stream, false);
  OPEA_DEFAULT(request, temperature, 0.01);
  if (!request.has_tool_choice()) request.mutable_tool_choice()->set_string_value("none");
  OPEA_DEFAULT(request, parallel_tool_calls, true);
  OPEA_DEFAULT(request, language, "auto");
  OPEA_DEFAULT(request, best_of, 1);
  OPEA_DEFAULT(request, repetition_penalty, 1.0);
  OPEA_DEFAULT(request, echo, false);
  OPEA_DEFAULT(request, add_generation_prompt, true);
  OPEA_DEFAULT(request, add_special_tokens, false);
  OPEA_DEFAULT(request, encoding_format, "float");
  OPEA_DEFAULT(request, search_type, "similarity");
  OPEA_DEFAULT(request, k, 4);
  OPEA_DEFAULT(request, fetch_k, 20);
  OPEA_DEFAULT(request, lambda_mult, 0.5);
  OPEA_DEFAULT(request, score_threshold, 0.2);
  OPEA_DEFAULT(request, top_n, 1);
  OPEA_DEFAULT(request, request_type, "chat");
}

#undef OPEA_DEFAULT

}  // namespace opea::runtime
