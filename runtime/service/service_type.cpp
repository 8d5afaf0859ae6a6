#include "runtime/service/service_type.hpp"

#include <array>
#include <cctype>

namespace opea::runtime {

namespace {

constexpr std::array<std::string_view, 28> names = {"gateway",
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
                                                    "text2query"};

}  // namespace

std::string_view to_string(service_type x) {
  auto i = static_cast<size_t>(x);
  return i < names.size() ? names[i] : std::string_view{"undefined"};
}

std::optional<service_type> parse_service_type(std::string_view name) {
  std::string lower;
  lower.reserve(name.size());
  for (char c : name)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == lower) return static_cast<service_type>(i);
  return std::nullopt;
}

std::string_view to_string(service_role x) {
  return x == service_role::megaservice ? "megaservice" : "microservice";
}

}  // namespace opea::runtime
