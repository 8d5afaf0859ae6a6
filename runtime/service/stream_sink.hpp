#pragma once

#include <memory>
#include <string>

#include "runtime/service/cancellation.hpp"

namespace opea::runtime {

/// Where a streaming service (an LLM) sends the pieces of its answer as they
/// are produced, so that they reach the client without being buffered whole.
/// The route handler that starts a streaming request creates the sink (it
/// formats pieces as server-sent events for its API) and hands it to the flow
/// in `request_context::sink`; a service streams only when a sink is present
/// and its input asks for streaming. The service still replies with its full
/// output document when done. A sink is its request's cancellation: the
/// client leaving cancels it (and the flow, which uses it as
/// `request_context::cancel` when the route set none).
///
/// Thread-safe: `write` and the cancellation's members may be called from
/// any thread; `write` calls from one producer keep their order.
class stream_sink : public cancellation {
 public:
  /// Sends one piece of generated text (a token or a word with its spacing).
  /// Ignored once cancelled.
  virtual void write(std::string piece) = 0;
};

using stream_sink_ptr = std::shared_ptr<stream_sink>;

}  // namespace opea::runtime
