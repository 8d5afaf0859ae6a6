#include "runtime/service/micro_service.hpp"

#include "runtime/service/url.hpp"

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

std::string micro_service::endpoint_url() const {
  url u;
  u.host = host;
  u.port = port;
  u.target = endpoint.empty() || endpoint[0] != '/' ? "/" + endpoint : endpoint;
  return u.to_string();
}

}  // namespace opea::runtime
