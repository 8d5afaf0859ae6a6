#include "runtime/http/error_body.hpp"

#include <utility>

namespace opea::runtime::http {

nlohmann::json error_body(int status, std::string message, std::string type) {
  nlohmann::json err = nlohmann::json::object();
  err["message"] = std::move(message);
  err["type"] = std::move(type);
  err["param"] = nullptr;
  err["code"] = status;
  nlohmann::json body = nlohmann::json::object();
  body["error"] = std::move(err);
  return body;
}

}  // namespace opea::runtime::http
