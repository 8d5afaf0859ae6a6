#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace opea::test {

/// One route of the test microservice, parsed from `PATH:BEHAVIOUR[:ARG]`.
///
/// Behaviours (all POST with a JSON body, all asynchronous):
/// - `append:TEXT`   -> {"text": input.text + TEXT} (other fields dropped, like
///                      OPEA's TextDoc)
/// - `echo`          -> the input JSON
/// - `blacklist`     -> OPEA runtime-graph test s1: text += "OPEA Project!",
///                      plus downstream_black_list [] if the text contains
///                      "Hi", [".*"] if "Bye", else ["s2"]
/// - `status:CODE`   -> status CODE with an OpenAI-shaped JSON error body
/// - `badjson`       -> 200 with body `not json{`
/// - `hang`          -> never answers (until the client disconnects)
/// - `drop`          -> closes the connection without answering
/// - `rendezvous:N`  -> held until N requests (over all rendezvous routes) are
///                      held, then each gets {"text": text + PATH, "waited":
///                      N}; 500 {"error":"rendezvous timeout"} after 5 s
/// - `delay:MS`      -> echo after MS milliseconds (timer, not sleep); GET
///                      /stats counts these calls held at once ("in_flight")
///                      and the most ever held ("max_in_flight")
/// - `sse:N`         -> text/event-stream of N events `data: {"index":i}`
///                      then `data: [DONE]`
/// Invalid JSON input gets 400 (except for `badjson`, `status`, `hang`).
struct route_spec {
  std::string path;
  std::string behaviour;
  std::string arg;

  /// Parses `PATH:BEHAVIOUR[:ARG]`; ARG may contain ':'. Fails with
  /// `runtime::errc::bad_request` naming the problem.
  [[nodiscard]] static caf::expected<route_spec> parse(std::string_view spec);
};

/// Configuration of a test microservice.
struct test_service_config {
  /// Default: "127.0.0.1".
  std::string host = "127.0.0.1";
  /// Default: 0 (ephemeral).
  uint16_t port = 0;
  /// Default: 1.
  size_t io_threads = 1;
  std::vector<route_spec> routes;
};

/// A real HTTP microservice for integration tests, modelled on OPEA
/// GenAIComps' tests/cores/mega services. Also serves GET /stats ->
/// {"requests": requests to the behaviour routes, "connections": accepted,
/// "in_flight", "max_in_flight": delay calls held now / at most}.
///
/// Thread-safety: start/stop from one thread; counters from any thread.
class test_service {
 public:
  explicit test_service(test_service_config cfg);
  ~test_service();

  test_service(const test_service&) = delete;
  test_service& operator=(const test_service&) = delete;

  /// Starts listening; returns the bound port.
  [[nodiscard]] caf::expected<uint16_t> start();

  /// Stops the server and the timer thread. Idempotent.
  void stop();

  /// The bound port (0 before start).
  uint16_t port() const;

  /// Requests received by behaviour routes (not /stats).
  uint64_t requests() const;

  /// TCP connections accepted.
  uint64_t connections() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace opea::test
