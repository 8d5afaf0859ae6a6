#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace opea::runtime::http {

/// Builds the JSON body of an HTTP error in OpenAI's error shape:
/// `{"error":{"message":message,"type":type,"param":null,"code":status}}`.
/// Every HTTP error this project answers (server built-ins, gateway, actors)
/// uses this one helper so that clients parse a single shape.
nlohmann::json error_body(int status, std::string message, std::string type);

}  // namespace opea::runtime::http
