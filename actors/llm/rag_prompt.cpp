#include "actors/llm/rag_prompt.hpp"

#include <algorithm>
#include <map>

namespace opea::actors {

namespace {

// OPEA's templates, character for character (GenAIExamples ChatQnA/chatqna.py;
// the backslash line continuations of the Python source leave no newline).
constexpr std::string_view english_template =
    "\n### You are a helpful, respectful and honest assistant to help the user with questions. "
    "Please refer to the search results obtained from the local knowledge base. "
    "But be careful to not incorporate the information that you think is not relevant to the "
    "question. "
    "If you don't know the answer to a question, please don't share false information. \n\n"
    "### Search results: {context} \n\n"
    "### Question: {question} \n\n"
    "### Answer:\n";

constexpr std::string_view chinese_template =
    "\n### \u4f60\u5c06\u626e\u6f14\u4e00\u4e2a\u4e50\u4e8e\u52a9\u4eba\u3001\u5c0a\u91cd\u4ed6"
    "\u4eba\u5e76\u8bda\u5b9e\u7684\u52a9\u624b\uff0c\u4f60\u7684\u76ee\u6807\u662f\u5e2e\u52a9"
    "\u7528\u6237\u89e3\u7b54\u95ee\u9898\u3002\u6709\u6548\u5730\u5229\u7528\u6765\u81ea\u672c"
    "\u5730\u77e5\u8bc6\u5e93\u7684\u641c\u7d22\u7ed3\u679c\u3002\u786e\u4fdd\u4f60\u7684\u56de"
    "\u7b54\u4e2d\u53ea\u5305\u542b\u76f8\u5173\u4fe1\u606f\u3002\u5982\u679c\u4f60\u4e0d\u786e"
    "\u5b9a\u95ee\u9898\u7684\u7b54\u6848\uff0c\u8bf7\u907f\u514d\u5206\u4eab\u4e0d\u51c6\u786e"
    "\u7684\u4fe1\u606f\u3002\n"
    "### \u641c\u7d22\u7ed3\u679c\uff1a{context}\n"
    "### \u95ee\u9898\uff1a{question}\n"
    "### \u56de\u7b54\uff1a\n";

// GenAIComps template.py, including its 12-space indentation.
constexpr std::string_view llama31_template =
    "\n            <|begin_of_text|><|start_header_id|>system<|end_header_id|> You are an "
    "assistant for question-answering tasks. Use the following pieces of retrieved context to "
    "answer the question. If you don't know the answer, just say that you don't know. Use three "
    "sentences maximum and keep the answer concise <|eot_id|><|start_header_id|>user"
    "<|end_header_id|>\n"
    "            Question: {question}\n"
    "            Context: {context}\n"
    "            Answer: <|eot_id|><|start_header_id|>assistant<|end_header_id|>";

/// Decodes UTF-8 and counts (code points, code points in U+4E00..U+9FFF).
/// Invalid bytes count as one code point each.
std::pair<size_t, size_t> count_cjk(std::string_view s) {
  size_t total = 0;
  size_t cjk = 0;
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t len = b < 0x80           ? 1
                 : (b >> 5) == 0x6  ? 2
                 : (b >> 4) == 0xE  ? 3
                 : (b >> 3) == 0x1E ? 4
                                    : 1;
    if (i + len > s.size()) len = 1;
    if (len == 3) {
      uint32_t cp = (b & 0x0Fu) << 12 | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6 |
                    (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
      if (cp >= 0x4E00 && cp <= 0x9FFF) ++cjk;
    }
    ++total;
    i += len;
  }
  return {total, cjk};
}

std::string join(const std::vector<std::string>& docs) {
  std::string out;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (i > 0) out += '\n';
    out += docs[i];
  }
  return out;
}

/// Python's str.format with named string arguments only; unknown names are
/// left as they are (callers only pass templates whose variables they know).
std::string format(std::string_view tmpl, const std::map<std::string, std::string_view>& args) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    char c = tmpl[i];
    if (c == '{' && i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
      out += '{';
      i += 2;
    } else if (c == '}' && i + 1 < tmpl.size() && tmpl[i + 1] == '}') {
      out += '}';
      i += 2;
    } else if (c == '{') {
      auto close = tmpl.find('}', i);
      if (close == std::string_view::npos) {
        out.append(tmpl.substr(i));
        break;
      }
      auto name = std::string{tmpl.substr(i + 1, close - i - 1)};
      auto it = args.find(name);
      if (it != args.end())
        out.append(it->second);
      else
        out.append(tmpl.substr(i, close - i + 1));
      i = close + 1;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> template_variables(std::string_view tmpl) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < tmpl.size()) {
    if ((tmpl[i] == '{' || tmpl[i] == '}') && i + 1 < tmpl.size() && tmpl[i + 1] == tmpl[i]) {
      i += 2;
      continue;
    }
    if (tmpl[i] == '{') {
      auto close = tmpl.find('}', i);
      if (close == std::string_view::npos) break;
      out.emplace_back(tmpl.substr(i + 1, close - i - 1));
      i = close + 1;
      continue;
    }
    ++i;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string default_rag_prompt(std::string_view question, const std::vector<std::string>& documents,
                               std::string_view model) {
  auto context = join(documents);
  std::string_view tmpl = english_template;
  if (model == "meta-llama/Meta-Llama-3.1-70B-Instruct" ||
      model == "meta-llama/Meta-Llama-3.1-8B-Instruct") {
    tmpl = llama31_template;
  } else if (!context.empty()) {
    auto [total, cjk] = count_cjk(context);
    if (static_cast<double>(cjk) / static_cast<double>(total) >= 0.3) tmpl = chinese_template;
  }
  return format(tmpl, {{"context", context}, {"question", question}});
}

std::string build_llm_prompt(std::string_view question, const std::vector<std::string>& documents,
                             std::string_view chat_template, std::string_view model) {
  if (!chat_template.empty()) {
    auto vars = template_variables(chat_template);
    if (vars == std::vector<std::string>{"context", "question"}) {
      auto context = join(documents);
      return format(chat_template, {{"context", context}, {"question", question}});
    }
    if (vars == std::vector<std::string>{"question"})
      return format(chat_template, {{"question", question}});
    return std::string{question};
  }
  if (!documents.empty()) return default_rag_prompt(question, documents, model);
  return std::string{question};
}

}  // namespace opea::actors
