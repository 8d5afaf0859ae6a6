#include "actors/dataprep/document_parser.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/errors.hpp"
#include "runtime/text/text.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::make_error;

namespace {

using text::is_space;
using text::lower;
using text::trim;
// Bytes of multi-byte UTF-8 sequences count as word characters.
using text::is_word_byte;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

/// Drops a BOM and turns CRLF and CR into LF.
std::string normalise_newlines(std::string_view in) {
  if (starts_with(in, "\xEF\xBB\xBF")) in.remove_prefix(3);
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// -- markdown -----------------------------------------------------------------

/// Index of the bracket closing the one at `open` (same kind, nesting
/// counted), or npos.
size_t matching(std::string_view s, size_t open, char o, char c) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] == o) ++depth;
    if (s[i] == c && --depth == 0) return i;
  }
  return std::string_view::npos;
}

std::string md_inline(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && std::ispunct(static_cast<unsigned char>(s[i + 1]))) {
      out.push_back(s[++i]);
      continue;
    }
    if (c == '`') {
      size_t run = 0;
      while (i + run < s.size() && s[i + run] == '`') ++run;
      auto fence = std::string(run, '`');
      auto close = s.find(fence, i + run);
      if (close != std::string_view::npos) {
        out += trim(s.substr(i + run, close - i - run));
        i = close + run - 1;
      } else {
        out += fence;
        i += run - 1;
      }
      continue;
    }
    bool image = c == '!' && i + 1 < s.size() && s[i + 1] == '[';
    if (c == '[' || image) {
      size_t open = image ? i + 1 : i;
      auto close = matching(s, open, '[', ']');
      if (close != std::string_view::npos && close + 1 < s.size() &&
          (s[close + 1] == '(' || s[close + 1] == '[')) {
        auto end = s[close + 1] == '(' ? matching(s, close + 1, '(', ')')
                                       : matching(s, close + 1, '[', ']');
        if (end != std::string_view::npos) {
          out += md_inline(s.substr(open + 1, close - open - 1));
          i = end;
          continue;
        }
      }
      out.push_back(c);
      continue;
    }
    if (c == '<') {
      auto close = s.find('>', i);
      if (close != std::string_view::npos) {
        auto inner = s.substr(i + 1, close - i - 1);
        if (starts_with(inner, "http://") || starts_with(inner, "https://") ||
            starts_with(inner, "mailto:")) {
          out += inner;
          i = close;
          continue;
        }
      }
      out.push_back(c);
      continue;
    }
    if (c == '*') continue;
    if (c == '~' && i + 1 < s.size() && s[i + 1] == '~') {
      ++i;
      continue;
    }
    if (c == '_') {
      bool prev_word = i > 0 && is_word_byte(s[i - 1]);
      size_t j = i;
      while (j < s.size() && s[j] == '_') ++j;
      bool next_word = j < s.size() && is_word_byte(s[j]);
      if (prev_word && next_word) {
        out.append(s.substr(i, j - i));  // snake_case: not emphasis
      }
      i = j - 1;
      continue;
    }
    out.push_back(c);
  }
  return out;
}

/// True for a line made of one of - = * _ repeated (>= 3, spaces allowed).
bool is_rule(std::string_view line, char& kind) {
  auto t = trim(line);
  if (t.empty()) return false;
  kind = t.front();
  if (kind != '-' && kind != '=' && kind != '*' && kind != '_') return false;
  size_t count = 0;
  for (char c : t) {
    if (c == kind)
      ++count;
    else if (c != ' ' && c != '\t')
      return false;
  }
  return count >= 3 || (kind == '=' && count >= 1 && t.find(' ') == std::string_view::npos);
}

bool is_link_definition(std::string_view t) {
  if (t.empty() || t.front() != '[') return false;
  auto close = t.find("]:");
  return close != std::string_view::npos && close > 1;
}

}  // namespace

