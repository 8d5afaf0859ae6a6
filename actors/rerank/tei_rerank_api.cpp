#include "actors/rerank/tei_rerank_api.hpp"

#include "runtime/errors.hpp"

namespace opea::actors {

using nlohmann::json;
using runtime::errc;
using runtime::make_error;

caf::expected<tei_rerank_call> parse_tei_rerank_request(const json& body) {
  static const char* known[] = {"query",       "texts",    "raw_scores",
                                "return_text", "truncate", "truncation_direction"};
  for (const auto& [key, value] : body.items()) {
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (!ok)
      return make_error(errc::bad_request, key,
                        "unknown field (expected query, texts, raw_scores, return_text, truncate, "
                        "truncation_direction)");
  }
  tei_rerank_call call;
  auto query = body.find("query");
  if (query == body.end()) return make_error(errc::bad_request, "query", "is required");
  if (!query->is_string())
    return make_error(errc::bad_request, "query",
                      std::string{"must be a string, got "} + query->type_name());
  call.query = query->get<std::string>();
  auto texts = body.find("texts");
  if (texts == body.end()) return make_error(errc::bad_request, "texts", "is required");
  if (!texts->is_array())
    return make_error(errc::bad_request, "texts",
                      std::string{"must be a list of strings, got "} + texts->type_name());
  if (texts->empty()) return make_error(errc::bad_request, "texts", "must not be empty");
  if (texts->size() > max_tei_rerank_texts)
    return make_error(errc::bad_request, "texts",
                      "has " + std::to_string(texts->size()) + " entries, at most " +
                          std::to_string(max_tei_rerank_texts) + " are allowed");
  call.texts.reserve(texts->size());
  for (size_t i = 0; i < texts->size(); ++i) {
    const auto& t = (*texts)[i];
    if (!t.is_string())
      return make_error(errc::bad_request, "texts[" + std::to_string(i) + "]",
                        std::string{"must be a string, got "} + t.type_name());
    call.texts.push_back(t.get<std::string>());
  }
  for (const char* flag : {"raw_scores", "return_text", "truncate"}) {
    auto it = body.find(flag);
    if (it != body.end() && !it->is_boolean())
      return make_error(errc::bad_request, flag,
                        std::string{"must be a boolean, got "} + it->type_name());
  }
  call.return_text = body.value("return_text", false);
  auto dir = body.find("truncation_direction");
  if (dir != body.end() && !(dir->is_string() && (*dir == "Left" || *dir == "Right")))
    return make_error(errc::bad_request, "truncation_direction", "must be \"Left\" or \"Right\"");
  return call;
}

json tei_rerank_response(const tei_rerank_call& call, const std::vector<scored_text>& scores) {
  json out = json::array();
  for (const auto& s : scores) {
    json item{{"index", s.index}, {"score", s.score}};
    if (call.return_text && s.index < call.texts.size()) item["text"] = call.texts[s.index];
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace opea::actors
