#include "nodes/chatqna/chat_request.hpp"

#include "runtime/errors.hpp"

namespace opea::nodes {

using nlohmann::json;
using runtime::errc;
using runtime::make_error;

namespace {

caf::error type_error(const std::string& field, const char* expected, const json& got) {
  return make_error(errc::bad_request, field,
                    std::string{"must be "} + expected + ", got " + got.type_name());
}

/// Text of one message's `content`: a string, or the text parts of a list.
caf::expected<std::string> content_text(const json& content, const std::string& field) {
  if (content.is_string()) return content.get<std::string>();
  if (content.is_null()) return std::string{};
  if (!content.is_array()) return type_error(field, "a string or a list of content parts", content);
  std::string text;
  bool first = true;
  for (size_t i = 0; i < content.size(); ++i) {
    const auto& part = content[i];
    auto pf = field + "[" + std::to_string(i) + "]";
    if (!part.is_object()) return type_error(pf, "an object", part);
    auto type = part.find("type");
    if (type == part.end() || !type->is_string())
      return make_error(errc::bad_request, pf + ".type", "is required and must be a string");
    if (*type != "text") continue;  // images and audio carry no prompt text
    auto t = part.find("text");
    if (t == part.end() || !t->is_string())
      return make_error(errc::bad_request, pf + ".text", "is required and must be a string");
    if (!first) text += "\n";
    text += t->get<std::string>();
    first = false;
  }
  return text;
}

}  // namespace

caf::expected<std::string> prompt_from_messages(const json& messages) {
  if (messages.is_string()) {
    if (messages.get<std::string>().empty())
      return make_error(errc::bad_request, "messages", "must not be empty");
    return messages.get<std::string>();
  }
  if (!messages.is_array())
    return type_error("messages", "a string or a list of messages", messages);
  if (messages.empty()) return make_error(errc::bad_request, "messages", "must not be empty");
  std::string system;
  std::vector<std::pair<std::string, std::string>> by_role;  // first appearance order
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    auto field = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return type_error(field, "an object", m);
    auto role = m.find("role");
    if (role == m.end()) return make_error(errc::bad_request, field + ".role", "is required");
    if (!role->is_string()) return type_error(field + ".role", "a string", *role);
    auto r = role->get<std::string>();
    auto content_it = m.find("content");
    json content = content_it == m.end() ? json{} : *content_it;
    auto text = content_text(content, field + ".content");
    if (!text) return std::move(text.error());
    if (r == "system") {
      system = *text;
    } else if (r == "user" || r == "assistant") {
      auto slot = std::find_if(by_role.begin(), by_role.end(),
                               [&](const auto& kv) { return kv.first == r; });
      if (slot == by_role.end())
        by_role.emplace_back(r, *text);
      else
        slot->second = *text;
    } else {
      return make_error(errc::bad_request, field + ".role",
                        "unknown role \"" + r + "\" (expected system, user or assistant)");
    }
  }
  if (by_role.empty())
    return make_error(errc::bad_request, "messages", "holds no user or assistant message");
  std::string prompt;
  if (!system.empty()) prompt = system + "\n";
  for (const auto& [role, text] : by_role) {
    if (!text.empty())
      prompt += role + ": " + text + "\n";
    else
      prompt += role + ":";
  }
  return prompt;
}

namespace {

/// The text of the last message with role "user" (`messages` was checked by
/// prompt_from_messages); empty when there is none.
std::string last_user_text(const json& messages) {
  if (messages.is_string()) return messages.get<std::string>();
  for (size_t i = messages.size(); i-- > 0;) {
    const auto& m = messages[i];
    auto role = m.find("role");
    if (role == m.end() || *role != "user") continue;
    auto content = m.find("content");
    if (content == m.end()) return {};
    auto text = content_text(*content, "messages[" + std::to_string(i) + "].content");
    return text ? *text : std::string{};
  }
  return {};
}

struct number_rule {
  const char* name;
  bool integer;
  double min;
  double max;
};

caf::error copy_number(const json& body, const number_rule& rule, json& into) {
  auto it = body.find(rule.name);
  if (it == body.end() || it->is_null()) return caf::none;
  if (rule.integer ? !it->is_number_integer() : !it->is_number())
    return type_error(rule.name, rule.integer ? "an integer" : "a number", *it);
  auto v = it->get<double>();
  if (v < rule.min || v > rule.max)
    return make_error(errc::bad_request, rule.name,
                      "must be between " + json(rule.min).dump() + " and " + json(rule.max).dump() +
                          ", got " + it->dump());
  into[rule.name] = *it;
  return caf::none;
}

}  // namespace

caf::expected<chat_request> parse_chat_request(const json& body, chat_api api) {
  if (!body.is_object()) return type_error("body", "a JSON object", body);
  chat_request out;
  auto messages = body.find("messages");
  if (messages == body.end() || messages->is_null())
    return make_error(errc::bad_request, "messages", "is required");
  if (api == chat_api::openai && !messages->is_array())
    return type_error("messages", "a list of messages", *messages);
  auto prompt = prompt_from_messages(*messages);
  if (!prompt) return std::move(prompt.error());
  out.prompt = std::move(*prompt);
  out.query = last_user_text(*messages);
  if (out.query.empty()) out.query = out.prompt;
  if (auto m = body.find("model"); m != body.end() && !m->is_null()) {
    if (!m->is_string()) return type_error("model", "a string", *m);
    out.model = m->get<std::string>();
  }
  out.stream = api == chat_api::opea_chatqna;
  if (auto s = body.find("stream"); s != body.end() && !s->is_null()) {
    if (!s->is_boolean()) return type_error("stream", "a boolean", *s);
    out.stream = s->get<bool>();
  }
  static const number_rule llm_rules[] = {
      {"max_tokens", true, 1, 1e6},
      {"temperature", false, 0, 2},
      {"top_p", false, 0, 1},
      {"top_k", true, 0, 1e6},
      {"frequency_penalty", false, -2, 2},
      {"presence_penalty", false, -2, 2},
      {"repetition_penalty", false, 0, 10},
  };
  for (const auto& rule : llm_rules)
    if (auto err = copy_number(body, rule, out.llm)) return err;
  if (auto t = body.find("chat_template"); t != body.end() && !t->is_null()) {
    if (!t->is_string()) return type_error("chat_template", "a string", *t);
    out.llm["chat_template"] = *t;
  }
  static const number_rule retriever_rules[] = {
      {"k", true, 1, 1000},
      {"fetch_k", true, 1, 10000},
      {"lambda_mult", false, 0, 1},
      {"score_threshold", false, -1, 1},
      {"distance_threshold", false, 0, 2},
  };
  for (const auto& rule : retriever_rules)
    if (auto err = copy_number(body, rule, out.retriever)) return err;
  if (auto st = body.find("search_type"); st != body.end() && !st->is_null()) {
    if (!st->is_string()) return type_error("search_type", "a string", *st);
    static const char* types[] = {"similarity", "similarity_distance_threshold",
                                  "similarity_score_threshold", "mmr"};
    if (std::find(std::begin(types), std::end(types), st->get<std::string>()) == std::end(types))
      return make_error(errc::bad_request, "search_type",
                        "unknown search type " + st->dump() +
                            " (expected similarity, similarity_distance_threshold, "
                            "similarity_score_threshold or mmr)");
    out.retriever["search_type"] = *st;
  }
  if (auto err = copy_number(body, {"top_n", true, 1, 1000}, out.reranker)) return err;
  return out;
}

}  // namespace opea::nodes
