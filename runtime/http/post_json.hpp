#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "runtime/http/fwd.hpp"

namespace opea::runtime::http {

/// JSON over HTTP, the exchange of every remote backend and of the adapter of
/// external services, and the one place its failures become errors. Every
/// error's subject is `subject` (a service's name) or, when that is empty, the
/// URL itself; details name the URL unless the subject already is it:
///
/// | failure | errc | detail |
/// |---|---|---|
/// | the client's own (refused, DNS, timeout, cancelled, bad URL) | the client's (`http_connect`
/// when it has none) | "POST <url>: <why>" | | a non-2xx answer | `http_status` | "HTTP <status>[
/// from <url>]: <why>", `why` an `excerpt` of the body unless the caller reads it better | | a 2xx
/// body that is not JSON | `bad_response` | "not valid JSON: <excerpt>", or "response of <url> is
/// not valid JSON: <excerpt>" |
struct json_post {
  /// Absolute http URL posted to.
  std::string url;
  /// Names the errors. Default (empty): the URL.
  std::string subject;
  /// The request body, serialized JSON.
  std::string body;
  /// Extra headers (Content-Type and Accept: application/json are added).
  std::vector<std::pair<std::string, std::string>> headers;
  /// Deadline of the whole exchange. Default: 30 s.
  std::chrono::milliseconds timeout{30000};
};

/// At most `max` bytes of `body`, with "..." when cut: how an error quotes a body.
[[nodiscard]] std::string excerpt(std::string_view body, size_t max = 200);

/// The client's failure of `POST url`, restated for `subject` (see json_post).
[[nodiscard]] caf::error post_failed(const caf::error& err, const std::string& subject,
                                     const std::string& url);

/// A non-2xx answer, `why` said about it (see json_post).
[[nodiscard]] caf::error status_failed(int status, const std::string& why,
                                       const std::string& subject, const std::string& url);

/// The response of a finished exchange if it is 2xx, else `post_failed` or
/// `status_failed` with an excerpt of the body.
[[nodiscard]] caf::expected<client_response> checked_response(caf::expected<client_response> res,
                                                              const std::string& subject,
                                                              const std::string& url);

/// `body` parsed as JSON, or `bad_response` (see json_post).
[[nodiscard]] caf::expected<nlohmann::json> parse_json_body(const std::string& body,
                                                            const std::string& subject,
                                                            const std::string& url);

/// POSTs `req` through `c` and calls `done` once, on a client I/O thread,
/// with the parsed JSON of a 2xx answer or the error the table above names.
/// The returned handle (never null) aborts the exchange (`done` then gets
/// `errc::cancelled`).
std::shared_ptr<stream_handle> post_json(client& c, json_post req,
                                         std::function<void(caf::expected<nlohmann::json>)> done);

}  // namespace opea::runtime::http
