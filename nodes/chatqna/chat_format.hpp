#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace opea::nodes {

/// Python's repr() of `text` encoded as UTF-8 bytes, e.g. b'Hello' or
/// b"it's": OPEA's ChatQnA streams each piece as `data: b'...'` so that its
/// UIs (which strip the b'' wrapper) work unchanged.
std::string python_bytes_repr(const std::string& text);

/// One server-sent event carrying `data` ("data: <data>\n\n").
inline std::string sse_event(const std::string& data) {
  return "data: " + data + "\n\n";
}

/// The event that ends both stream formats.
inline const char* sse_done() {
  return "data: [DONE]\n\n";
}

/// Identity and clock of one completion, shared by its chunks.
struct completion_meta {
  std::string id;       ///< "chatcmpl-<hex>"
  int64_t created = 0;  ///< Unix seconds
  std::string model;
};

/// A fresh completion id and the current time.
completion_meta make_completion_meta(std::string model);

/// OpenAI's `chat.completion.chunk`. The first chunk carries the role, content
/// chunks carry `content`, the last one an empty delta and `finish_reason`.
nlohmann::json openai_chunk(const completion_meta& meta, const std::string* role,
                            const std::string* content, const char* finish_reason);

/// OpenAI's `chat.completion` with one assistant choice and token usage
/// (tokens counted as whitespace-separated words, `text::count_words`;
/// documented approximation).
nlohmann::json openai_completion(const completion_meta& meta, const std::string& content,
                                 const std::string& prompt);

}  // namespace opea::nodes
