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

/// Per-orchestrator hooks, OPEA's `align_inputs` / `align_outputs` /
/// `align_generator` (which OPEA keeps as process-global class attributes;
/// here each orchestrator has its own). They run on the flow actor's thread
/// and must not block. An unset hook is the identity.
struct align_hooks {
  /// Rewrites the input of `node` before it is dispatched.
  std::function<json(json inputs, const std::string& node, const request_context& ctx)> inputs;
  /// Rewrites the output of `node` before it is stored and passed downstream.
  std::function<json(json output, const std::string& node, const json& inputs,
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
