#include <catch2/catch.hpp>

#include "actors/dataprep/multipart.hpp"
#include "runtime/errors.hpp"

using namespace opea::actors;

namespace {

const std::string ct = "multipart/form-data; boundary=XyZ";

std::string error_of(const std::string& content_type, const std::string& body,
                     multipart_limits limits = {}) {
  auto parts = parse_multipart(content_type, body, limits);
  REQUIRE(!parts);
  REQUIRE(opea::runtime::code_of(parts.error()) == opea::runtime::errc::bad_request);
  REQUIRE(opea::runtime::subject_of(parts.error()) == "multipart");
  return opea::runtime::detail_of(parts.error());
}

}  // namespace

TEST_CASE("multipart parses files and fields", "[dataprep]") {
  std::string body =
      "preamble is ignored\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "hello\r\nworld\r\n"
      "--XyZ\r\n"
      "content-disposition: form-data; name=\"files\"; filename=\"q\\\"b.md\"\r\n"
      "\r\n"
      "# T\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=chunk_size\r\n"
      "\r\n"
      "500\r\n"
      "--XyZ--\r\n"
      "epilogue";
  auto parts = parse_multipart("Multipart/Form-Data; boundary=\"XyZ\"", body);
  REQUIRE(parts);
  REQUIRE(parts->size() == 3);
  REQUIRE((*parts)[0].name == "files");
  REQUIRE((*parts)[0].filename == "a.txt");
  REQUIRE((*parts)[0].content_type == "text/plain");
  REQUIRE((*parts)[0].body == "hello\r\nworld");
  REQUIRE((*parts)[1].filename == "q\"b.md");
  REQUIRE((*parts)[1].body == "# T");
  REQUIRE((*parts)[2].name == "chunk_size");
  REQUIRE((*parts)[2].filename.empty());
  REQUIRE((*parts)[2].body == "500");
  auto empty = parse_multipart(ct, "--XyZ--\r\n");
  REQUIRE(empty);
  REQUIRE(empty->empty());
}

TEST_CASE("multipart names each problem", "[dataprep]") {
  const std::string part = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n";
  REQUIRE(error_of("application/json", "") ==
          "Content-Type is not multipart/form-data (got 'application/json')");
  REQUIRE(error_of("multipart/form-data", "") == "missing boundary in Content-Type");
  REQUIRE(error_of("multipart/form-data; boundary=" + std::string(71, 'b'), "") ==
          "boundary longer than 70 characters");
  REQUIRE(error_of(ct, "no delimiter here") == "no opening delimiter '--XyZ'");
  REQUIRE(error_of(ct, "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n") ==
          "part 1: unterminated headers");
  REQUIRE(error_of(ct, part + "--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--") ==
          "part 2: missing Content-Disposition");
  REQUIRE(
      error_of(ct, "--XyZ\r\nContent-Disposition: attachment; name=\"f\"\r\n\r\nx\r\n--XyZ--") ==
      "part 1: Content-Disposition is not form-data");
  REQUIRE(
      error_of(ct, "--XyZ\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx\r\n--XyZ--") ==
      "part 1: Content-Disposition has no name");
  REQUIRE(error_of(ct, "--XyZ\r\nBad header line\r\n\r\nx\r\n--XyZ--") ==
          "part 1: malformed header line");
  REQUIRE(error_of(ct, "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nno end") ==
          "part 1: unterminated part (no closing delimiter)");
  REQUIRE(error_of(ct, part + "--XyZ") == "missing closing delimiter '--XyZ--'");
  REQUIRE(error_of(ct, part + "--XyZjunk") == "part 2: delimiter not followed by CRLF");
  REQUIRE(error_of(ct, part + part + part + "--XyZ--", multipart_limits{2, 8192}) ==
          "too many parts (limit 2)");
  REQUIRE(error_of(ct, part + "--XyZ--", multipart_limits{256, 10}) ==
          "part 1: headers larger than 10 bytes");
}
