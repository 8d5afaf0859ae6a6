#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/error.hpp>

#include "runtime/service/micro_service.hpp"

namespace opea::runtime {

/// Thrown while building a graph (start-up configuration): duplicate or
/// unknown service, cycle, self-loop, empty graph. what() names the culprit.
class graph_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The node a hook runs for: its index in the graph (add order, as
/// `service_orchestrator::services()` and `dag::names`) and its name.
struct align_node {
  size_t index;
  const std::string& name;
};

/// What an align_inputs / align_outputs hook makes of a document. An empty
/// result leaves the document as it is: it goes on without being copied.
struct align_result {
  /// Keys to set on the document, as a top-level JSON merge patch (RFC 7386):
  /// each key replaces the document's, a null value deletes it. A document
  /// that is not an object is replaced by the patch (its nulls dropped).
  /// Applied to a copy: the shared document is never changed.
  std::optional<json> patch;
  /// align_outputs only: successors of the node, by graph index, whose edges
  /// this request does not follow (the runtime's own pruning; a service's
  /// `downstream_black_list` of regexes keeps working). Other indices are
  /// ignored.
  std::vector<size_t> pruned;

  /// Sets `key` in the patch (made an object when empty).
  align_result& set(const std::string& key, json value);
  /// Deletes `key` from the document (a null in the patch).
  align_result& erase(const std::string& key);
};

/// Applies `patch` to `doc` as align_result::patch says; returns a new
/// document (the input is never changed).
json_ptr apply_patch(const json_ptr& doc, const json& patch);

/// Per-orchestrator hooks, OPEA's `align_inputs` / `align_outputs` /
/// `align_generator` (which OPEA keeps as process-global class attributes;
/// here each orchestrator has its own). They run on the flow actor's thread
/// and must not block. An unset hook leaves every document as it is. The
/// input and output hooks read the document by reference and return what to
/// change, so a document no hook changes is never copied.
struct align_hooks {
  /// What to change in the input of `node` before it is dispatched.
  std::function<align_result(const json& inputs, const align_node& node,
                             const request_context& ctx)>
      inputs;
  /// What to change in the output of `node` (called with the input it was
  /// given) before it is stored and passed downstream, and which of its
  /// edges to prune for this request.
  std::function<align_result(const json& output, const align_node& node, const json& inputs,
                             const request_context& ctx)>
      outputs;
  /// Rewrites each piece a streaming service writes to the request's sink
  /// (`request_context::sink`) before it reaches the client; an empty result
  /// drops the piece. Unlike the other hooks it runs on the producing
  /// service's thread (possibly an HTTP client I/O thread), so it must be
  /// thread-safe and must not block.
  std::function<std::string(std::string chunk, const request_context& ctx)> generator;
};

/// The validated, immutable form of a graph, shared by all flows of a
/// megaservice. Nodes are numbered in the order they were added.
struct dag {
  std::vector<std::string> names;
  /// successors[i]: targets of i's edges, in flow_to order.
  std::vector<std::vector<size_t>> successors;
  /// predecessors[i]: sources of edges into i, in add order (OPEA's merge order).
  std::vector<std::vector<size_t>> predecessors;
  /// Nodes without predecessors, in add order: they receive the request input.
  std::vector<size_t> sources;

  std::optional<size_t> index_of(const std::string& name) const;
  size_t size() const { return names.size(); }

 private:
  friend class service_orchestrator;
  std::unordered_map<std::string, size_t> index_;
};

/// OPEA's ServiceOrchestrator: collects microservices and the edges between
/// them, and validates the graph. Building is start-up configuration, so
/// errors throw `graph_error` (caught once by the caller, as in OPEA).
class service_orchestrator {
 public:
  /// Adds a service; chainable. A duplicate or empty name throws.
  service_orchestrator& add(micro_service svc);

  /// Adds the edge from -> to; chainable. Unknown names, self-loops and edges
  /// that would close a cycle throw (the graph is left unchanged). Adding an
  /// existing edge again is a no-op.
  service_orchestrator& flow_to(const std::string& from, const std::string& to);
  service_orchestrator& flow_to(const micro_service& from, const micro_service& to) {
    return flow_to(from.name, to.name);
  }

  void set_align_inputs(decltype(align_hooks::inputs) f) { hooks_.inputs = std::move(f); }
  void set_align_outputs(decltype(align_hooks::outputs) f) { hooks_.outputs = std::move(f); }
  void set_align_generator(decltype(align_hooks::generator) f) { hooks_.generator = std::move(f); }
  const align_hooks& hooks() const { return hooks_; }

  /// The services, in add order.
  const std::vector<micro_service>& services() const { return services_; }
  const micro_service* find(const std::string& name) const;

  /// Names of the services `name` flows to, in flow_to order (empty if unknown).
  std::vector<std::string> successors(const std::string& name) const;

  /// Checks the graph can serve (at least one service). Default-constructed
  /// error on success.
  [[nodiscard]] caf::error validate() const;

  /// The immutable graph; throws graph_error when validate() fails.
  std::shared_ptr<const dag> compile() const;

 private:
  bool reaches(size_t from, size_t to) const;

  std::vector<micro_service> services_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<std::vector<size_t>> successors_;
  align_hooks hooks_;
};

}  // namespace opea::runtime
