#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace opea::actors {

/// A heading of a document: its text and where its line starts in the
/// document's text.
struct document_heading {
  size_t offset = 0;
  std::string text;
};

/// The text of a document, its title ("" when it has none) and its headings
/// in order (Markdown only; the title's heading included).
struct parsed_document {
  std::string text;
  std::string title;
  std::vector<document_heading> headings;
};

/// Extracts the text of a file by its extension (case-insensitive). A UTF-8
/// byte order mark is dropped and CRLF/CR line ends become LF.
///
/// - `.txt`: the text as is; no title.
/// - `.md`, `.markdown`: markup dropped, text kept: heading `#`s, emphasis
///   `*`, `_` (at word edges), `~~`, blockquote `>`, bullets `-`/`*`/`+`,
///   thematic breaks, setext underlines and link reference definitions go;
///   `[text](url)` and `![alt](url)` become their text; inline code and
///   fenced code blocks are kept as text (fences dropped). Lines are trimmed.
///   Title: the first heading. Headings: ATX and setext ones.
/// - `.html`, `.htm`: `script`, `style` and comments dropped, tags stripped,
///   block tags (p, div, br, li, h1-h6, tr, table, section...) become line
///   breaks, white space collapsed, common entities (&amp; &lt; &gt; &quot;
///   &apos; &nbsp; &#N; &#xN; and typographic ones) decoded; one line per
///   block, empty lines dropped. Title: the first h1-h6, else `<title>`.
/// - `.json`: if the top level is an object with a string field "text",
///   that field (title: a top-level string "title"); otherwise every string
///   value in document order, one per line (keys are not text).
///
/// Errors: errc::bad_request naming the file: an unsupported extension (the
/// message lists the supported ones) or invalid JSON.
[[nodiscard]] caf::expected<parsed_document> parse_document(const std::string& file_name,
                                                            std::string_view bytes);

/// The supported extensions, for messages: ".txt, .md, .markdown, .html,
/// .htm, .json".
const char* supported_document_types();

/// Markdown to text (see parse_document).
parsed_document markdown_to_text(std::string_view md);

/// HTML to text (see parse_document).
parsed_document html_to_text(std::string_view html);

}  // namespace opea::actors
