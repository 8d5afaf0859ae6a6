#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace opea::runtime {

/// OPEA's ServiceType (GenAIComps comps/cores/mega/constants.py), same values.
enum class service_type : int {
  gateway = 0,
  embedding = 1,
  retriever = 2,
  rerank = 3,
  llm = 4,
  asr = 5,
  tts = 6,
  guardrail = 7,
  vectorstore = 8,
  dataprep = 9,
  undefined = 10,
  ragas = 11,
  lvm = 12,
  knowledge_graph = 13,
  web_retriever = 14,
  image2video = 15,
  text2image = 16,
  animation = 17,
  image2image = 18,
  text2sql = 19,
  text2graph = 20,
  text2cypher = 21,
  text2kg = 22,
  struct2graph = 23,
  language_detection = 24,
  prompt_template = 25,
  prompt_registry = 26,
  text2query = 27,
};

/// OPEA's ServiceRoleType.
enum class service_role : int { microservice = 0, megaservice = 1 };

/// Lower-case OPEA name, e.g. "embedding", "knowledge_graph".
std::string_view to_string(service_type x);

/// Parses an OPEA name, case-insensitive ("LLM", "llm"); nullopt if unknown.
std::optional<service_type> parse_service_type(std::string_view name);

std::string_view to_string(service_role x);

}  // namespace opea::runtime
