#include <catch2/catch.hpp>

#include "actors/dataprep/document_parser.hpp"
#include "runtime/errors.hpp"

using namespace opea::actors;

namespace {

parsed_document parse(const std::string& name, const std::string& bytes) {
  auto doc = parse_document(name, bytes);
  REQUIRE(doc);
  return *doc;
}

}  // namespace

TEST_CASE("text files are taken as is, with line ends normalised", "[dataprep]") {
  auto doc = parse("notes.TXT", "\xEF\xBB\xBFline one\r\nline two\rthree\n");
  REQUIRE(doc.text == "line one\nline two\nthree\n");
  REQUIRE(doc.title.empty());
}

TEST_CASE("markdown keeps the text and drops the markup", "[dataprep]") {
  const std::string md =
      "# OPEA *Guide* #\n"
      "\n"
      "Read the [docs](https://opea.dev/docs) and **bold** or _emphasis_.\n"
      "> quoted ~~old~~ text\n"
      "- item one\n"
      "* item `two`\n"
      "1. first\n"
      "![diagram](img.png)\n"
      "snake_case stays\n"
      "---\n"
      "```python\n"
      "x = a * b  # kept\n"
      "```\n"
      "[ref]: https://example.com\n"
      "## Second heading\n";
  auto doc = parse("guide.md", md);
  REQUIRE(doc.title == "OPEA Guide");
  REQUIRE(doc.text ==
          "OPEA Guide\n"
          "\n"
          "Read the docs and bold or emphasis.\n"
          "quoted old text\n"
          "item one\n"
          "item two\n"
          "1. first\n"
          "diagram\n"
          "snake_case stays\n"
          "x = a * b  # kept\n"
          "Second heading");
  auto setext = parse("s.markdown", "Title Here\n==========\n\nBody.\n");
  REQUIRE(setext.title == "Title Here");
  REQUIRE(setext.text == "Title Here\n\nBody.");
}

TEST_CASE("html drops scripts and tags and decodes entities", "[dataprep]") {
  const std::string html =
      "<!DOCTYPE html><html><head><title>Page &amp; Title</title>"
      "<style>body { color: red; }</style><script>var x = '<p>';</script></head>"
      "<body><!-- hidden --><h1>Main <em>Heading</em></h1>"
      "<p>First   paragraph\n with <a href=\"x\">a link</a> &lt;tag&gt; &quot;q&quot; &#65;&#x42; "
      "caf&eacute;&nbsp;ok</p>"
      "<ul><li>one</li><li>two</li></ul><div>a<br>b</div>"
      "<table><tr><td>c1</td><td>c2</td></tr></table></body></html>";
  auto doc = parse("page.html", html);
  REQUIRE(doc.title == "Main Heading");
  REQUIRE(doc.text ==
          "Main Heading\n"
          "First paragraph with a link <tag> \"q\" AB caf&eacute; ok\n"
          "one\n"
          "two\n"
          "a\n"
          "b\n"
          "c1 c2");
  auto no_heading = parse("p.HTM",
                          "<html><head><title> Only  title </title></head>"
                          "<body><p>x &copy; y</p></body></html>");
  REQUIRE(no_heading.title == "Only title");
  REQUIRE(no_heading.text == "x \xC2\xA9 y");
}

TEST_CASE("json gives its text field, else every string in order", "[dataprep]") {
  auto doc = parse("d.json", R"({"title": "T", "text": "the body", "other": "ignored"})");
  REQUIRE(doc.text == "the body");
  REQUIRE(doc.title == "T");
  auto all = parse("d.json", R"({"zeta": "first", "alpha": ["second", 3, {"k": "third"}],
                                 "n": null, "b": true})");
  REQUIRE(all.text == "first\nsecond\nthird");
  REQUIRE(all.title.empty());
  auto list = parse("d.json", R"(["a", "b"])");
  REQUIRE(list.text == "a\nb");
  auto bad = parse_document("broken.json", "{nope");
  REQUIRE(!bad);
  REQUIRE(opea::runtime::subject_of(bad.error()) == "broken.json");
  REQUIRE(opea::runtime::detail_of(bad.error()) == "is not valid JSON");
}

TEST_CASE("an unknown extension is a bad request naming the file and the types", "[dataprep]") {
  auto pdf = parse_document("report.pdf", "%PDF");
  REQUIRE(!pdf);
  REQUIRE(opea::runtime::code_of(pdf.error()) == opea::runtime::errc::bad_request);
  REQUIRE(opea::runtime::subject_of(pdf.error()) == "report.pdf");
  REQUIRE(opea::runtime::detail_of(pdf.error()) ==
          "unsupported file type '.pdf'; supported: .txt, .md, .markdown, .html, .htm, .json");
  auto none = parse_document("README", "x");
  REQUIRE(opea::runtime::detail_of(none.error()) ==
          "unsupported file type '(none)'; supported: .txt, .md, .markdown, .html, .htm, .json");
}
