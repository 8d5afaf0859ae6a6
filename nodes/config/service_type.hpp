#pragma once

#include <optional>
#include <string_view>

namespace opea::nodes {

/// OPEA's `ServiceType` enum values (GenAIComps comps/cores/mega/constants.py),
/// kept as plain ints so they cross the wire unchanged: GATEWAY = 0 ... TEXT2QUERY = 27.
inline constexpr int service_type_gateway = 0;
inline constexpr int service_type_undefined = 10;
inline constexpr int service_type_max = 27;

/// Lower-case OPEA name of a service type value ("llm" for 4), or "" when the
/// value is outside 0..27.
[[nodiscard]] std::string_view service_type_name(int value);

/// Value of an OPEA service type name, case-insensitive ("LLM", "llm" -> 4;
/// "web_retriever" -> 14). Returns nullopt for an unknown name.
[[nodiscard]] std::optional<int> service_type_from_name(std::string_view name);

}  // namespace opea::nodes
