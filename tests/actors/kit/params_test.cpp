#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "actors/kit/params.hpp"
#include "runtime/errors.hpp"

namespace kit = opea::actors::kit;
using nlohmann::json;
using opea::runtime::detail_of;
using opea::runtime::subject_of;

namespace {

/// "subject: detail" of `err`.
std::string said(const caf::error& err) {
  return subject_of(err) + ": " + detail_of(err);
}

}  // namespace

TEST_CASE("kit::check_params accepts null and known keys, names the unknown", "[kit][params]") {
  CHECK_FALSE(kit::check_params(json(nullptr), {"a"}));
  CHECK_FALSE(kit::check_params(json{{"a", 1}}, {"a", "b"}));
  CHECK(said(kit::check_params(json{{"c", 1}}, {"a", "b"})) ==
        "params.c: unknown parameter (known: a, b)");
  CHECK(said(kit::check_params(json::array(), {"a"})) == "params: must be a map, got array");
}

TEST_CASE("kit readers: defaults, types and ranges", "[kit][params]") {
  json p{{"s", "x"}, {"i", 7}, {"n", 0.5}, {"neg", -1}, {"big", 2000}};
  CHECK(*kit::string_param(p, "missing", "d") == "d");
  CHECK(*kit::string_param(p, "s", "d", {"x", "y"}) == "x");
  CHECK(said(kit::string_param(p, "s", "d", {"y", "z"}).error()) ==
        "params.s: must be one of y, z, got 'x'");
  CHECK(said(kit::string_param(p, "i", "d").error()) == "params.i: must be a string, got number");
  CHECK(*kit::integer_param(p, "i", 1, 1, 10) == 7);
  CHECK(said(kit::integer_param(p, "big", 1, 1, 1000).error()) ==
        "params.big: must be in [1, 1000], got 2000");
  CHECK(said(kit::integer_param(p, "s", 1, 1, 10).error()) ==
        "params.s: must be an integer, got string");
  CHECK(*kit::number_param(p, "n", 0.0, 0.0, 1.0) == 0.5);
  CHECK(said(kit::number_param(p, "i", 0.0, 0.0, 1.0).error()) ==
        "params.i: must be in [0.0, 1.0], got 7");
  CHECK(*kit::positive_param(p, "missing", 3) == 3);
  CHECK(said(kit::positive_param(p, "neg", 3).error()) ==
        "params.neg: must be a positive integer, got -1");
  CHECK(kit::has_param(p, "s"));
  CHECK_FALSE(kit::has_param(json(nullptr), "s"));
}

TEST_CASE("kit::only_for_backends names the backends a key belongs to", "[kit][params]") {
  json p{{"url", "http://x"}};
  CHECK_FALSE(kit::only_for_backends(p, "url", {"tei", "openai"}, "tei"));
  CHECK_FALSE(kit::only_for_backends(p, "model", {"tei"}, "builtin"));
  CHECK(said(kit::only_for_backends(p, "url", {"tei", "openai"}, "builtin")) ==
        "params.url: applies only to backend tei, openai, not 'builtin'");
}