parsed_document markdown_to_text(std::string_view md_in) {
  auto md = normalise_newlines(md_in);
  parsed_document doc;
  std::vector<std::string> lines;
  std::vector<size_t> heading_lines;  // indexes into lines
  bool in_fence = false;
  char fence_char = 0;
  size_t fence_len = 0;
  size_t pos = 0;
  while (pos <= md.size()) {
    auto nl = md.find('\n', pos);
    if (nl == std::string::npos) nl = md.size();
    std::string_view line{md.data() + pos, nl - pos};
    pos = nl + 1;
    auto t = trim(line);
    if (starts_with(t, "```") || starts_with(t, "~~~")) {
      size_t run = 0;
      while (run < t.size() && t[run] == t[0]) ++run;
      if (!in_fence) {
        in_fence = true;
        fence_char = t[0];
        fence_len = run;
        continue;
      }
      if (t[0] == fence_char && run >= fence_len && trim(t.substr(run)).empty()) {
        in_fence = false;
        continue;
      }
    }
    if (in_fence) {
      lines.emplace_back(line);
      continue;
    }
    if (t.empty()) {
      lines.emplace_back();
      continue;
    }
    char kind = 0;
    if (is_rule(t, kind)) {
      if ((kind == '=' || kind == '-') && !lines.empty() && !lines.back().empty() &&
          (heading_lines.empty() || heading_lines.back() != lines.size() - 1)) {
        // A setext heading.
        if (doc.title.empty()) doc.title = lines.back();
        heading_lines.push_back(lines.size() - 1);
      }
      continue;
    }
    if (is_link_definition(t)) continue;
    while (!t.empty() && t.front() == '>') t = trim(t.substr(1));
    bool heading = false;
    size_t hashes = 0;
    while (hashes < t.size() && t[hashes] == '#') ++hashes;
    if (hashes >= 1 && hashes <= 6 && (hashes == t.size() || t[hashes] == ' ')) {
      heading = true;
      t = trim(t.substr(hashes));
      auto last = t.find_last_not_of('#');
      if (last == std::string_view::npos)
        t = {};
      else if (last + 1 < t.size() && t[last] == ' ')
        t = trim(t.substr(0, last));
    } else if (t.size() >= 2 && (t[0] == '-' || t[0] == '*' || t[0] == '+') && t[1] == ' ') {
      t = trim(t.substr(2));
      if (starts_with(t, "[ ] ") || starts_with(t, "[x] ") || starts_with(t, "[X] "))
        t = t.substr(4);
    }
    auto text = md_inline(t);
    if (heading && doc.title.empty()) doc.title = text;
    if (heading && !text.empty()) heading_lines.push_back(lines.size());
    lines.push_back(std::move(text));
  }
  // Join, dropping leading/trailing empty lines.
  size_t first = 0, last = lines.size();
  while (first < last && lines[first].empty()) ++first;
  while (last > first && lines[last - 1].empty()) --last;
  size_t next_heading = 0;
  for (size_t i = first; i < last; ++i) {
    if (i > first) doc.text.push_back('\n');
    while (next_heading < heading_lines.size() && heading_lines[next_heading] < i) ++next_heading;
    if (next_heading < heading_lines.size() && heading_lines[next_heading] == i)
      doc.headings.push_back({doc.text.size(), lines[i]});
    doc.text += lines[i];
  }
  return doc;
}

// -- html ---------------------------------------------------------------------

