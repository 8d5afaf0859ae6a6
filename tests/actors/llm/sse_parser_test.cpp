#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "actors/llm/sse_parser.hpp"

using namespace opea::actors;

namespace {

std::vector<std::string> parse_in_pieces(const std::string& stream,
                                         const std::vector<size_t>& cuts) {
  sse_parser p;
  std::vector<std::string> out;  // "type|data|id"
  auto on = [&](const sse_event& e) { out.push_back(e.event + "|" + e.data + "|" + e.id); };
  size_t prev = 0;
  for (auto c : cuts) {
    REQUIRE(p.feed(std::string_view{stream}.substr(prev, c - prev), on));
    prev = c;
  }
  REQUIRE(p.feed(std::string_view{stream}.substr(prev), on));
  p.finish(on);
  return out;
}

// Every feature at once: BOM, CRLF / CR / LF endings, comments, multi-line
// data, event types, ids, a field without a colon, unknown fields, an event
// without data (dropped) and a last event without a blank line.
const std::string stream =
    "\xEF\xBB\xBF: keep-alive\r\n"
    "data: {\"a\":1}\r\n\r\n"
    "event: error\rdata: first\rdata:second\r\r"
    "retry: 100\nid: 7\ndata:  spaced\n\n"
    "event: ping\n\n"
    "data\n\n"
    "data: [DONE]";

const std::vector<std::string> expected{"|{\"a\":1}|", "error|first\nsecond|", "| spaced|7", "||",
                                        "|[DONE]|"};

}  // namespace

TEST_CASE("SSE events parse in one piece", "[llm][sse]") {
  REQUIRE(parse_in_pieces(stream, {}) == expected);
}

TEST_CASE("SSE events parse when split at every byte boundary", "[llm][sse]") {
  for (size_t cut = 1; cut < stream.size(); ++cut) {
    INFO("cut at " << cut);
    REQUIRE(parse_in_pieces(stream, {cut}) == expected);
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < stream.size(); ++i) every.push_back(i);
  REQUIRE(parse_in_pieces(stream, every) == expected);
}

TEST_CASE("SSE parser refuses lines over its limit", "[llm][sse]") {
  sse_parser p{8};
  int events = 0;
  auto on = [&](const sse_event&) { ++events; };
  REQUIRE(p.feed("data: 1\n\n", on));
  REQUIRE_FALSE(p.feed("data: 123456789", on));
  REQUIRE_FALSE(p.feed("\n\n", on));
  REQUIRE(events == 1);
  REQUIRE(p.events() == 1);
}
