#include "nodes/config/cluster_settings.hpp"

namespace opea::nodes {

std::string_view to_string(balance_policy policy) {
  switch (policy) {
    case balance_policy::round_robin:
      return "round_robin";
    case balance_policy::least_outstanding:
      return "least_outstanding";
  }
  return "round_robin";
}

const cluster_member* cluster_settings::find(std::string_view name) const {
  for (const auto& member : members) {
    if (member.name == name) return &member;
  }
  return nullptr;
}

}  // namespace opea::nodes
