#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace opea::actors {

/// OPEA's default RAG prompt (GenAIExamples ChatQnA `ChatTemplate.
/// generate_rag_prompt`, also GenAIComps `comps/llms/.../template.py`): the
/// documents joined with '\n' as {context}. The English template is
///
///     \n### You are a helpful, respectful and honest assistant to help the user
///     with questions. Please refer to the search results obtained from the local
///     knowledge base. But be careful to not incorporate the information that you
///     think is not relevant to the question. If you don't know the answer to a
///     question, please don't share false information. \n\n### Search results:
///     {context} \n\n### Question: {question} \n\n### Answer:\n
///
/// (one line up to "information. ", as OPEA's line continuations make it);
/// OPEA's Chinese template is used when at least 30% of the context's code
/// points are CJK ideographs (U+4E00..U+9FFF), and its Llama-3.1 template when
/// `model` is meta-llama/Meta-Llama-3.1-8B-Instruct or -70B-Instruct.
std::string default_rag_prompt(std::string_view question, const std::vector<std::string>& documents,
                               std::string_view model = {});

/// The prompt OPEA's LLM microservice builds from LLMParamsDoc (GenAIComps
/// `OpeaLLM.align_input`): with a `chat_template` whose variables are exactly
/// {context} and {question}, both are filled (context = documents joined with
/// '\n'); with only {question}, the question is filled; a template with other
/// variables is ignored and the bare question is sent, as in OPEA. Without a
/// template: the default RAG prompt when there are documents, else the bare
/// question. Templates use
/// Python's str.format syntax ("{{" and "}}" are literal braces).
std::string build_llm_prompt(std::string_view question, const std::vector<std::string>& documents,
                             std::string_view chat_template, std::string_view model = {});

/// The variable names of a str.format template, sorted and unique; e.g.
/// {"context", "question"}.
std::vector<std::string> template_variables(std::string_view tmpl);

}  // namespace opea::actors
