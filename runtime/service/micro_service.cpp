#include "runtime/service/micro_service.hpp"

#include <algorithm>
#include <stdexcept>

#include "runtime/errors.hpp"

namespace opea::runtime {

namespace {

/// An in-process service without its implementation yet.
micro_service local_shell(std::string name, service_type type) {
  micro_service s;
  s.name = std::move(name);
  s.host = "local";
  s.port = 0;
  s.type = type;
  return s;
}

}  // namespace

micro_service micro_service::local(std::string name, service_handler handler, service_type type) {
  auto s = local_shell(std::move(name), type);
  s.handler = std::move(handler);
  return s;
}

micro_service micro_service::actor(std::string name, actor_body body, service_type type) {
  auto s = local_shell(std::move(name), type);
  s.body = std::move(body);
  return s;
}

micro_service micro_service::remote(std::string name, const std::string& url, service_type type) {
  static const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    throw std::invalid_argument("service '" + name + "': URL \"" + url +
                                "\" is not an http:// URL");
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  micro_service s;
  s.name = std::move(name);
  s.type = type;
  s.endpoint = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon == std::string::npos) {
    s.host = authority;
    s.port = 80;
  } else {
    s.host = authority.substr(0, colon);
    auto port_text = authority.substr(colon + 1);
    size_t used = 0;
    unsigned long port = 0;
    try {
      port = std::stoul(port_text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != port_text.size() || port == 0 || port > 65535)
      throw std::invalid_argument("service '" + s.name + "': URL \"" + url +
                                  "\" has an invalid port");
    s.port = static_cast<uint16_t>(port);
  }
  if (s.host.empty())
    throw std::invalid_argument("service '" + s.name + "': URL \"" + url + "\" has no host");
  return s;
}

std::string micro_service::endpoint_url() const {
  auto path = endpoint.empty() || endpoint[0] != '/' ? "/" + endpoint : endpoint;
  return "http://" + host + ":" + std::to_string(port) + path;
}

}  // namespace opea::runtime
