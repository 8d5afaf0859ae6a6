#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "monitoring/tracing/span_context.hpp"

using namespace opea::monitoring;

namespace {
const std::string good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
}

TEST_CASE("traceparent: a valid header parses and formats back unchanged",
          "[monitoring][tracing]") {
  auto ctx = span_context::parse(good, "congo=t61rcWkgMzE");
  REQUIRE(ctx);
  CHECK(ctx->trace.hex() == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(ctx->span.hex() == "00f067aa0ba902b7");
  CHECK(ctx->sampled());
  CHECK(ctx->remote);
  CHECK(ctx->state == "congo=t61rcWkgMzE");
  CHECK(ctx->traceparent() == good);

  auto unsampled = span_context::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  REQUIRE(unsampled);
  CHECK_FALSE(unsampled->sampled());
  CHECK(unsampled->traceparent() == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
}

TEST_CASE("traceparent: malformed headers are rejected", "[monitoring][tracing]") {
  const char* bad[] = {
      "",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",    // too short
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // version 00 too long
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper-case hex
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff
      "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version not hex
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero span id
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // separators
      "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
      "00-4bf92f3577b34da6a3ce929d0e0e473z-00f067aa0ba902b7-01",  // not hex
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  // future: no dash after
  };
  for (const char* h : bad) {
    INFO(h);
    CHECK_FALSE(span_context::parse(h));
  }
}

TEST_CASE("traceparent: a future version is read as version 00", "[monitoring][tracing]") {
  // Exactly 55 characters, or longer with '-' at 55; only the sampled flag survives.
  auto a = span_context::parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09");
  REQUIRE(a);
  CHECK(a->flags == span_context::sampled_flag);
  CHECK(a->traceparent() == good);
  auto b = span_context::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-next");
  REQUIRE(b);
  CHECK_FALSE(b->sampled());
  CHECK(b->span.hex() == "00f067aa0ba902b7");
}

TEST_CASE("span context: invalid contexts format as no header", "[monitoring][tracing]") {
  span_context none;
  CHECK_FALSE(none.valid());
  CHECK(none.traceparent().empty());
  span_context half;
  half.trace = trace_id::random();
  CHECK_FALSE(half.valid());
  CHECK(half.traceparent().empty());
}

TEST_CASE("ids: random ids are non-zero, lower-case hex and distinct", "[monitoring][tracing]") {
  std::set<std::string> traces, spans;
  for (int i = 0; i < 1000; ++i) {
    auto t = trace_id::random();
    auto s = span_id::random();
    REQUIRE(t.valid());
    REQUIRE(s.valid());
    auto th = t.hex();
    REQUIRE(th.size() == 32);
    REQUIRE(th.find_first_not_of("0123456789abcdef") == std::string::npos);
    REQUIRE(s.hex().size() == 16);
    traces.insert(th);
    spans.insert(s.hex());
  }
  CHECK(traces.size() == 1000);
  CHECK(spans.size() == 1000);
}
