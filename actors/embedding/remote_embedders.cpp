#include "actors/embedding/remote_embedders.hpp"

#include <utility>

#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "runtime/http/post_json.hpp"
#include "runtime/service/url.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::make_error;
using json = nlohmann::json;

namespace detail {

caf::expected<std::string> join_endpoint(const std::string& base, const std::string& path) {
  if (base.empty()) return make_error(errc::bad_request, "url", "is required");
  auto parsed = runtime::url::parse(base);
  if (!parsed)
    return make_error(errc::bad_request, "url",
                      "\"" + base + "\" " + runtime::detail_of(parsed.error()));
  auto joined = base;
  while (!joined.empty() && joined.back() == '/') joined.pop_back();
  return joined + path;
}

caf::error bad_answer_field(const std::string& service, const std::string& field,
                            const std::string& what) {
  return runtime::make_error(runtime::errc::bad_response, service,
                             "answer field '" + field + "' " + what);
}

}  // namespace detail

namespace {

/// Reads one embedding (a non-empty list of numbers); `where` names it in errors.
caf::expected<vector> read_vector(const json& x, const std::string& url, const std::string& where) {
  if (!x.is_array() || x.empty())
    return make_error(errc::bad_response, url,
                      where + " must be a non-empty list of numbers, got " +
                          (x.is_array() ? std::string{"an empty list"} : x.type_name()));
  vector v;
  v.reserve(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (!x[i].is_number())
      return make_error(
          errc::bad_response, url,
          where + "[" + std::to_string(i) + "] must be a number, got " + x[i].type_name());
    v.push_back(x[i].get<float>());
  }
  return v;
}

/// Checks count and equal lengths, then records the dimension.
caf::expected<std::vector<vector>> finish(std::vector<vector> vs, size_t expected,
                                          const std::string& url, std::atomic<size_t>& dim) {
  if (vs.size() != expected)
    return make_error(
        errc::bad_response, url,
        "expected " + std::to_string(expected) + " embeddings, got " + std::to_string(vs.size()));
  for (size_t i = 1; i < vs.size(); ++i)
    if (vs[i].size() != vs[0].size())
      return make_error(errc::bad_response, url,
                        "embeddings differ in length: " + std::to_string(vs[0].size()) + " and " +
                            std::to_string(vs[i].size()) + " (index " + std::to_string(i) + ")");
  if (!vs.empty()) dim.store(vs[0].size(), std::memory_order_relaxed);
  return vs;
}

}  // namespace

// -- tei_embedder -------------------------------------------------------------

caf::expected<embedder_ptr> tei_embedder::make(std::shared_ptr<runtime::http::client> client,
                                               remote_embedder_config cfg) {
  auto endpoint = detail::join_endpoint(cfg.url, "/embed");
  if (!endpoint) return std::move(endpoint.error());
  return embedder_ptr{std::make_shared<tei_embedder>(std::move(client), std::move(cfg))};
}

remote_embedder::remote_embedder(std::shared_ptr<runtime::http::client> client,
                                 remote_embedder_config cfg, const std::string& path)
    : client_(std::move(client)),
      cfg_(std::move(cfg)),
      dimension_(std::make_shared<std::atomic<size_t>>(0)) {
  if (!client_) client_ = std::make_shared<runtime::http::client>();
  auto endpoint = detail::join_endpoint(cfg_.url, path);
  endpoint_ = endpoint ? *endpoint : cfg_.url + path;
}

tei_embedder::tei_embedder(std::shared_ptr<runtime::http::client> client,
                           remote_embedder_config cfg)
    : remote_embedder(std::move(client), std::move(cfg), "/embed") {
  if (cfg_.model.empty()) cfg_.model = "tei";
}

