#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "runtime/dag/service_orchestrator.hpp"

namespace opea::runtime {

/// The scheduling state of one request over a `dag`: which nodes are ready,
/// running, done or skipped, and which edges this request pruned through
/// `downstream_black_list`. A plain class (no actors, no clock), so the
/// scheduling rules are unit-tested directly; the flow actor drives it.
///
/// Rules (OPEA's `ServiceOrchestrator.schedule`, made total):
/// - the sources are ready at start and receive the request input;
/// - a node whose predecessors are all resolved (done or skipped) is ready if
///   at least one edge into it is live and comes from a done node; its input is
///   the outputs of those predecessors merged in add order (later keys win);
///   otherwise it is skipped, which resolves it for its own successors;
/// - an output carrying `downstream_black_list` (regexes, searched in node
///   names as Python's re.findall does) deletes the matching outgoing edges
///   for this request only; so does an align_outputs hook, by node index.
///
/// Not thread-safe: owned by one flow actor.
class flow_state {
 public:
  enum class node_state : uint8_t { pending, running, done, skipped };

  explicit flow_state(std::shared_ptr<const dag> graph);

  /// The sources, marked running. Call once.
  std::vector<size_t> start();

  /// Records the output of node `i` (which must be running), prunes its edges
  /// to the successors in `pruned` (graph indices; others are ignored) and
  /// those its black list matches, and returns the nodes that became ready,
  /// marked running, in index order. An invalid regex in the black list is an
  /// error (bad_response naming the node and pattern). Each pattern is
  /// compiled once per thread (a bounded cache), not once per request.
  [[nodiscard]] caf::expected<std::vector<size_t>> complete(size_t i, json_ptr output,
                                                            const std::vector<size_t>& pruned = {});

  /// The input of a ready node: the request input for sources, else the merged
  /// outputs of its live, done predecessors. Merging non-object outputs of
  /// several predecessors is an error (bad_response naming them).
  [[nodiscard]] caf::expected<json_ptr> input_of(size_t i, const json_ptr& request_input) const;

  /// True when no node runs and none can become ready.
  bool finished() const { return running_ == 0; }

  /// Executed nodes none of whose live successors executed, in index order.
  std::vector<size_t> leaves_reached() const;

  /// The response contract: the output of the only leaf reached, or an object
  /// keyed by service name when several were reached.
  json_ptr final_output() const;

  node_state state(size_t i) const { return states_[i]; }
  const json_ptr& output(size_t i) const { return outputs_[i]; }
  const dag& graph() const { return *graph_; }

 private:
  bool edge_live(size_t from, size_t to) const;
  void resolve(size_t i, std::vector<size_t>& ready);

  std::shared_ptr<const dag> graph_;
  std::vector<node_state> states_;
  std::vector<json_ptr> outputs_;
  /// Unresolved predecessors per node.
  std::vector<size_t> waiting_;
  /// pruned_[i]: successors of i removed by i's black list (small; linear scan).
  std::vector<std::vector<size_t>> pruned_;
  size_t running_ = 0;
};

}  // namespace opea::runtime
