#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "actors/embedding/embedder.hpp"
#include "runtime/http/fwd.hpp"

namespace opea::actors {

/// Where and how a remote embedding backend is called.
struct remote_embedder_config {
  /// Base URL, e.g. "http://tei:8080" (a trailing '/' is ignored; a path
  /// prefix is kept: "http://gw/tei" posts to "http://gw/tei/embed").
  std::string url;
  /// Model name: sent to OpenAI-compatible servers (required there) and
  /// reported by `model()`. Default for TEI when empty: "tei".
  std::string model;
  /// OpenAI only: sent as `Authorization: Bearer <api_key>` when not empty.
  std::string api_key;
  /// Deadline of one HTTP exchange. Default: 30 s.
  std::chrono::milliseconds timeout{30000};
};

/// What the HTTP embedders share: the client, the config, the URL posted to
/// and the vector length learnt from the first successful answer.
class remote_embedder : public embedder {
 public:
  /// 0 until the first successful answer, then its vector length.
  size_t dimension() const override { return dimension_->load(std::memory_order_relaxed); }
  std::string model() const override { return cfg_.model; }

  /// The URL posted to.
  const std::string& endpoint() const { return endpoint_; }

 protected:
  /// A null `client` is replaced by a new one owned by this embedder;
  /// `path` is appended to `cfg.url` to make the endpoint.
  remote_embedder(std::shared_ptr<runtime::http::client> client, remote_embedder_config cfg,
                  const std::string& path);

  std::shared_ptr<runtime::http::client> client_;
  remote_embedder_config cfg_;
  std::string endpoint_;
  std::shared_ptr<std::atomic<size_t>> dimension_;
};

/// Hugging Face Text Embeddings Inference: `POST {url}/embed` with
/// `{"inputs": [...], "truncate": true}`, answered by `[[float, ...], ...]`.
///
/// Thread-safe: `embed` may be called from any thread; `done` runs on an I/O
/// thread of the shared client (or on the caller's thread for an empty batch,
/// which makes no request). Errors (subject = the URL posted to):
/// the client's http_connect / http_timeout / bad_response, `http_status` for
/// a non-2xx answer (with an excerpt of its body), `bad_response` for a body
/// that is not JSON, not a list of equally long non-empty lists of numbers,
/// or not one vector per text.
class tei_embedder : public remote_embedder {
 public:
  /// Validates the URL (errc::bad_request naming "url"). A null `client`
  /// is replaced by a new one owned by this embedder.
  [[nodiscard]] static caf::expected<embedder_ptr> make(
      std::shared_ptr<runtime::http::client> client, remote_embedder_config cfg);

  /// Posts to "{url}/embed"; the model defaults to "tei".
  tei_embedder(std::shared_ptr<runtime::http::client> client, remote_embedder_config cfg);

  void embed(std::vector<std::string> texts,
             std::function<void(caf::expected<std::vector<vector>>)> done) override;
};

/// An OpenAI-compatible embeddings API (OpenAI, vLLM, TEI's OpenAI route,
/// OPEA's embedding microservice): `POST {url}/v1/embeddings` with
/// `{"input": [...], "model": m}` and `Authorization: Bearer <api_key>` when a
/// key is set, answered by `{"data": [{"index": i, "embedding": [...]}, ...],
/// "model": ...}`; vectors are returned in `index` order, whatever the order
/// of `data`.
///
/// Thread-safe, threading and errors as `tei_embedder`; additionally
/// `bad_response` when `data` is missing, an index is out of range or
/// repeated, or an embedding is not a list of numbers (base64 answers are not
/// supported).
class openai_embedder : public remote_embedder {
 public:
  /// Validates the URL (errc::bad_request naming "url") and requires a model
  /// name (naming "model"). A null `client` is replaced by a new one.
  [[nodiscard]] static caf::expected<embedder_ptr> make(
      std::shared_ptr<runtime::http::client> client, remote_embedder_config cfg);

  /// Posts to "{url}/v1/embeddings".
  openai_embedder(std::shared_ptr<runtime::http::client> client, remote_embedder_config cfg);

  void embed(std::vector<std::string> texts,
             std::function<void(caf::expected<std::vector<vector>>)> done) override;
};

namespace detail {

/// Shared by the remote backends (and the TEI reranker): the URL joined with
/// `path`, after validating it; errc::bad_request naming "url".
caf::expected<std::string> join_endpoint(const std::string& base, const std::string& path);

/// For the adapters that read a supervised service's answer
/// (service_embedder, service_reranker): errc::bad_response naming
/// `service`, "answer field '<field>' <what>".
caf::error bad_answer_field(const std::string& service, const std::string& field,
                            const std::string& what);

}  // namespace detail

}  // namespace opea::actors