void tei_embedder::embed(std::vector<std::string> texts,
                         std::function<void(caf::expected<std::vector<vector>>)> done) {
  if (texts.empty()) {
    done(std::vector<vector>{});
    return;
  }
  auto count = texts.size();
  json body{{"inputs", std::move(texts)}, {"truncate", true}};
  runtime::http::post_json(
      *client_, {endpoint_, {}, body.dump(), {}, cfg_.timeout},
      [count, url = endpoint_, dim = dimension_, done = std::move(done)](caf::expected<json> res) {
        if (!res) {
          done(std::move(res.error()));
          return;
        }
        if (!res->is_array()) {
          done(make_error(errc::bad_response, url,
                          std::string{"expected a list of embeddings, got "} + res->type_name() +
                              ": " + runtime::http::excerpt(res->dump())));
          return;
        }
        std::vector<vector> out;
        out.reserve(res->size());
        for (size_t i = 0; i < res->size(); ++i) {
          auto v = read_vector((*res)[i], url, "embedding " + std::to_string(i));
          if (!v) {
            done(std::move(v.error()));
            return;
          }
          out.push_back(std::move(*v));
        }
        done(finish(std::move(out), count, url, *dim));
      });
}

// -- openai_embedder ----------------------------------------------------------

caf::expected<embedder_ptr> openai_embedder::make(std::shared_ptr<runtime::http::client> client,
                                                  remote_embedder_config cfg) {
  auto endpoint = detail::join_endpoint(cfg.url, "/v1/embeddings");
  if (!endpoint) return std::move(endpoint.error());
  if (cfg.model.empty())
    return make_error(errc::bad_request, "model", "is required for the OpenAI backend");
  return embedder_ptr{std::make_shared<openai_embedder>(std::move(client), std::move(cfg))};
}

openai_embedder::openai_embedder(std::shared_ptr<runtime::http::client> client,
                                 remote_embedder_config cfg)
    : remote_embedder(std::move(client), std::move(cfg), "/v1/embeddings") {}

void openai_embedder::embed(std::vector<std::string> texts,
                            std::function<void(caf::expected<std::vector<vector>>)> done) {
  if (texts.empty()) {
    done(std::vector<vector>{});
    return;
  }
  auto count = texts.size();
  json body{{"input", std::move(texts)}, {"model", cfg_.model}};
  std::vector<std::pair<std::string, std::string>> headers;
  if (!cfg_.api_key.empty()) headers.emplace_back("Authorization", "Bearer " + cfg_.api_key);
  runtime::http::post_json(
      *client_, {endpoint_, {}, body.dump(), std::move(headers), cfg_.timeout},
      [count, url = endpoint_, dim = dimension_, done = std::move(done)](caf::expected<json> res) {
        if (!res) {
          done(std::move(res.error()));
          return;
        }
        auto data = res->is_object() ? res->find("data") : res->end();
        if (!res->is_object() || data == res->end() || !data->is_array()) {
          done(make_error(
              errc::bad_response, url,
              "expected an object with a 'data' list: " + runtime::http::excerpt(res->dump())));
          return;
        }
        if (data->size() != count) {
          done(make_error(errc::bad_response, url,
                          "expected " + std::to_string(count) + " embeddings, got " +
                              std::to_string(data->size())));
          return;
        }
        std::vector<vector> out(count);
        std::vector<bool> seen(count, false);
        for (size_t i = 0; i < data->size(); ++i) {
          const auto& item = (*data)[i];
          auto where = "data[" + std::to_string(i) + "]";
          if (!item.is_object()) {
            done(make_error(errc::bad_response, url,
                            where + " must be an object, got " + item.type_name()));
            return;
          }
          auto idx = item.find("index");
          if (idx == item.end() || !idx->is_number_integer()) {
            done(make_error(errc::bad_response, url, where + ".index must be an integer"));
            return;
          }
          auto index = idx->get<int64_t>();
          if (index < 0 || static_cast<size_t>(index) >= count || seen[index]) {
            done(make_error(errc::bad_response, url,
                            where + ".index " + std::to_string(index) +
                                (index >= 0 && static_cast<size_t>(index) < count
                                     ? " is repeated"
                                     : " is out of range [0, " + std::to_string(count) + ")")));
            return;
          }
          auto emb = item.find("embedding");
          if (emb == item.end()) {
            done(make_error(errc::bad_response, url, where + " has no 'embedding'"));
            return;
          }
          auto v = read_vector(*emb, url, where + ".embedding");
          if (!v) {
            done(std::move(v.error()));
            return;
          }
          seen[index] = true;
          out[index] = std::move(*v);
        }
        done(finish(std::move(out), count, url, *dim));
      });
}

}  // namespace opea::actors
