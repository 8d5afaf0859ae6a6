#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "actors/docs/opea_docs.hpp"
#include "actors/llm/sse_parser.hpp"
#include "runtime/http/client.hpp"

namespace opea::actors {

/// Token counts of one generation, OpenAI's `usage`.
struct chat_usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t total_tokens = 0;
  /// False when the server sent no usage (the numbers are then zero).
  bool reported = false;
};

/// One chat completion request, in OpenAI's terms.
struct chat_request {
  /// The conversation: an array of {"role", "content"} objects.
  nlohmann::json messages = nlohmann::json::array();
  /// Overrides the backend's model when not empty.
  std::string model;
  /// Optional; absent ones are not sent (server defaults).
  std::optional<int64_t> max_tokens;
  sampling_params sampling;
  /// Time allowed; zero means the backend's `timeout`. For streams: until the
  /// response headers, then the longest silence between two pieces.
  std::chrono::milliseconds timeout{0};
  /// Extra headers, e.g. X-Request-Id and traceparent.
  std::vector<std::pair<std::string, std::string>> headers;
};

/// What a finished generation returns.
struct chat_result {
  /// The generated text (streamed: the pieces concatenated).
  std::string text;
  /// The model that answered, as the server names it (else the requested one).
  std::string model;
  /// choices[0].finish_reason ("stop", "length"), empty if not sent.
  std::string finish_reason;
  chat_usage usage;
};

/// Configuration of an OpenAI-compatible chat backend.
struct openai_chat_config {
  /// Base URL of the server, e.g. "http://vllm:8000". The endpoint is
  /// `{url}/v1/chat/completions`; a URL that already ends with "/v1" gets
  /// "/chat/completions", one that ends with "/chat/completions" is used as is.
  std::string url;
  /// Model name sent as `model`; omitted from the request when empty (TGI and
  /// llama.cpp serve one model and ignore it). Default: "".
  std::string model;
  /// Sent as `Authorization: Bearer <api_key>` when not empty. Default: "".
  std::string api_key;
  /// Deadline of a call (see chat_request::timeout). Default: 120 s.
  std::chrono::milliseconds timeout{120000};
  /// Subject of the errors, the service's name. Default: "llm".
  std::string name = "llm";
};

class openai_chat_backend;

/// Handle of one streamed generation, the cancel hook. `cancel` stops
/// forwarding pieces, completes the generation right away with
/// errc::cancelled "cancelled by client" and aborts the upstream HTTP
/// exchange: its connection is closed at once, so the model server sees the
/// disconnect and can stop generating. A generation that fails before the
/// server ended its stream (an error event, a malformed event) closes the
/// connection the same way.
///
/// Thread-safe: `cancel`, `finished` and `cancelled` may be called from any
/// thread while the HTTP client's I/O thread feeds the stream. `finished_`
/// (atomic) makes `done` run exactly once; a piece being forwarded while
/// another thread cancels may still arrive (stream sinks ignore writes after
/// their own cancel). `upstream_mtx_` protects `upstream_` only; no lock is
/// held while calling back, so a callback may cancel the stream itself.
class chat_stream {
 public:
  using piece_handler = std::function<void(std::string)>;
  using done_handler = std::function<void(caf::expected<chat_result>)>;

  /// Stops the generation (idempotent).
  void cancel();

  /// True once cancelled or finished.
  bool finished() const { return finished_.load(std::memory_order_acquire); }

  /// True once `cancel` was called before the generation finished.
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

 private:
  friend class openai_chat_backend;

  chat_stream(std::string name, std::string url, std::string model, piece_handler on_piece,
              done_handler done);

  // Client callbacks (serialized by the client: one stream, one strand).
  void on_headers(int status, const std::vector<std::pair<std::string, std::string>>& headers);
  void on_bytes(std::string_view bytes);
  void on_end(caf::error err);

  void on_event(const sse_event& ev);
  void forward(std::string piece);
  void complete(caf::expected<chat_result> res);
  /// Completes with `err` before the server ended the stream and closes the
  /// upstream connection: the rest of the stream is of no use.
  void stop(caf::error err);

  /// Stores the client's handle of the exchange (once, right after it
  /// started); aborts it at once if the generation already completed.
  void attach(std::shared_ptr<runtime::http::stream_handle> upstream);
  void abort_upstream();

  const std::string name_;
  const std::string url_;
  std::atomic<bool> finished_{false};
  std::atomic<bool> cancelled_{false};
  piece_handler on_piece_;
  done_handler done_;
  mutable std::mutex upstream_mtx_;
  std::shared_ptr<runtime::http::stream_handle> upstream_;
  // Touched only from client callbacks.
  int status_ = 0;
  bool event_stream_ = false;
  bool saw_done_ = false;
  std::string body_;  // Non-SSE or error bodies.
  sse_parser parser_;
  chat_result result_;
};

/// A chat backend speaking OpenAI's `POST /v1/chat/completions`, as served by
/// vLLM, TGI (Messages API), Ollama and llama.cpp's server. Non-streaming
/// calls parse `choices[0].message.content` and `usage`; streaming calls send
/// `"stream": true` and parse the server-sent events incrementally as bytes
/// arrive, forwarding each `choices[0].delta.content` piece at once.
///
/// Errors are runtime::errc values whose subject is `config.name`:
/// `http_status` (non-2xx, with the server's error message), `bad_response`
/// (not JSON, no content), `service_failed` (an error event in the stream),
/// `cancelled` ("cancelled by client", see `chat_stream::cancel`), and the
/// client's `http_connect` / `http_timeout`.
///
/// Thread-safe: immutable after `make`; calls may be made from any thread.
/// Callbacks run on the HTTP client's I/O thread (or on the thread that
/// cancels a stream) and must not block.
class openai_chat_backend {
 public:
  /// Validates `cfg` (an http:// URL) and builds the backend.
  [[nodiscard]] static caf::expected<std::shared_ptr<const openai_chat_backend>> make(
      openai_chat_config cfg, std::shared_ptr<runtime::http::client> client);

  /// The endpoint URL, e.g. "http://vllm:8000/v1/chat/completions".
  const std::string& endpoint() const { return endpoint_; }

  const openai_chat_config& config() const { return cfg_; }

  /// The JSON body sent for `req`.
  nlohmann::json request_body(const chat_request& req, bool stream) const;

  /// Runs a non-streaming completion; `done` is called once.
  void complete(chat_request req, std::function<void(caf::expected<chat_result>)> done) const;

  /// Runs a streaming completion: `on_piece` for each non-empty content delta
  /// in order, then `done` once with the full result or an error.
  std::shared_ptr<chat_stream> stream(chat_request req, chat_stream::piece_handler on_piece,
                                      chat_stream::done_handler done) const;

  /// Parses a non-streaming response body (exposed for tests). `name` and
  /// `url` only label errors.
  static caf::expected<chat_result> parse_completion(const std::string& body,
                                                     const std::string& name,
                                                     const std::string& url);

 private:
  openai_chat_backend(openai_chat_config cfg, std::string endpoint,
                      std::shared_ptr<runtime::http::client> client);

  runtime::http::client_request http_request(const chat_request& req, bool stream) const;

  openai_chat_config cfg_;
  std::string endpoint_;
  std::shared_ptr<runtime::http::client> client_;
};

}  // namespace opea::actors
