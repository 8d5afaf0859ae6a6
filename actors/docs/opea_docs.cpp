#include "actors/docs/opea_docs.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "runtime/dag/service_orchestrator.hpp"
#include "runtime/errors.hpp"

namespace opea::actors {

using nlohmann::json;
using runtime::errc;
using runtime::make_error;

namespace {

caf::error bad(const std::string& field, const std::string& why) {
  return make_error(errc::bad_request, field, why);
}

std::string type_error(const char* what, const json& got) {
  return std::string{"must be "} + what + ", got " + got.type_name();
}

/// Reads an optional number field; null counts as absent.
caf::error read_number(const json& in, const char* key, std::optional<double>& out) {
  auto i = in.find(key);
  if (i == in.end() || i->is_null()) return {};
  if (!i->is_number()) return bad(key, type_error("a number", *i));
  out = i->get<double>();
  return {};
}

std::string source_name(const json& doc) {
  auto str = [](const json& obj, const char* key) -> std::string {
    auto i = obj.find(key);
    return i != obj.end() && i->is_string() ? i->get<std::string>() : std::string{};
  };
  auto meta = doc.find("metadata");
  if (meta != doc.end() && meta->is_object())
    for (auto key : {"source", "file_name", "filename", "title"})
      if (auto s = str(*meta, key); !s.empty()) return s;
  for (auto key : {"title", "source"})
    if (auto s = str(doc, key); !s.empty()) return s;
  return {};
}

caf::error read_documents(const json& docs, const std::string& field,
                          std::vector<context_document>& out) {
  if (docs.is_null()) return {};
  if (!docs.is_array()) return bad(field, type_error("a list", docs));
  for (size_t i = 0; i < docs.size(); ++i) {
    const auto& d = docs[i];
    auto where = field + "[" + std::to_string(i) + "]";
    if (d.is_string()) {
      out.push_back({d.get<std::string>(), {}});
    } else if (d.is_object()) {
      auto text = d.find("text");
      if (text == d.end() || !text->is_string())
        return bad(where, "must have a string field 'text'");
      out.push_back({text->get<std::string>(), source_name(d)});
    } else {
      return bad(where, type_error("a string or an object with 'text'", d));
    }
  }
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i].source.empty()) out[i].source = "document " + std::to_string(i + 1);
  return {};
}

json to_json(const std::vector<float>& v) {
  json out = json::array();
  for (float x : v) out.push_back(x);
  return out;
}

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

// -- TextDoc ------------------------------------------------------------------

caf::expected<text_doc> read_texts(const json& x, const std::string& field, bool allow_empty_list) {
  text_doc out;
  out.field = field;
  if (x.is_string()) {
    out.texts.push_back(x.get<std::string>());
    return out;
  }
  if (!x.is_array())
    return make_error(errc::bad_request, field,
                      "must be a string or a list of strings, got " + std::string{x.type_name()});
  if (x.empty() && !allow_empty_list)
    return make_error(errc::bad_request, field, "must not be an empty list");
  out.batch = true;
  out.texts.reserve(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (!x[i].is_string())
      return make_error(errc::bad_request, field + "[" + std::to_string(i) + "]",
                        "must be a string, got " + std::string{x[i].type_name()});
    out.texts.push_back(x[i].get<std::string>());
  }
  return out;
}

caf::expected<text_doc> read_text_doc(const json& input) {
  if (!input.is_object())
    return make_error(errc::bad_request, "text",
                      "input must be a JSON object, got " + std::string{input.type_name()});
  if (auto i = input.find("text"); i != input.end()) return read_texts(*i, "text", true);
  if (auto i = input.find("input"); i != input.end()) return read_texts(*i, "input", true);
  return make_error(errc::bad_request, "text", "input has neither 'text' nor 'input'");
}

// -- EmbedDoc -----------------------------------------------------------------

const std::vector<std::string>& embed_doc_passthrough_fields() {
  static const std::vector<std::string> fields{
      "search_type", "k",           "distance_threshold",
      "fetch_k",     "lambda_mult", "score_threshold",
      "constraints", "index_name",  "downstream_black_list"};
  return fields;
}

caf::expected<json> write_embed_doc(const json& input, const text_doc& req,
                                    const std::vector<std::vector<float>>& vectors) {
  if (vectors.size() != req.texts.size())
    return make_error(errc::service_failed, "embedding",
                      "the embedder returned " + std::to_string(vectors.size()) + " vectors for " +
                          std::to_string(req.texts.size()) + " texts");
  json out = json::object();
  out["text"] = input.at(req.field);
  if (req.batch) {
    json all = json::array();
    for (auto& v : vectors) all.push_back(to_json(v));
    out["embedding"] = std::move(all);
  } else {
    out["embedding"] = to_json(vectors.front());
  }
  for (auto& key : embed_doc_passthrough_fields())
    if (auto i = input.find(key); i != input.end()) out[key] = *i;
  return out;
}

