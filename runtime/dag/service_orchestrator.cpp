#include "runtime/dag/service_orchestrator.hpp"

#include <algorithm>

#include "runtime/errors.hpp"

namespace opea::runtime {

align_result& align_result::set(const std::string& key, json value) {
  if (!patch) patch = json::object();
  (*patch)[key] = std::move(value);
  return *this;
}

align_result& align_result::erase(const std::string& key) {
  return set(key, nullptr);
}

json_ptr apply_patch(const json_ptr& doc, const json& patch) {
  if (!patch.is_object()) return std::make_shared<const json>(patch);
  auto out = std::make_shared<json>(doc && doc->is_object() ? *doc : json::object());
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it->is_null())
      out->erase(it.key());
    else
      (*out)[it.key()] = *it;
  }
  return out;
}

std::optional<size_t> dag::index_of(const std::string& name) const {
  auto i = index_.find(name);
  if (i == index_.end()) return std::nullopt;
  return i->second;
}

service_orchestrator& service_orchestrator::add(micro_service svc) {
  if (svc.name.empty()) throw graph_error("a service needs a non-empty name");
  if (index_.count(svc.name) > 0)
    throw graph_error("service '" + svc.name + "' already exists in the orchestrator");
  index_.emplace(svc.name, services_.size());
  services_.push_back(std::move(svc));
  successors_.emplace_back();
  return *this;
}

const micro_service* service_orchestrator::find(const std::string& name) const {
  auto i = index_.find(name);
  return i == index_.end() ? nullptr : &services_[i->second];
}

std::vector<std::string> service_orchestrator::successors(const std::string& name) const {
  std::vector<std::string> out;
  auto i = index_.find(name);
  if (i == index_.end()) return out;
  for (auto j : successors_[i->second]) out.push_back(services_[j].name);
  return out;
}

bool service_orchestrator::reaches(size_t from, size_t to) const {
  std::vector<bool> seen(services_.size(), false);
  std::vector<size_t> stack{from};
  while (!stack.empty()) {
    auto cur = stack.back();
    stack.pop_back();
    if (cur == to) return true;
    if (seen[cur]) continue;
    seen[cur] = true;
    for (auto next : successors_[cur]) stack.push_back(next);
  }
  return false;
}

service_orchestrator& service_orchestrator::flow_to(const std::string& from,
                                                    const std::string& to) {
  auto f = index_.find(from);
  if (f == index_.end())
    throw graph_error("flow_to(" + from + ", " + to + "): unknown service '" + from + "'");
  auto t = index_.find(to);
  if (t == index_.end())
    throw graph_error("flow_to(" + from + ", " + to + "): unknown service '" + to + "'");
  if (f->second == t->second)
    throw graph_error("flow_to(" + from + ", " + to + "): a service cannot flow to itself");
  auto& succ = successors_[f->second];
  if (std::find(succ.begin(), succ.end(), t->second) != succ.end()) return *this;
  if (reaches(t->second, f->second))
    throw graph_error("flow_to(" + from + ", " + to + "): the edge would create a cycle ('" + to +
                      "' already reaches '" + from + "')");
  succ.push_back(t->second);
  return *this;
}

caf::error service_orchestrator::validate() const {
  if (services_.empty())
    return make_error(errc::invalid_graph, "orchestrator", "the graph has no services");
  return caf::none;
}

std::shared_ptr<const dag> service_orchestrator::compile() const {
  if (auto err = validate()) throw graph_error(describe(err));
  auto g = std::make_shared<dag>();
  auto n = services_.size();
  g->names.reserve(n);
  for (auto& s : services_) g->names.push_back(s.name);
  g->index_ = index_;
  g->successors = successors_;
  g->predecessors.resize(n);
  // Predecessors in add order: walk sources in index order.
  for (size_t i = 0; i < n; ++i)
    for (auto j : successors_[i]) g->predecessors[j].push_back(i);
  for (size_t i = 0; i < n; ++i)
    if (g->predecessors[i].empty()) g->sources.push_back(i);
  return g;
}

}  // namespace opea::runtime