namespace {

const char* const block_tags[] = {
    "address", "article", "aside",      "blockquote", "br",      "dd",      "details", "div",
    "dl",      "dt",      "figcaption", "figure",     "footer",  "form",    "h1",      "h2",
    "h3",      "h4",      "h5",         "h6",         "header",  "hr",      "li",      "main",
    "nav",     "ol",      "p",          "pre",        "section", "summary", "table",   "tbody",
    "thead",   "tfoot",   "tr",         "ul",         "title",   "caption", "body",    "html"};

bool is_block(const std::string& name) {
  return std::find(std::begin(block_tags), std::end(block_tags), name) != std::end(block_tags);
}

/// Decodes the entity at s[i] == '&'; returns the bytes consumed (0 if none).
size_t decode_entity(std::string_view s, size_t i, std::string& out) {
  auto semi = s.find(';', i);
  if (semi == std::string_view::npos || semi - i > 10) return 0;
  auto name = s.substr(i + 1, semi - i - 1);
  if (name.empty()) return 0;
  if (name[0] == '#') {
    uint32_t cp = 0;
    bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
    auto digits = name.substr(hex ? 2 : 1);
    if (digits.empty()) return 0;
    for (char c : digits) {
      int v = -1;
      if (c >= '0' && c <= '9')
        v = c - '0';
      else if (hex && c >= 'a' && c <= 'f')
        v = c - 'a' + 10;
      else if (hex && c >= 'A' && c <= 'F')
        v = c - 'A' + 10;
      if (v < 0) return 0;
      cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
      if (cp > 0x10FFFF) cp = 0x110000;
    }
    append_utf8(out, cp);
    return semi - i + 1;
  }
  static const std::pair<const char*, const char*> named[] = {
      {"amp", "&"},        {"lt", "<"},         {"gt", ">"},          {"quot", "\""},
      {"apos", "'"},       {"nbsp", " "},       {"copy", "\u00A9"},   {"reg", "\u00AE"},
      {"trade", "\u2122"}, {"mdash", "\u2014"}, {"ndash", "\u2013"},  {"hellip", "\u2026"},
      {"lsquo", "\u2018"}, {"rsquo", "\u2019"}, {"ldquo", "\u201C"},  {"rdquo", "\u201D"},
      {"laquo", "\u00AB"}, {"raquo", "\u00BB"}, {"middot", "\u00B7"}, {"bull", "\u2022"},
      {"euro", "\u20AC"},  {"deg", "\u00B0"},   {"times", "\u00D7"}};
  for (auto& [n, v] : named) {
    if (name == n) {
      out += v;
      return semi - i + 1;
    }
  }
  return 0;
}

/// Collapses white space runs to one space and trims.
std::string collapse(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (is_space(c)) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

/// Finds "</name" (case-insensitive) from `from`; returns npos if absent.
size_t find_close_tag(std::string_view s, size_t from, const std::string& name) {
  auto needle = "</" + name;
  for (size_t i = from; i + needle.size() <= s.size(); ++i) {
    if (s[i] != '<') continue;
    if (lower(s.substr(i, needle.size())) == needle) return i;
  }
  return std::string_view::npos;
}

}  // namespace

parsed_document html_to_text(std::string_view html_in) {
  auto html = normalise_newlines(html_in);
  std::string_view s{html};
  parsed_document doc;
  std::string body;        // text with '\n' at block boundaries
  std::string heading;     // text of the first heading being read
  std::string page_title;  // <title>
  int heading_depth = 0;
  bool heading_done = false;
  auto emit = [&](std::string_view piece) {
    body += piece;
    if (heading_depth > 0 && !heading_done) heading += piece;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '<') {
      if (starts_with(s.substr(i), "<!--")) {
        auto end = s.find("-->", i + 4);
        i = end == std::string_view::npos ? s.size() : end + 2;
        continue;
      }
      size_t j = i + 1;
      bool closing = j < s.size() && s[j] == '/';
      if (closing) ++j;
      size_t name_begin = j;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '-')) ++j;
      bool declaration = j == name_begin && j < s.size() && (s[j] == '!' || s[j] == '?');
      if (j == name_begin && !declaration) {
        emit("<");  // a lone '<' is text
        continue;
      }
      // Find the tag's end, skipping quoted attribute values.
      char quote = 0;
      size_t k = j;
      for (; k < s.size(); ++k) {
        if (quote) {
          if (s[k] == quote) quote = 0;
        } else if (s[k] == '"' || s[k] == '\'') {
          quote = s[k];
        } else if (s[k] == '>') {
          break;
        }
      }
      if (k >= s.size()) {
        emit(s.substr(i));  // unterminated tag: keep as text
        break;
      }
      auto name = lower(s.substr(name_begin, j - name_begin));
      i = k;
      if (declaration) continue;
      if (!closing && (name == "script" || name == "style" || name == "title")) {
        auto end = find_close_tag(s, k + 1, name);
        auto content = s.substr(k + 1, (end == std::string_view::npos ? s.size() : end) - k - 1);
        if (name == "title" && page_title.empty()) {
          std::string decoded;
          for (size_t m = 0; m < content.size(); ++m) {
            size_t used = content[m] == '&' ? decode_entity(content, m, decoded) : 0;
            if (used > 0)
              m += used - 1;
            else
              decoded.push_back(content[m]);
          }
          page_title = collapse(decoded);
        }
        if (end == std::string_view::npos) break;
        auto gt = s.find('>', end);
        i = gt == std::string_view::npos ? s.size() : gt;
        continue;
      }
      bool is_heading = name.size() == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6';
      if (is_heading && !heading_done) {
        if (closing) {
          if (heading_depth > 0 && --heading_depth == 0) {
            auto t = collapse(heading);
            if (!t.empty()) heading_done = true;
            heading.clear();
            if (heading_done) doc.title = t;
          }
        } else {
          ++heading_depth;
        }
      }
      if (is_block(name))
        emit("\n");
      else if (name == "td" || name == "th")
        emit(" ");
      continue;
    }
    if (c == '&') {
      std::string decoded;
      auto used = decode_entity(s, i, decoded);
      if (used > 0) {
        emit(decoded);
        i += used - 1;
        continue;
      }
    }
    if (c == '\n' || c == '\t' || c == '\f' || c == '\v') c = ' ';
    emit(std::string_view{&c, 1});
  }
  if (doc.title.empty()) doc.title = page_title;
  size_t pos = 0;
  while (pos <= body.size()) {
    auto nl = body.find('\n', pos);
    if (nl == std::string::npos) nl = body.size();
    auto line = collapse(std::string_view{body}.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty()) continue;
    if (!doc.text.empty()) doc.text.push_back('\n');
    doc.text += line;
  }
  return doc;
}