caf::expected<search_params> read_search_params(const json& input) {
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

caf::expected<embed_doc> read_embed_doc(const json& input) {
  auto params = read_search_params(input);
  if (!params) return std::move(params.error());
  auto text = input.find("text");
  if (text == input.end())
    return make_error(errc::bad_request, "text", "input has no field 'text'");
  if (!text->is_string()) return wrong_type("text", "a string", *text);
  auto query = embedding_of(input);
  if (!query) return std::move(query.error());
  return embed_doc{text->get<std::string>(), std::move(*query), std::move(*params)};
}

// -- SearchedDoc --------------------------------------------------------------

json write_searched_doc(const json& input, const embed_doc& doc, json retrieved_docs) {
  json out = json::object();
  for (auto& [key, value] : input.items()) {
    bool consumed = false;
    for (auto* f : consumed_fields) consumed = consumed || key == f;
    if (!consumed) out[key] = value;
  }
  out["initial_query"] = doc.text;
  out["retrieved_docs"] = std::move(retrieved_docs);
  return out;
}

caf::expected<searched_doc> read_searched_doc(const json& input, size_t default_top_n) {
  if (!input.is_object())
    return make_error(errc::bad_request, "initial_query",
                      "input must be a JSON object, got " + std::string{input.type_name()});
  searched_doc out;
  auto q = input.find("initial_query");
  if (q == input.end()) return make_error(errc::bad_request, "initial_query", "is required");
  if (!q->is_string())
    return make_error(errc::bad_request, "initial_query",
                      "must be a string, got " + std::string{q->type_name()});
  out.initial_query = q->get<std::string>();
  auto docs = input.find("retrieved_docs");
  if (docs == input.end()) return make_error(errc::bad_request, "retrieved_docs", "is required");
  if (!docs->is_array())
    return make_error(errc::bad_request, "retrieved_docs",
                      "must be a list of documents, got " + std::string{docs->type_name()});
  out.docs.reserve(docs->size());
  out.texts.reserve(docs->size());
  for (size_t i = 0; i < docs->size(); ++i) {
    const auto& d = (*docs)[i];
    auto where = "retrieved_docs[" + std::to_string(i) + "]";
    if (!d.is_object())
      return make_error(errc::bad_request, where,
                        "must be an object with a 'text', got " + std::string{d.type_name()});
    auto t = d.find("text");
    if (t == d.end() || !t->is_string())
      return make_error(errc::bad_request, where + ".text",
                        t == d.end() ? std::string{"is required"}
                                     : "must be a string, got " + std::string{t->type_name()});
    out.texts.push_back(t->get<std::string>());
    out.docs.push_back(d);
  }
  out.top_n = default_top_n;
  if (auto n = input.find("top_n"); n != input.end()) {
    if (!n->is_number_integer() || n->get<int64_t>() < 1)
      return make_error(errc::bad_request, "top_n", "must be a positive integer, got " + n->dump());
    out.top_n = static_cast<size_t>(n->get<int64_t>());
  }
  return out;
}

// -- LLMParamsDoc -------------------------------------------------------------

const std::vector<std::string>& llm_params_passthrough_fields() {
  static const std::vector<std::string> fields{"model",
                                               "max_tokens",
                                               "max_new_tokens",
                                               "top_k",
                                               "top_p",
                                               "typical_p",
                                               "temperature",
                                               "frequency_penalty",
                                               "presence_penalty",
                                               "repetition_penalty",
                                               "stream",
                                               "streaming",
                                               "language",
                                               "chat_template",
                                               "input_guardrail_params",
                                               "output_guardrail_params",
                                               "downstream_black_list"};
  return fields;
}

json write_llm_params_doc(const json& input, const searched_doc& req,
                          const std::vector<scored_text>& scores) {
  json documents = json::array();
  json reranked = json::array();
  auto n = std::min(req.top_n, scores.size());
  for (size_t i = 0; i < n; ++i) {
    const auto& s = scores[i];
    documents.push_back(req.texts[s.index]);
    json doc = req.docs[s.index];
    doc["score"] = s.score;
    reranked.push_back(std::move(doc));
  }
  json out{{"query", req.initial_query},
           {"documents", std::move(documents)},
           {"reranked_docs", std::move(reranked)}};
  for (auto& key : llm_params_passthrough_fields())
    if (auto i = input.find(key); i != input.end()) out[key] = *i;
  return out;
}

caf::expected<llm_params> read_llm_params(const json& in) {
  if (!in.is_object())
    return bad("input", std::string{"must be a JSON object, got "} + in.type_name());
  llm_params out;
  auto q = in.find("query");
  auto messages = in.find("messages");
  if (q != in.end() && !q->is_null()) {
    if (!q->is_string()) return bad("query", type_error("a string", *q));
    out.query = q->get<std::string>();
  }
  if (messages != in.end() && !messages->is_null()) {
    if (messages->is_string()) {
      if (out.query.empty()) out.query = messages->get<std::string>();
    } else if (messages->is_array()) {
      for (size_t i = 0; i < messages->size(); ++i) {
        const auto& m = (*messages)[i];
        auto where = "messages[" + std::to_string(i) + "]";
        if (!m.is_object()) return bad(where, type_error("an object", m));
        auto role = m.find("role");
        if (role == m.end() || !role->is_string())
          return bad(where, "must have a string field 'role'");
        auto content = m.find("content");
        if (role->get<std::string>() == "user" && content != m.end() && content->is_string() &&
            q == in.end())
          out.query = content->get<std::string>();
      }
      if (messages->empty()) return bad("messages", "must not be empty");
      out.messages = *messages;
    } else {
      return bad("messages", type_error("a string or a list of messages", *messages));
    }
  }
  if (out.query.empty() && out.messages.is_null()) {
    auto iq = in.find("initial_query");
    if (iq != in.end() && iq->is_string()) out.query = iq->get<std::string>();
  }
  if (out.query.empty() && out.messages.is_null())
    return bad("query", "input has no non-empty 'query' (or 'messages')");
  if (auto qn = in.find("question"); qn != in.end() && !qn->is_null()) {
    if (!qn->is_string()) return bad("question", type_error("a string", *qn));
    out.question = qn->get<std::string>();
  }
  if (out.question.empty()) out.question = out.query;

  // The rerank service sends both `documents` (texts) and `reranked_docs`
  // (the same documents with their metadata), and ChatQnA's hook adds
  // `documents` beside a retriever's `retrieved_docs`: the lists with
  // metadata come first, since they name the sources.
  caf::error err;
  if (auto r = in.find("reranked_docs"); r != in.end() && !r->is_null())
    err = read_documents(*r, "reranked_docs", out.documents);
  else if (auto s = in.find("retrieved_docs"); s != in.end() && !s->is_null())
    err = read_documents(*s, "retrieved_docs", out.documents);
  else if (auto d = in.find("documents"); d != in.end())
    err = read_documents(*d, "documents", out.documents);
  if (err) return err;

  for (auto key : {"max_tokens", "max_new_tokens"}) {
    auto i = in.find(key);
    if (i == in.end() || i->is_null()) continue;
    if (!i->is_number_integer() || i->get<int64_t>() <= 0)
      return bad(key, "must be a positive integer, got " + i->dump());
    out.max_tokens = i->get<int64_t>();
    break;
  }
  auto& sp = out.sampling;
  if (auto e = read_number(in, "temperature", sp.temperature)) return e;
  if (auto e = read_number(in, "top_p", sp.top_p)) return e;
  if (auto e = read_number(in, "frequency_penalty", sp.frequency_penalty)) return e;
  if (auto e = read_number(in, "presence_penalty", sp.presence_penalty)) return e;

  auto s = in.find("stream");
  if (s == in.end() || s->is_null()) s = in.find("streaming");
  if (s != in.end() && !s->is_null()) {
    if (!s->is_boolean()) return bad("stream", type_error("a boolean", *s));
    out.stream = s->get<bool>();
  }
  if (auto t = in.find("chat_template"); t != in.end() && !t->is_null()) {
    if (!t->is_string()) return bad("chat_template", type_error("a string", *t));
    out.chat_template = t->get<std::string>();
  }
  if (auto m = in.find("model"); m != in.end() && !m->is_null()) {
    if (!m->is_string()) return bad("model", type_error("a string", *m));
    out.model = m->get<std::string>();
  }
  return out;
}

void write_sampling_params(const sampling_params& p, json& body) {
  if (p.temperature) body["temperature"] = *p.temperature;
  if (p.top_p) body["top_p"] = *p.top_p;
  if (p.frequency_penalty) body["frequency_penalty"] = *p.frequency_penalty;
  if (p.presence_penalty) body["presence_penalty"] = *p.presence_penalty;
}

void searched_to_llm_params(const json& in, runtime::align_result& patch) {
  if (!in.is_object()) return;
  auto retrieved = in.find("retrieved_docs");
  if (!in.contains("documents") && retrieved != in.end() && retrieved->is_array()) {
    json docs = json::array();
    for (const auto& d : *retrieved)
      if (d.is_object() && d.contains("text")) docs.push_back(d["text"]);
    patch.set("documents", std::move(docs));
  }
  auto initial = in.find("initial_query");
  if (!in.contains("query") && initial != in.end()) patch.set("query", *initial);
}

}  // namespace opea::actors
