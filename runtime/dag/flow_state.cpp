#include "runtime/dag/flow_state.hpp"

#include <algorithm>
#include <regex>
#include <unordered_map>

#include "runtime/errors.hpp"

namespace opea::runtime {

flow_state::flow_state(std::shared_ptr<const dag> graph)
    : graph_(std::move(graph)),
      states_(graph_->size(), node_state::pending),
      outputs_(graph_->size()),
      waiting_(graph_->size()),
      pruned_(graph_->size()) {
  for (size_t i = 0; i < graph_->size(); ++i) waiting_[i] = graph_->predecessors[i].size();
}

std::vector<size_t> flow_state::start() {
  std::vector<size_t> ready = graph_->sources;
  for (auto i : ready) states_[i] = node_state::running;
  running_ = ready.size();
  return ready;
}

bool flow_state::edge_live(size_t from, size_t to) const {
  const auto& p = pruned_[from];
  return std::find(p.begin(), p.end(), to) == p.end();
}

void flow_state::resolve(size_t i, std::vector<size_t>& ready) {
  // Node i just became done or skipped: each successor loses one waiting edge.
  for (auto j : graph_->successors[i]) {
    if (--waiting_[j] > 0) continue;
    bool fed = false;
    for (auto p : graph_->predecessors[j])
      if (states_[p] == node_state::done && edge_live(p, j)) fed = true;
    if (fed) {
      states_[j] = node_state::running;
      ++running_;
      ready.push_back(j);
    } else {
      states_[j] = node_state::skipped;
      resolve(j, ready);
    }
  }
}

namespace {

/// The compiled form of a black-list pattern: compiled once per thread and
/// pattern (the cache is dropped whole when it holds too many, so patterns
/// made up per request cannot grow it without bound).
caf::expected<const std::regex*> compiled(const std::string& pattern) {
  thread_local std::unordered_map<std::string, std::regex> cache;
  auto it = cache.find(pattern);
  if (it != cache.end()) return &it->second;
  if (cache.size() >= 256) cache.clear();
  try {
    return &cache.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first->second;
  } catch (const std::regex_error& e) {
    return make_error(errc::bad_response, "", e.what());
  }
}

}  // namespace

caf::expected<std::vector<size_t>> flow_state::complete(size_t i, json_ptr output,
                                                        const std::vector<size_t>& pruned) {
  states_[i] = node_state::done;
  --running_;
  outputs_[i] = std::move(output);
  for (auto j : pruned) {
    const auto& next = graph_->successors[i];
    if (std::find(next.begin(), next.end(), j) != next.end() && edge_live(i, j))
      pruned_[i].push_back(j);
  }
  const auto& out = *outputs_[i];
  if (out.is_object()) {
    auto bl = out.find("downstream_black_list");
    if (bl != out.end() && bl->is_array()) {
      for (const auto& pattern : *bl) {
        if (!pattern.is_string())
          return make_error(errc::bad_response, graph_->names[i],
                            "downstream_black_list holds a non-string entry " + pattern.dump());
        auto re = compiled(pattern.get_ref<const std::string&>());
        if (!re)
          return make_error(errc::bad_response, graph_->names[i],
                            "downstream_black_list pattern " + pattern.dump() +
                                " is not a valid regex: " + detail_of(re.error()));
        for (auto j : graph_->successors[i])
          if (edge_live(i, j) && std::regex_search(graph_->names[j], **re)) pruned_[i].push_back(j);
      }
    }
  }
  std::vector<size_t> ready;
  resolve(i, ready);
  std::sort(ready.begin(), ready.end());
  return ready;
}

caf::expected<json_ptr> flow_state::input_of(size_t i, const json_ptr& request_input) const {
  const auto& preds = graph_->predecessors[i];
  if (preds.empty()) return request_input;
  std::vector<size_t> feeding;
  for (auto p : preds)
    if (states_[p] == node_state::done && edge_live(p, i)) feeding.push_back(p);
  if (feeding.size() == 1) return outputs_[feeding.front()];
  auto merged = std::make_shared<json>(json::object());
  for (auto p : feeding) {
    const auto& out = *outputs_[p];
    if (!out.is_object())
      return make_error(errc::bad_response, graph_->names[p],
                        "output is not a JSON object and cannot be merged into the input of '" +
                            graph_->names[i] + "'");
    for (auto it = out.begin(); it != out.end(); ++it) (*merged)[it.key()] = it.value();
  }
  return json_ptr{std::move(merged)};
}

std::vector<size_t> flow_state::leaves_reached() const {
  std::vector<size_t> leaves;
  for (size_t i = 0; i < states_.size(); ++i) {
    if (states_[i] != node_state::done) continue;
    bool continued = false;
    for (auto j : graph_->successors[i])
      if (states_[j] == node_state::done && edge_live(i, j)) continued = true;
    if (!continued) leaves.push_back(i);
  }
  return leaves;
}

json_ptr flow_state::final_output() const {
  auto leaves = leaves_reached();
  if (leaves.size() == 1) return outputs_[leaves.front()];
  auto result = std::make_shared<json>(json::object());
  for (auto i : leaves) (*result)[graph_->names[i]] = *outputs_[i];
  return result;
}

}  // namespace opea::runtime
