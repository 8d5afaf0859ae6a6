#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/service/stream_sink.hpp"

namespace opea::runtime {

using clock_type = std::chrono::steady_clock;

/// What travels with every hop of one request: its id, the W3C trace context,
/// its deadline and the caller's identity. Immutable once the flow starts and
/// shared between actors as `std::shared_ptr<const request_context>`.
struct request_context {
  /// Unique id of the request (the client's `X-Request-Id`, or generated).
  std::string request_id;
  /// W3C `traceparent` (version-traceid-parentid-flags), generated if absent.
  std::string traceparent;
  /// W3C `tracestate`, passed through unchanged.
  std::string tracestate;
  /// The authenticated caller (subject), empty when anonymous.
  std::string principal;
  /// Past this instant no node of the flow is dispatched. Default: max (none).
  clock_type::time_point deadline = clock_type::time_point::max();
  /// Set when the client asked for a streamed answer: streaming services
  /// write their pieces here. Null otherwise.
  stream_sink_ptr sink;
  /// Tripped when the request's answer is no longer wanted (the client left,
  /// its flow failed, a remote caller cancelled): flows and proxies stop the
  /// work they started for it. Null: not cancellable (the megaservice uses
  /// `sink` when set).
  cancellation_ptr cancel;
  /// Per-request parameters for the align hooks, like the llm_parameters /
  /// retriever_parameters / reranker_parameters OPEA passes to its hooks as
  /// keyword arguments. Null when the route has none.
  std::shared_ptr<const nlohmann::json> params;

  /// Time left before the deadline; zero when expired.
  std::chrono::nanoseconds remaining(clock_type::time_point now = clock_type::now()) const {
    return deadline > now ? deadline - now : std::chrono::nanoseconds{0};
  }
  bool expired(clock_type::time_point now = clock_type::now()) const { return now >= deadline; }
};

using request_context_ptr = std::shared_ptr<const request_context>;

/// A random 128-bit id as 32 lower-case hex digits (thread-safe).
std::string make_request_id();

/// A fresh W3C traceparent, "00-<32 hex>-<16 hex>-01".
std::string make_traceparent();

/// True if `s` is a well-formed W3C traceparent (version 00).
bool is_valid_traceparent(const std::string& s);

}  // namespace opea::runtime
