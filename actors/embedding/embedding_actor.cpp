#include "actors/embedding/embedding_actor.hpp"

#include <cstring>

#include <utility>

#include <caf/all.hpp>

#include "actors/embedding/hashed_embedder.hpp"
#include "actors/embedding/remote_embedders.hpp"
#include "actors/kit/params.hpp"
#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "runtime/service/messages.hpp"
#include "runtime/service/reply_later.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::make_error;

caf::behavior embedding_actor(caf::event_based_actor* self, embedder_ptr emb) {
  return {
      [self, emb](runtime::invoke_atom, const runtime::json_ptr& input,
                  const runtime::request_context_ptr&) -> caf::result<runtime::json_ptr> {
        auto req = read_text_doc(*input);
        if (!req) return std::move(req.error());
        auto texts = req->texts;
        // The embedder may complete on an HTTP I/O thread.
        runtime::reply_later reply{self};
        emb->embed(std::move(texts), [reply, input, req = std::move(*req)](
                                         caf::expected<std::vector<vector>> res) {
          if (!res) return reply.deliver(caf::make_message(std::move(res.error())));
          auto doc = write_embed_doc(*input, req, *res);
          if (!doc) return reply.deliver(caf::make_message(std::move(doc.error())));
          reply.deliver(caf::make_message(
              runtime::json_ptr{std::make_shared<const json>(std::move(*doc))}));
        });
        return caf::delegated<runtime::json_ptr>{};
      },
  };
}

runtime::micro_service make_embedding_service(embedder_ptr emb) {
  return runtime::micro_service::actor(
      "", [emb](caf::event_based_actor* self) { return embedding_actor(self, emb); },
      runtime::service_type::embedding);
}

// -- OpenAI endpoint ----------------------------------------------------------

caf::expected<std::vector<std::string>> parse_openai_embeddings_request(const json& request) {
  if (!request.is_object())
    return make_error(errc::bad_request, "input",
                      "request must be a JSON object, got " + std::string{request.type_name()});
  auto in = request.find("input");
  if (in == request.end()) return make_error(errc::bad_request, "input", "is required");
  if (in->is_array())
    for (auto& x : *in)
      if (x.is_number_integer() || x.is_array())
        return make_error(errc::bad_request, "input",
                          "token-id arrays are not supported: send strings");
  auto texts = read_texts(*in, "input", false);
  if (!texts) return std::move(texts.error());
  for (const char* key : {"model", "user"})
    if (auto i = request.find(key); i != request.end() && !i->is_string())
      return make_error(errc::bad_request, key,
                        "must be a string, got " + std::string{i->type_name()});
  if (auto i = request.find("encoding_format"); i != request.end()) {
    if (!i->is_string() || (i->get<std::string>() != "float" && i->get<std::string>() != "base64"))
      return make_error(errc::bad_request, "encoding_format",
                        "must be \"float\" or \"base64\", got " + i->dump());
  }
  if (auto i = request.find("dimensions"); i != request.end()) {
    if (!i->is_number_integer() || i->get<int64_t>() < 1)
      return make_error(errc::bad_request, "dimensions",
                        "must be a positive integer, got " + i->dump());
  }
  return std::move(texts->texts);
}

