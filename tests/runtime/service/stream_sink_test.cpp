#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "runtime/service/stream_sink.hpp"

using namespace opea::runtime;

namespace {

struct recording_sink : stream_sink {
  std::vector<std::string> pieces;
  void write(std::string piece) override {
    if (!cancelled()) pieces.push_back(std::move(piece));
  }
};

}  // namespace

TEST_CASE("stream_sink runs cancel callbacks exactly once", "[stream]") {
  recording_sink sink;
  int before = 0;
  int after = 0;
  sink.on_cancel([&] { ++before; });
  sink.write("a ");
  REQUIRE_FALSE(sink.cancelled());
  sink.cancel();
  sink.cancel();
  REQUIRE(sink.cancelled());
  REQUIRE(before == 1);
  sink.on_cancel([&] { ++after; });  // registered late: runs right away
  REQUIRE(after == 1);
  sink.write("b ");
  REQUIRE(sink.pieces == std::vector<std::string>{"a "});
}
