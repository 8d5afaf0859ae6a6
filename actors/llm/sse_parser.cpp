#include "actors/llm/sse_parser.hpp"

namespace opea::actors {

bool sse_parser::feed(std::string_view bytes, const event_handler& on_event) {
  if (failed_) return false;
  for (char c : bytes) {
    if (!started_) {
      // Skips a UTF-8 BOM (EF BB BF) at the start of the stream.
      static constexpr char bom[] = "\xEF\xBB\xBF";
      if (line_.size() < 3 && c == bom[line_.size()]) {
        line_.push_back(c);
        if (line_.size() == 3) {
          line_.clear();
          started_ = true;
        }
        continue;
      }
      started_ = true;
    }
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;  // The LF of a CR LF pair split anywhere.
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      on_line(line_, on_event);
      line_.clear();
      continue;
    }
    if (line_.size() >= max_line_) {
      failed_ = true;
      return false;
    }
    line_.push_back(c);
  }
  return true;
}

void sse_parser::finish(const event_handler& on_event) {
  if (failed_) return;
  if (!line_.empty()) {
    on_line(line_, on_event);
    line_.clear();
  }
  dispatch(on_event);
}

void sse_parser::on_line(std::string_view line, const event_handler& on_event) {
  if (line.empty()) {
    dispatch(on_event);
    return;
  }
  if (line.front() == ':') return;  // Comment / keep-alive.
  std::string_view field = line;
  std::string_view value;
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) current_.data.push_back('\n');
    current_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    current_.event.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) current_.id.assign(value);
  }
}

void sse_parser::dispatch(const event_handler& on_event) {
  if (has_data_) {
    ++events_;
    on_event(current_);
  }
  current_ = sse_event{};
  has_data_ = false;
}

}  // namespace opea::actors
