#include "actors/retriever/retriever_actor.hpp"

#include <cmath>
#include <limits>
#include <utility>

#include "runtime/errors.hpp"
#include "runtime/service/messages.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::json;
using runtime::make_error;

namespace {

/// EmbedDoc fields the retriever consumes; everything else passes through.
const char* const consumed_fields[] = {
    "text",    "embedding",   "search_type",     "k",           "distance_threshold",
    "fetch_k", "lambda_mult", "score_threshold", "constraints", "index_name"};

caf::error wrong_type(const char* field, const char* want, const json& got) {
  return make_error(errc::bad_request, field,
                    std::string{"must be "} + want + ", got " + got.type_name());
}

/// An optional positive integer field; null or absent gives `def`.
caf::expected<size_t> positive_int(const json& input, const char* field, size_t def) {
  auto i = input.find(field);
  if (i == input.end() || i->is_null()) return def;
  if (i->is_number_unsigned() || i->is_number_integer()) {
    auto v = i->get<int64_t>();
    if (v <= 0) return make_error(errc::bad_request, field, "must be a positive integer");
    return static_cast<size_t>(v);
  }
  return wrong_type(field, "a positive integer", *i);
}

caf::expected<std::optional<double>> number(const json& input, const char* field) {
  auto i = input.find(field);
  if (i == input.end() || i->is_null()) return std::optional<double>{};
  if (!i->is_number()) return wrong_type(field, "a number", *i);
  return std::optional<double>{i->get<double>()};
}

caf::expected<std::vector<float>> embedding_of(const json& input) {
  auto i = input.find("embedding");
  if (i == input.end() || i->is_null())
    return make_error(errc::bad_request, "embedding", "input has no field 'embedding'");
  const json* arr = &*i;
  if (arr->is_array() && arr->size() == 1 && (*arr)[0].is_array()) arr = &(*arr)[0];
  if (!arr->is_array()) return wrong_type("embedding", "an array of numbers", *arr);
  if (arr->empty()) return make_error(errc::bad_request, "embedding", "must not be empty");
  std::vector<float> v;
  v.reserve(arr->size());
  for (size_t k = 0; k < arr->size(); ++k) {
    auto& x = (*arr)[k];
    if (!x.is_number())
      return make_error(errc::bad_request, "embedding",
                        "element " + std::to_string(k) + " must be a number, got " + x.type_name());
    auto d = x.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max())
      return make_error(errc::bad_request, "embedding",
                        "element " + std::to_string(k) + " is not a finite float");
    v.push_back(static_cast<float>(d));
  }
  return v;
}

}  // namespace

caf::expected<search_params> search_params_from(const json& input) {
  search_params p;
  if (!input.is_object())
    return make_error(errc::bad_request, "input",
                      std::string{"must be a JSON object, got "} + input.type_name());
  if (auto i = input.find("search_type"); i != input.end() && !i->is_null()) {
    if (!i->is_string()) return wrong_type("search_type", "a string", *i);
    p.search_type = i->get<std::string>();
  }
  auto k = positive_int(input, "k", p.k);
  if (!k) return std::move(k.error());
  p.k = *k;
  auto fetch_k = positive_int(input, "fetch_k", p.fetch_k);
  if (!fetch_k) return std::move(fetch_k.error());
  p.fetch_k = *fetch_k;
  auto dt = number(input, "distance_threshold");
  if (!dt) return std::move(dt.error());
  p.distance_threshold = *dt;
  auto st = number(input, "score_threshold");
  if (!st) return std::move(st.error());
  if (*st) p.score_threshold = **st;
  auto lm = number(input, "lambda_mult");
  if (!lm) return std::move(lm.error());
  if (*lm) p.lambda_mult = **lm;
  return p;
}

caf::expected<json> retrieve(const vector_store& store, const json& input) {
  auto params = search_params_from(input);
  if (!params) return std::move(params.error());
  auto text = input.find("text");
  if (text == input.end())
    return make_error(errc::bad_request, "text", "input has no field 'text'");
  if (!text->is_string()) return wrong_type("text", "a string", *text);
  auto query = embedding_of(input);
  if (!query) return std::move(query.error());
  auto hits = store.search(*query, *params);
  if (!hits) return std::move(hits.error());
  json docs = json::array();
  for (auto& h : *hits)
    docs.push_back({{"id", h.id}, {"text", h.text}, {"metadata", h.metadata}, {"score", h.score}});
  json out = json::object();
  for (auto& [key, value] : input.items()) {
    bool consumed = false;
    for (auto* f : consumed_fields) consumed = consumed || key == f;
    if (!consumed) out[key] = value;
  }
  out["initial_query"] = *text;
  out["retrieved_docs"] = std::move(docs);
  return out;
}

caf::behavior retriever_actor(caf::event_based_actor* self, vector_store_ptr store) {
  return {
      [store](runtime::invoke_atom, const runtime::json_ptr& input,
              const runtime::request_context_ptr&) -> caf::result<runtime::json_ptr> {
        if (!input) return make_error(errc::bad_request, "input", "missing");
        auto out = retrieve(*store, *input);
        if (!out) return std::move(out.error());
        return std::make_shared<const json>(std::move(*out));
      },
  };
}

runtime::micro_service make_retriever_service(std::string name, vector_store_ptr store) {
  auto svc = runtime::micro_service::actor(
      std::move(name),
      [store](caf::event_based_actor* self) { return retriever_actor(self, store); },
      runtime::service_type::retriever);
  return svc;
}

}  // namespace opea::actors
