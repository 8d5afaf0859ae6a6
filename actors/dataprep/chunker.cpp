#include "actors/dataprep/chunker.hpp"

#include "runtime/errors.hpp"
#include "runtime/text/text.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::make_error;

namespace {

/// A piece of the text: bytes [begin, end), code points [cp_begin, cp_end).
struct unit {
  size_t begin;
  size_t end;
  size_t cp_begin;
  size_t cp_end;
};

using text::is_space;

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

bool is_closer(char c) {
  return c == '"' || c == '\'' || c == ')' || c == ']';
}

/// Walks a UTF-8 text one code point at a time, counting code points.
class cursor {
 public:
  explicit cursor(std::string_view text, size_t pos = 0, size_t cp = 0)
      : text_(text), pos_(pos), cp_(cp) {}
  size_t pos() const { return pos_; }
  size_t cp() const { return cp_; }
  bool done() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void advance() {
    if (!is_continuation(text_[pos_])) ++cp_;
    ++pos_;
    // Keep the cursor on a code point boundary.
    while (pos_ < text_.size() && is_continuation(text_[pos_])) ++pos_;
  }

 private:
  std::string_view text_;
  size_t pos_;
  size_t cp_;
};

/// Sentences of text[begin, end) (trimmed, non-empty).
std::vector<unit> sentences(std::string_view text) {
  std::vector<unit> out;
  cursor c{text};
  while (!c.done()) {
    while (!c.done() && is_space(c.peek())) c.advance();
    if (c.done()) break;
    unit u{c.pos(), c.pos(), c.cp(), c.cp()};
    size_t last_end = 0, last_cp = 0;  // end of the last non-space character
    bool ended = false;
    while (!c.done() && !ended) {
      char ch = c.peek();
      if (ch == '\n') break;
      bool terminal = ch == '.' || ch == '!' || ch == '?';
      if (!is_space(ch)) {
        c.advance();
        last_end = c.pos();
        last_cp = c.cp();
      } else {
        c.advance();
      }
      if (terminal) {
        while (!c.done() &&
               (c.peek() == '.' || c.peek() == '!' || c.peek() == '?' || is_closer(c.peek()))) {
          c.advance();
          last_end = c.pos();
          last_cp = c.cp();
        }
        if (c.done() || is_space(c.peek())) ended = true;
      }
    }
    u.end = last_end;
    u.cp_end = last_cp;
    if (u.end > u.begin) out.push_back(u);
  }
  return out;
}

/// Splits an oversize sentence between words, and oversize words between
/// code points.
void split_long(std::string_view text, const unit& s, size_t limit, std::vector<unit>& out) {
  cursor c{text, s.begin, s.cp_begin};
  while (c.pos() < s.end) {
    while (c.pos() < s.end && is_space(c.peek())) c.advance();
    if (c.pos() >= s.end) break;
    unit w{c.pos(), c.pos(), c.cp(), c.cp()};
    while (c.pos() < s.end && !is_space(c.peek())) {
      c.advance();
      if (c.cp() - w.cp_begin == limit && c.pos() < s.end && !is_space(c.peek())) {
        w.end = c.pos();
        w.cp_end = c.cp();
        out.push_back(w);
        w = unit{c.pos(), c.pos(), c.cp(), c.cp()};
      }
    }
    w.end = c.pos();
    w.cp_end = c.cp();
    if (w.end > w.begin) out.push_back(w);
  }
}

}  // namespace

caf::expected<std::vector<std::string>> split_text(std::string_view text,
                                                   const chunk_options& opts) {
  if (opts.chunk_size == 0)
    return make_error(errc::bad_request, "chunk_size", "must be a positive integer");
  if (opts.chunk_overlap >= opts.chunk_size)
    return make_error(errc::bad_request, "chunk_overlap",
                      "must be smaller than chunk_size (" + std::to_string(opts.chunk_overlap) +
                          " >= " + std::to_string(opts.chunk_size) + ")");
  std::vector<unit> units;
  for (auto& s : sentences(text)) {
    if (s.cp_end - s.cp_begin <= opts.chunk_size)
      units.push_back(s);
    else
      split_long(text, s, opts.chunk_size, units);
  }
  auto span = [&](size_t a, size_t b) { return units[b].cp_end - units[a].cp_begin; };
  std::vector<std::string> out;
  size_t i = 0;
  const size_t n = units.size();
  while (i < n) {
    size_t j = i + 1;
    while (j < n && span(i, j) <= opts.chunk_size) ++j;
    out.emplace_back(text.substr(units[i].begin, units[j - 1].end - units[i].begin));
    if (j == n) break;
    size_t next = j;
    for (size_t c = j - 1; c > i; --c) {
      if (span(c, j - 1) <= opts.chunk_overlap && span(c, j) <= opts.chunk_size)
        next = c;
      else
        break;
    }
    i = next;
  }
  return out;
}

}  // namespace opea::actors

namespace opea::actors {

std::vector<std::vector<std::string>> chunk_headings(std::string_view text,
                                                     const std::vector<document_heading>& headings,
                                                     const std::vector<std::string>& chunks) {
  std::vector<std::vector<std::string>> out(chunks.size());
  size_t from = 0;
  size_t k = 0;  // the last heading at or before the chunk's start, if any
  for (size_t c = 0; c < chunks.size(); ++c) {
    auto begin = text.find(chunks[c], from);
    if (begin == std::string_view::npos) continue;  // not split_text's output
    auto end = begin + chunks[c].size();
    from = begin + 1;
    while (k + 1 < headings.size() && headings[k + 1].offset <= begin) ++k;
    size_t j = k;
    // The heading in effect at the chunk's start, then those inside it.
    if (j < headings.size() && headings[j].offset <= begin) out[c].push_back(headings[j++].text);
    for (; j < headings.size() && headings[j].offset < end; ++j) out[c].push_back(headings[j].text);
  }
  return out;
}

}  // namespace opea::actors
