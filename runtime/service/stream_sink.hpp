#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace opea::runtime {

/// Where a streaming service (an LLM) sends the pieces of its answer as they
/// are produced, so that they reach the client without being buffered whole.
/// The route handler that starts a streaming request creates the sink (it
/// formats pieces as server-sent events for its API) and hands it to the flow
/// in `request_context::sink`; a service streams only when a sink is present
/// and its input asks for streaming. The service still replies with its full
/// output document when done.
///
/// Thread-safe: `write`, `cancel`, `cancelled` and `on_cancel` may be called
/// from any thread; `write` calls from one producer keep their order.
class stream_sink {
 public:
  virtual ~stream_sink() = default;

  /// Sends one piece of generated text (a token or a word with its spacing).
  /// Ignored once cancelled.
  virtual void write(std::string piece) = 0;

  /// Marks the stream cancelled (the client went away) and runs the cancel
  /// callbacks once. Idempotent.
  void cancel();

  /// True once the client went away: producers stop generating.
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  /// Registers `f`, run once on cancel (right away if already cancelled), e.g.
  /// to abort an upstream HTTP stream.
  void on_cancel(std::function<void()> f);

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mtx_;
  std::vector<std::function<void()>> on_cancel_;
};

using stream_sink_ptr = std::shared_ptr<stream_sink>;

}  // namespace opea::runtime
