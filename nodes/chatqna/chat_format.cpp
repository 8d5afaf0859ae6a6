#include "nodes/chatqna/chat_format.hpp"

#include <cctype>
#include <chrono>

#include "runtime/service/request_context.hpp"
#include "runtime/text/text.hpp"

namespace opea::nodes {

std::string python_bytes_repr(const std::string& text) {
  // Python picks single quotes unless the bytes hold a single quote and no
  // double quote.
  bool has_single = text.find('\'') != std::string::npos;
  bool has_double = text.find('"') != std::string::npos;
  char quote = has_single && !has_double ? '"' : '\'';
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "b";
  out.push_back(quote);
  for (unsigned char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c == static_cast<unsigned char>(quote)) {
          out.push_back('\\');
          out.push_back(static_cast<char>(c));
        } else if (c < 0x20 || c >= 0x7f) {
          out += "\\x";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back(quote);
  return out;
}

completion_meta make_completion_meta(std::string model) {
  completion_meta meta;
  meta.id = "chatcmpl-" + runtime::make_request_id();
  meta.created = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  meta.model = std::move(model);
  return meta;
}

nlohmann::json openai_chunk(const completion_meta& meta, const std::string* role,
                            const std::string* content, const char* finish_reason) {
  nlohmann::json delta = nlohmann::json::object();
  if (role != nullptr) delta["role"] = *role;
  if (content != nullptr) delta["content"] = *content;
  nlohmann::json choice = {{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr}};
  choice["finish_reason"] =
      finish_reason == nullptr ? nlohmann::json(nullptr) : nlohmann::json(finish_reason);
  return {{"id", meta.id},
          {"object", "chat.completion.chunk"},
          {"created", meta.created},
          {"model", meta.model},
          {"choices", nlohmann::json::array({std::move(choice)})}};
}

nlohmann::json openai_completion(const completion_meta& meta, const std::string& content,
                                 const std::string& prompt) {
  auto prompt_tokens = text::count_words(prompt);
  auto completion_tokens = text::count_words(content);
  return {{"id", meta.id},
          {"object", "chat.completion"},
          {"created", meta.created},
          {"model", meta.model},
          {"choices",
           nlohmann::json::array({{{"index", 0},
                                   {"message", {{"role", "assistant"}, {"content", content}}},
                                   {"logprobs", nullptr},
                                   {"finish_reason", "stop"}}})},
          {"usage",
           {{"prompt_tokens", prompt_tokens},
            {"completion_tokens", completion_tokens},
            {"total_tokens", prompt_tokens + completion_tokens}}}};
}

}  // namespace opea::nodes
