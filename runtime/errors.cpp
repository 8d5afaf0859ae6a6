#include "runtime/errors.hpp"

#include <caf/deep_to_string.hpp>
#include <caf/sec.hpp>

namespace opea::runtime {

const char* to_string(errc x) {
  switch (x) {
    case errc::invalid_graph:
      return "invalid_graph";
    case errc::bad_request:
      return "bad_request";
    case errc::service_failed:
      return "service_failed";
    case errc::service_crashed:
      return "service_crashed";
    case errc::service_unavailable:
      return "service_unavailable";
    case errc::deadline_exceeded:
      return "deadline_exceeded";
    case errc::http_status:
      return "http_status";
    case errc::http_connect:
      return "http_connect";
    case errc::http_timeout:
      return "http_timeout";
    case errc::bad_response:
      return "bad_response";
    case errc::overloaded:
      return "overloaded";
    case errc::cancelled:
      return "cancelled";
    case errc::node_down:
      return "node_down";
    case errc::restart_intensity:
      return "restart_intensity";
  }
  return "unknown";
}

caf::error make_error(errc code, std::string subject, std::string detail) {
  return caf::error{static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(subject), std::move(detail))};
}

errc code_of(const caf::error& err) {
  // caf::error::category() dereferences the data of an empty error.
  if (!err || err.category() != error_category) return static_cast<errc>(0);
  return static_cast<errc>(err.code());
}

std::string subject_of(const caf::error& err) {
  if (!err || err.category() != error_category) return {};
  const auto& ctx = err.context();
  if (ctx.size() >= 1 && ctx.match_element<std::string>(0)) return ctx.get_as<std::string>(0);
  return {};
}

std::string detail_of(const caf::error& err) {
  if (!err || err.category() != error_category) return {};
  const auto& ctx = err.context();
  if (ctx.size() >= 2 && ctx.match_element<std::string>(1)) return ctx.get_as<std::string>(1);
  return {};
}

std::string describe(const caf::error& err) {
  if (!err) return "no error";
  if (err.category() == caf::atom("system")) {
    auto code = static_cast<caf::sec>(err.code());
    std::string out = caf::to_string(code);
    if (!err.context().empty()) out += " " + caf::deep_to_string(err.context());
    return out;
  }
  if (err.category() != error_category) return caf::to_string(err);
  auto subject = subject_of(err);
  auto detail = detail_of(err);
  std::string out;
  switch (code_of(err)) {
    case errc::invalid_graph:
      out = "invalid graph";
      break;
    case errc::bad_request:
      out = "bad request";
      break;
    case errc::service_failed:
      out = "service '" + subject + "' failed";
      break;
    case errc::service_crashed:
      out = "service '" + subject + "' crashed";
      break;
    case errc::service_unavailable:
      out = "service '" + subject + "' is unavailable";
      break;
    case errc::deadline_exceeded:
      out = "deadline exceeded";
      break;
    case errc::http_status:
    case errc::http_connect:
    case errc::http_timeout:
    case errc::bad_response:
      out = "service '" + subject + "'";
      break;
    case errc::overloaded:
      out = "overloaded";
      break;
    case errc::cancelled:
      out = "cancelled";
      break;
    case errc::node_down:
      out = "service '" + subject + "'";
      break;
    case errc::restart_intensity:
      out = "supervisor '" + subject + "' reached its restart intensity";
      break;
  }
  switch (code_of(err)) {
    case errc::invalid_graph:
    case errc::bad_request:
    case errc::deadline_exceeded:
    case errc::overloaded:
    case errc::cancelled:
      if (!subject.empty()) out += " (" + subject + ")";
      break;
    default:
      break;
  }
  if (!detail.empty()) out += ": " + detail;
  return out;
}

int http_status_of(const caf::error& err) {
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
      case caf::sec::request_timeout:
        return 504;
      case caf::sec::request_receiver_down:
        return 502;
      default:
        return 500;
    }
  }
  if (err.category() != error_category) return 500;
  switch (code_of(err)) {
    case errc::bad_request:
      return 400;
    case errc::service_failed:
    case errc::service_crashed:
    case errc::http_status:
    case errc::http_connect:
    case errc::bad_response:
    case errc::node_down:
      return 502;
    case errc::service_unavailable:
    case errc::overloaded:
    case errc::restart_intensity:
      return 503;
    case errc::deadline_exceeded:
    case errc::http_timeout:
      return 504;
    case errc::cancelled:
      return 499;
    case errc::invalid_graph:
      return 500;
  }
  return 500;
}

}  // namespace opea::runtime
