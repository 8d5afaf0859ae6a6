#include "nodes/config/service_type.hpp"

#include <array>
#include <cctype>

namespace opea::nodes {

namespace {

// Index = OPEA ServiceType value; names as in GenAIComps constants.py, lower-cased.
constexpr std::array<std::string_view, service_type_max + 1> names = {
    "gateway",
    "embedding",
    "retriever",
    "rerank",
    "llm",
    "asr",
    "tts",
    "guardrail",
    "vectorstore",
    "dataprep",
    "undefined",
    "ragas",
    "lvm",
    "knowledge_graph",
    "web_retriever",
    "image2video",
    "text2image",
    "animation",
    "image2image",
    "text2sql",
    "text2graph",
    "text2cypher",
    "text2kg",
    "struct2graph",
    "language_detection",
    "prompt_template",
    "prompt_registry",
    "text2query",
};

}  // namespace

std::string_view service_type_name(int value) {
  if (value < 0 || value > service_type_max) return {};
  return names[static_cast<std::size_t>(value)];
}

std::optional<int> service_type_from_name(std::string_view name) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::string_view candidate = names[i];
    if (candidate.size() != name.size()) continue;
    bool same = true;
    for (std::size_t j = 0; j < name.size() && same; ++j) {
      same = std::tolower(static_cast<unsigned char>(name[j])) == candidate[j];
    }
    if (same) return static_cast<int>(i);
  }
  return std::nullopt;
}

}  // namespace opea::nodes
