#pragma once

#include <memory>
#include <string>

#include "nodes/config/node_config.hpp"
#include "runtime/http/fwd.hpp"
#include "runtime/service/micro_service.hpp"
#include "runtime/service/service_catalog.hpp"

namespace opea::nodes {

/// Builds the micro_service of one configured service as this node runs it:
/// a built-in from `catalog` with its params, or an external HTTP service
/// (`http::http_service`) on the node's shared `client`; with the service's
/// restart, breaker, bulkhead and retry policies from the config. What the
/// node's megaservices and the cluster's hosted services both use.
///
/// Thread-safety: immutable after construction.
class service_factory {
 public:
  /// `file` names the config in errors.
  service_factory(const runtime::service_catalog& catalog,
                  std::shared_ptr<runtime::http::client> client, std::string file);

  /// Throws config_error naming the file and key (unknown built-in, bad
  /// built-in parameters).
  runtime::micro_service make(const service_config& svc) const;

  /// The service's type: the file's `service_type`, else the built-in's.
  runtime::service_type type_of(const service_config& svc) const;

 private:
  const runtime::service_catalog& catalog_;
  std::shared_ptr<runtime::http::client> client_;
  std::string file_;
};

}  // namespace opea::nodes
