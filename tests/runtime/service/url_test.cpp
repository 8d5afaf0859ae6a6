#include <catch2/catch.hpp>

#include <string>

#include "runtime/errors.hpp"
#include "runtime/service/url.hpp"

using namespace opea::runtime;

namespace {

/// The detail of the error `url::parse(text)` fails with.
std::string why(const std::string& text) {
  auto u = url::parse(text);
  REQUIRE_FALSE(u);
  CHECK(code_of(u.error()) == errc::bad_request);
  CHECK(subject_of(u.error()) == text);
  return detail_of(u.error());
}

}  // namespace

TEST_CASE("url: host, port and target of http URLs", "[url]") {
  auto u = url::parse("http://127.0.0.1:8082/v1/add");
  REQUIRE(u);
  CHECK(u->scheme == "http");
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == 8082);
  CHECK(u->target == "/v1/add");
  CHECK(u->authority() == "127.0.0.1:8082");
  CHECK(u->to_string() == "http://127.0.0.1:8082/v1/add");

  u = url::parse("HTTP://fakehost");
  REQUIRE(u);
  CHECK(u->scheme == "http");
  CHECK(u->host == "fakehost");
  CHECK(u->port == 80);
  CHECK(u->target == "/");
  CHECK(u->to_string() == "http://fakehost:80/");

  u = url::parse("http://h:1?q=2#frag");
  REQUIRE(u);
  CHECK(u->target == "/?q=2");
}

TEST_CASE("url: bracketed IPv6 hosts keep their colons", "[url]") {
  auto u = url::parse("http://[::1]:8080/x");
  REQUIRE(u);
  CHECK(u->host == "::1");
  CHECK(u->port == 8080);
  CHECK(u->target == "/x");
  CHECK(u->authority() == "[::1]:8080");
  CHECK(u->to_string() == "http://[::1]:8080/x");

  u = url::parse("http://[fe80::1:2]/y?z=1");
  REQUIRE(u);
  CHECK(u->host == "fe80::1:2");
  CHECK(u->port == 80);
  CHECK(u->target == "/y?z=1");
}

TEST_CASE("url: bad inputs name what is wrong", "[url]") {
  CHECK(why("") == "is not an http:// URL");
  CHECK(why("tei:8080/x") == "is not an http:// URL");
  CHECK(why("htp://x") == "is not an http:// URL");
  CHECK(why("ftp://h/") == "is not an http:// URL");
  CHECK(why("https://x:1/a") == "is not an http:// URL (https is not supported)");
  CHECK(why("http://") == "has no host");
  CHECK(why("http://:80/a") == "has no host");
  CHECK(why("http://[]:80/a") == "has no host");
  CHECK(why("http://h:/a") == "has an invalid port");
  CHECK(why("http://h:0/a") == "has an invalid port");
  CHECK(why("http://h:65536/a") == "has an invalid port");
  CHECK(why("http://h:99999/") == "has an invalid port");
  CHECK(why("http://h:8x/a") == "has an invalid port");
  CHECK(why("http://[::1]:/a") == "has an invalid port");
  CHECK(why("http://u@h:80/a") == "has user info (not supported)");
  CHECK(why("http://[::1/a") == "has an unterminated IPv6 address");
  CHECK(why("http://[::g]/a") == "has an invalid host");
  CHECK(why("http://[::1]x/a") == "has an invalid host");
  CHECK(why("http://h st/a") == "has an invalid host");
  CHECK(why("http://h:80/a b") == "has an invalid character in its path");
}