size_t count_whitespace_words(const std::string& text) {
  size_t n = 0;
  bool in_word = false;
  for (unsigned char c : text) {
    bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

namespace {

std::string base64_encode(const std::string& in) {
  static constexpr char table[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out.push_back(table[(v >> 18) & 63]);
    out.push_back(table[(v >> 12) & 63]);
    out.push_back(table[(v >> 6) & 63]);
    out.push_back(table[v & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    out.push_back(table[(v >> 18) & 63]);
    out.push_back(table[(v >> 12) & 63]);
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out.push_back(table[(v >> 18) & 63]);
    out.push_back(table[(v >> 12) & 63]);
    out.push_back(table[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

}  // namespace

caf::expected<json> openai_embeddings_response(const json& request,
                                               const std::vector<vector>& vectors,
                                               const std::string& model) {
  auto texts = parse_openai_embeddings_request(request);
  if (!texts) return std::move(texts.error());
  if (vectors.size() != texts->size())
    return make_error(errc::service_failed, "embedding",
                      "the embedder returned " + std::to_string(vectors.size()) + " vectors for " +
                          std::to_string(texts->size()) + " inputs");
  size_t limit = SIZE_MAX;
  if (auto i = request.find("dimensions"); i != request.end())
    limit = static_cast<size_t>(i->get<int64_t>());
  bool base64 = request.value("encoding_format", std::string{"float"}) == "base64";
  json data = json::array();
  for (size_t i = 0; i < vectors.size(); ++i) {
    const auto& v = vectors[i];
    auto n = std::min(v.size(), limit);
    json emb;
    if (base64) {
      // OpenAI's base64 form (the official SDKs ask for it by default): the
      // little-endian float32 values, base64-encoded.
      std::string bytes(n * sizeof(float), '\0');
      for (size_t j = 0; j < n; ++j) {
        uint32_t bits;
        std::memcpy(&bits, &v[j], sizeof bits);
        for (size_t b = 0; b < 4; ++b)
          bytes[j * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xFF);
      }
      emb = base64_encode(bytes);
    } else {
      emb = json::array();
      for (size_t j = 0; j < n; ++j) emb.push_back(v[j]);
    }
    data.push_back(json{{"object", "embedding"}, {"index", i}, {"embedding", std::move(emb)}});
  }
  size_t tokens = 0;
  for (auto& t : *texts) tokens += count_whitespace_words(t);
  return json{{"object", "list"},
              {"data", std::move(data)},
              {"model", model},
              {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
}

// -- built-in -----------------------------------------------------------------

caf::expected<embedder_ptr> make_embedder_from_params(
    const json& params, std::shared_ptr<runtime::http::client> client) {
  using namespace kit;
  if (auto err =
          check_params(params, {"backend", "dimension", "url", "model", "api_key", "timeout_ms"}))
    return err;
  auto backend = string_param(params, "backend", "builtin", {"builtin", "tei", "openai"});
  if (!backend) return std::move(backend.error());
  for (auto [key, backends] : std::vector<std::pair<const char*, std::vector<std::string>>>{
           {"dimension", {"builtin"}},
           {"url", {"tei", "openai"}},
           {"model", {"tei", "openai"}},
           {"api_key", {"openai"}},
           {"timeout_ms", {"tei", "openai"}}})
    if (auto err = only_for_backends(params, key, backends, *backend)) return err;
  if (*backend == "builtin") {
    auto dim = integer_param(params, "dimension", hashed_embedder::default_dimension, 1,
                             hashed_embedder::max_dimension);
    if (!dim) return std::move(dim.error());
    return embedder_ptr{std::make_shared<hashed_embedder>(static_cast<size_t>(*dim))};
  }
  remote_embedder_config cfg;
  auto url = string_param(params, "url", "");
  if (!url) return std::move(url.error());
  if (url->empty())
    return make_error(errc::bad_request, "params.url",
                      "is required for backend '" + *backend + "'");
  cfg.url = *url;
  auto model = string_param(params, "model", "");
  if (!model) return std::move(model.error());
  cfg.model = *model;
  auto key = string_param(params, "api_key", "");
  if (!key) return std::move(key.error());
  cfg.api_key = *key;
  auto timeout = integer_param(params, "timeout_ms", 30000, 1, 3600000);
  if (!timeout) return std::move(timeout.error());
  cfg.timeout = std::chrono::milliseconds{*timeout};
  auto made = *backend == "tei" ? tei_embedder::make(client, std::move(cfg))
                                : openai_embedder::make(client, std::move(cfg));
  if (!made) {
    // The backends name the field; restate it as a parameter.
    auto subject = runtime::subject_of(made.error());
    return make_error(errc::bad_request, "params." + subject, runtime::detail_of(made.error()));
  }
  return made;
}

void register_embedding_builtins(runtime::service_catalog& catalog,
                                 std::shared_ptr<runtime::http::client> client) {
  catalog.add("embedding",
              "OPEA embedding microservice: TextDoc -> EmbedDoc (backend builtin | tei | openai)",
              runtime::service_type::embedding,
              [client](const json& params) -> caf::expected<runtime::micro_service> {
                auto emb = make_embedder_from_params(params, client);
                if (!emb) return std::move(emb.error());
                return make_embedding_service(std::move(*emb));
              });
}

}  // namespace opea::actors
