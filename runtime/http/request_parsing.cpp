#include "runtime/http/request_parsing.hpp"

#include "runtime/errors.hpp"
#include "runtime/http/error_body.hpp"

namespace opea::runtime::http {

using nlohmann::json;

caf::expected<json> parse_json_object(const std::string& body) {
  if (body.empty())
    return make_error(errc::bad_request, "body", "request body is empty; expected a JSON object");
  auto value = json::parse(body, nullptr, false);
  if (value.is_discarded()) {
    // Parse again with exceptions only on the error path, for the position.
    std::string why = "request body is not valid JSON";
    try {
      auto discarded = json::parse(body);
      static_cast<void>(discarded);
    } catch (const json::parse_error& e) {
      why += ": ";
      why += e.what();
    }
    return make_error(errc::bad_request, "body", why);
  }
  if (!value.is_object())
    return make_error(errc::bad_request, "body",
                      std::string{"request body must be a JSON object, got "} + value.type_name());
  return value;
}

namespace {

bool acceptable_request_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

const char* error_type_of(int status) {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 499:
      return "cancelled";
    case 502:
      return "upstream_error";
    case 503:
      return "service_unavailable";
    case 504:
      return "timeout_error";
    default:
      return "internal_error";
  }
}

}  // namespace

request_context context_from_headers(const request& req) {
  request_context ctx;
  auto id = req.header("x-request-id");
  ctx.request_id = acceptable_request_id(id) ? id : make_request_id();
  auto tp = req.header("traceparent");
  if (is_valid_traceparent(tp)) {
    ctx.traceparent = tp;
    ctx.tracestate = req.header("tracestate");
  }
  return ctx;
}

void reply_error(response_writer& out, const caf::error& err, const std::string& request_id) {
  auto status = http_status_of(err);
  // A bad request carries its message in the detail ("body" errors) or as
  // "field: detail" so the client sees which field is wrong.
  std::string message;
  if (code_of(err) == errc::bad_request) {
    auto subject = subject_of(err);
    message =
        subject == "body" || subject.empty() ? detail_of(err) : subject + ": " + detail_of(err);
  } else {
    message = describe(err);
  }
  out.reply(status, "application/json", error_body(status, message, error_type_of(status)).dump(),
            {{"X-Request-Id", request_id}});
}

}  // namespace opea::runtime::http
