#include "nodes/services/service_factory.hpp"

#include "runtime/errors.hpp"
#include "runtime/http/remote_service.hpp"

namespace opea::nodes {

namespace rt = runtime;

service_factory::service_factory(const rt::service_catalog& catalog,
                                 std::shared_ptr<rt::http::client> client, std::string file)
    : catalog_(catalog), client_(std::move(client)), file_(std::move(file)) {}

rt::micro_service service_factory::make(const service_config& svc) const {
  rt::micro_service out;
  if (svc.kind == service_kind::builtin) {
    auto made = catalog_.instantiate(svc.name, svc.builtin, svc.params);
    if (!made) {
      auto key = "services." + svc.name;
      auto subject = rt::subject_of(made.error());
      if (subject != svc.name)
        key += "." + subject;  // e.g. params.suffix
      else
        key += ".builtin";
      throw config_error(file_ + ": " + key + ": " + rt::detail_of(made.error()));
    }
    out = std::move(*made);
  } else {
    out.name = svc.name;
    out.host = svc.endpoint.host;
    out.port = svc.endpoint.port;
    out.endpoint = svc.endpoint.target;
    out.timeout = std::chrono::milliseconds{svc.timeout_ms};
    out = rt::http::http_service(std::move(out), client_);
  }
  // A built-in knows its type (embedding, retriever, ...); the file's
  // service_type only overrides it when given.
  if (svc.kind == service_kind::http ||
      svc.service_type != static_cast<int>(rt::service_type::undefined))
    out.type = static_cast<rt::service_type>(svc.service_type);
  svc.set_policies(out);
  return out;
}

rt::service_type service_factory::type_of(const service_config& svc) const {
  if (svc.service_type != static_cast<int>(rt::service_type::undefined))
    return static_cast<rt::service_type>(svc.service_type);
  if (svc.kind == service_kind::builtin)
    if (const auto* entry = catalog_.find(svc.builtin)) return entry->type;
  return rt::service_type::undefined;
}

}  // namespace opea::nodes
