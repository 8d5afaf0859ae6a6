#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "actors/docs/opea_docs.hpp"
#include "actors/embedding/embedder.hpp"
#include "runtime/http/fwd.hpp"
#include "runtime/service/micro_service.hpp"
#include "runtime/service/service_catalog.hpp"

namespace opea::actors {

using json = nlohmann::json;

/// The embedding microservice as a whole actor: answers (invoke_atom,
/// json_ptr, request_context_ptr) with the EmbedDoc of the input (see
/// `read_text_doc`, `write_embed_doc`), or errc::bad_request naming the
/// bad field, or the embedder's error. The answer is sent from wherever the
/// embedder completes (the actor's own thread for the built-in embedder, an
/// HTTP I/O thread for remote ones) straight to the requester, so this actor
/// never blocks and serves requests concurrently.
caf::behavior embedding_actor(caf::event_based_actor* self, embedder_ptr emb);

/// A micro_service (type embedding, empty name) running `embedding_actor`.
runtime::micro_service make_embedding_service(embedder_ptr emb);

/// Validates an OpenAI `POST /v1/embeddings` request and returns its texts:
/// `input` is a non-empty string or a non-empty list of strings (token-id
/// arrays are rejected), `model` and `user` are strings when present,
/// `encoding_format` is "float" when present (base64 is not supported),
/// `dimensions` a positive integer when present. Errors are errc::bad_request
/// naming the field.
[[nodiscard]] caf::expected<std::vector<std::string>> parse_openai_embeddings_request(
    const json& request);

/// OpenAI's embeddings response for `request` (validated as above) and the
/// vectors of its texts: `{"object": "list", "data": [{"object": "embedding",
/// "index": i, "embedding": [...]}, ...], "model": model, "usage":
/// {"prompt_tokens": n, "total_tokens": n}}`. `model` is the embedder's
/// model name. When the request sets `dimensions`, each vector is cut to that
/// length, as OPEA's embedding microservice does (no re-normalisation). Token
/// counts are approximate: n is the number of whitespace-separated words over
/// all inputs. errc::service_failed if the vector count does not match.
[[nodiscard]] caf::expected<json> openai_embeddings_response(const json& request,
                                                             const std::vector<vector>& vectors,
                                                             const std::string& model);

/// Number of whitespace-separated words of `text` (the token count above).
size_t count_whitespace_words(const std::string& text);

/// Makes the embedder that `params` ask for (the "embedding" built-in's
/// parameters): `backend` "builtin" (default) | "tei" | "openai";
/// `dimension` (builtin only; integer in [1, 65536], default 384); `url`
/// (tei/openai, required); `model` (openai required; tei optional, default
/// "tei"); `api_key` (openai only); `timeout_ms` (tei/openai; positive
/// integer, default 30000). Unknown parameters, wrong types, and parameters of
/// another backend are errc::bad_request naming "params.<name>". A null
/// `client` is replaced by a new client for remote backends.
[[nodiscard]] caf::expected<embedder_ptr> make_embedder_from_params(
    const json& params, std::shared_ptr<runtime::http::client> client);

/// Registers the built-in "embedding" (type embedding): the embedding
/// microservice on the embedder `make_embedder_from_params` makes from its
/// parameters. Remote backends share `client` (null: one is created per
/// service).
void register_embedding_builtins(runtime::service_catalog& catalog,
                                 std::shared_ptr<runtime::http::client> client);

}  // namespace opea::actors