// -- json and dispatch --------------------------------------------------------

namespace {

void collect_strings(const nlohmann::ordered_json& j, std::string& out) {
  if (j.is_string()) {
    if (!out.empty()) out.push_back('\n');
    out += j.get<std::string>();
  } else if (j.is_array() || j.is_object()) {
    for (auto& v : j) collect_strings(v, out);
  }
}

}  // namespace

const char* supported_document_types() {
  return ".txt, .md, .markdown, .html, .htm, .json";
}

caf::expected<parsed_document> parse_document(const std::string& file_name,
                                              std::string_view bytes) {
  auto dot = file_name.find_last_of('.');
  auto slash = file_name.find_last_of('/');
  std::string ext;
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash))
    ext = lower(file_name.substr(dot));
  if (ext == ".txt") return parsed_document{normalise_newlines(bytes), {}, {}};
  if (ext == ".md" || ext == ".markdown") return markdown_to_text(bytes);
  if (ext == ".html" || ext == ".htm") return html_to_text(bytes);
  if (ext == ".json") {
    auto j = nlohmann::ordered_json::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (j.is_discarded()) return make_error(errc::bad_request, file_name, "is not valid JSON");
    parsed_document doc;
    if (j.is_object()) {
      if (auto t = j.find("text"); t != j.end() && t->is_string()) {
        doc.text = normalise_newlines(t->get<std::string>());
        if (auto ti = j.find("title"); ti != j.end() && ti->is_string())
          doc.title = ti->get<std::string>();
        return doc;
      }
    }
    collect_strings(j, doc.text);
    doc.text = normalise_newlines(doc.text);
    return doc;
  }
  return make_error(errc::bad_request, file_name,
                    "unsupported file type '" + (ext.empty() ? std::string{"(none)"} : ext) +
                        "'; supported: " + supported_document_types());
}

}  // namespace opea::actors
