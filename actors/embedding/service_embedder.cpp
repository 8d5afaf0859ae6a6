#include "actors/embedding/service_embedder.hpp"

#include <memory>
#include <utility>

#include "actors/embedding/remote_embedders.hpp"
#include "runtime/errors.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::make_error;

using detail::bad_answer_field;

namespace {

caf::expected<vector> read_vector(const nlohmann::json& x, const std::string& field,
                                  const std::string& service) {
  if (!x.is_array())
    return bad_answer_field(service, field,
                            "must be a list of numbers, got " + std::string{x.type_name()});
  vector v;
  v.reserve(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (!x[i].is_number())
      return bad_answer_field(service, field + "[" + std::to_string(i) + "]",
                              "must be a number, got " + std::string{x[i].type_name()});
    v.push_back(x[i].get<float>());
  }
  return v;
}

}  // namespace

caf::expected<std::vector<vector>> read_embed_doc(const nlohmann::json& doc, size_t count,
                                                  const std::string& service) {
  if (!doc.is_object())
    return make_error(errc::bad_response, service,
                      "answer must be a JSON object, got " + std::string{doc.type_name()});
  auto it = doc.find("embedding");
  if (it == doc.end()) return bad_answer_field(service, "embedding", "is missing");
  const auto& e = *it;
  if (!e.is_array()) return bad_answer_field(service, "embedding", "must be a list");
  std::vector<vector> out;
  // A single vector for a single text (OPEA's EmbedDoc for one text).
  if (count == 1 && (e.empty() || e.front().is_number())) {
    auto v = read_vector(e, "embedding", service);
    if (!v) return std::move(v.error());
    out.push_back(std::move(*v));
    return out;
  }
  if (e.size() != count)
    return bad_answer_field(
        service, "embedding",
        "has " + std::to_string(e.size()) + " vectors for " + std::to_string(count) + " texts");
  out.reserve(count);
  for (size_t i = 0; i < e.size(); ++i) {
    auto v = read_vector(e[i], "embedding[" + std::to_string(i) + "]", service);
    if (!v) return std::move(v.error());
    out.push_back(std::move(*v));
  }
  return out;
}

service_embedder::service_embedder(runtime::service_call call, std::string service,
                                   std::string model)
    : call_(std::move(call)), service_(std::move(service)), model_(std::move(model)) {}

void service_embedder::embed(std::vector<std::string> texts,
                             std::function<void(caf::expected<std::vector<vector>>)> done) {
  if (texts.empty()) {
    done(std::vector<vector>{});
    return;
  }
  auto count = texts.size();
  nlohmann::json input{{"input", std::move(texts)}};
  call_(std::move(input), [service = service_, dim = dimension_, count, done = std::move(done)](
                              caf::expected<runtime::json_ptr> res) {
    if (!res) {
      done(std::move(res.error()));
      return;
    }
    auto vectors = read_embed_doc(**res, count, service);
    if (vectors && !vectors->empty())
      dim->store(vectors->front().size(), std::memory_order_relaxed);
    done(std::move(vectors));
  });
}

}  // namespace opea::actors
