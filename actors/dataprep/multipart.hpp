#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace opea::actors {

/// One part of a multipart/form-data body (RFC 7578).
struct form_part {
  /// The form field name (Content-Disposition `name`).
  std::string name;
  /// The file name (Content-Disposition `filename`); empty for plain fields.
  std::string filename;
  /// The part's Content-Type. Default (absent header): "text/plain".
  std::string content_type = "text/plain";
  /// The part's bytes.
  std::string body;
};

/// Bounds of `parse_multipart`.
struct multipart_limits {
  /// Most parts accepted. Default: 256.
  size_t max_parts = 256;
  /// Largest header block of one part. Default: 8 KiB.
  size_t max_header_bytes = 8192;
};

/// Parses a multipart/form-data body. `content_type` is the request's
/// Content-Type header, which must be multipart/form-data with a `boundary`
/// parameter (1 to 70 characters, RFC 2046; may be quoted). Strict: lines
/// end with CRLF, a preamble before the first delimiter is skipped, the
/// closing delimiter `--boundary--` is required, every part needs
/// `Content-Disposition: form-data` with a `name`. Header names are
/// case-insensitive; parameter values may be quoted (with backslash escapes).
///
/// Errors: errc::bad_request with subject "multipart" and a detail naming the
/// problem: "Content-Type is not multipart/form-data", "missing boundary",
/// "no opening delimiter", "part 2: unterminated headers", "part 2: missing
/// Content-Disposition", "part 2: unterminated part (no closing
/// delimiter)", "too many parts (limit 256)", ...
[[nodiscard]] caf::expected<std::vector<form_part>> parse_multipart(
    std::string_view content_type, std::string_view body, const multipart_limits& limits = {});

/// The `boundary` parameter of a multipart Content-Type, or an error.
[[nodiscard]] caf::expected<std::string> multipart_boundary(std::string_view content_type);

}  // namespace opea::actors
