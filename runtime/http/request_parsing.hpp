#pragma once

#include <string>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "runtime/http/server.hpp"
#include "runtime/service/request_context.hpp"

namespace opea::runtime::http {

/// Parses a request body that must be one JSON object. The error
/// (errc::bad_request, subject "body") holds the message a gateway answers
/// with 400: empty body, invalid JSON (with the parser's position), or a JSON
/// value that is not an object.
[[nodiscard]] caf::expected<nlohmann::json> parse_json_object(const std::string& body);

/// The request context a gateway derives from the headers: `X-Request-Id`
/// when it is 1-128 printable ASCII characters (else a generated id), and the
/// W3C `traceparent`/`tracestate` when the traceparent is well-formed.
request_context context_from_headers(const request& req);

/// Answers `err` as JSON in OpenAI's error shape with its HTTP status
/// (runtime::http_status_of) and the request id header.
void reply_error(response_writer& out, const caf::error& err, const std::string& request_id);

}  // namespace opea::runtime::http
