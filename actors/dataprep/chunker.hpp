#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "actors/dataprep/document_parser.hpp"

namespace opea::actors {

/// How `split_text` cuts a document, with OPEA dataprep's defaults
/// (comps/dataprep: `chunk_size: int = Form(1500)`, `chunk_overlap: int =
/// Form(100)`).
struct chunk_options {
  /// Largest chunk, in Unicode code points (Python's len()). Default: 1500.
  size_t chunk_size = 1500;
  /// Code points of the end of a chunk repeated at the start of the next,
  /// in whole sentences. Default: 100.
  size_t chunk_overlap = 100;
};

/// Splits `text` (UTF-8) into chunks of at most `chunk_size` code points.
///
/// The text is cut into sentences: a sentence ends after `.`, `!` or `?`
/// (plus closing quotes or brackets) followed by white space, and at every
/// line break. Sentences are packed greedily; a chunk is the original text
/// from its first sentence to its last (inner spacing and line breaks kept,
/// no leading or trailing white space). The next chunk starts with the
/// longest run of whole trailing sentences of the previous one that fits in
/// `chunk_overlap` (and still leaves room for one new sentence), else with
/// the next sentence. A sentence longer than `chunk_size` is split between
/// words instead, and a word longer than `chunk_size` between code points.
/// Deterministic; white-space-only text gives no chunks.
///
/// Errors: errc::bad_request when chunk_size is 0 or chunk_overlap >=
/// chunk_size, naming the field.
[[nodiscard]] caf::expected<std::vector<std::string>> split_text(std::string_view text,
                                                                 const chunk_options& opts = {});

/// For each of `chunks` (`split_text(text)`'s output, in order), the
/// `headings` of `text` (`parse_document`'s, in order) whose sections it
/// covers: the one in effect at its start, then those that start inside it.
/// Example: headings A at 0 and B at 10, one chunk from 0 to 20 -> {{"A",
/// "B"}}; a chunk from 15 to 20 -> {{"B"}}.
[[nodiscard]] std::vector<std::vector<std::string>> chunk_headings(
    std::string_view text, const std::vector<document_heading>& headings,
    const std::vector<std::string>& chunks);

}  // namespace opea::actors
