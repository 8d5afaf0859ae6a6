#pragma once

// A test fixture for built-in services: an isolated actor system, metrics
// registry, HTTP client and catalog, and a one-service megaservice around a
// built-in made from its params. Header-only, for any test binary.

#include <memory>
#include <string>

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include "monitoring/metrics_registry.hpp"
#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "runtime/service/service_catalog.hpp"

namespace opea::test {

struct builtin_fixture {
  caf::actor_system_config cfg;
  // Declared before the actor system: outlives every actor that counts in it.
  monitoring::metrics_registry metrics{"test"};
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<runtime::http::client> client = std::make_shared<runtime::http::client>();
  runtime::service_catalog catalog;

  builtin_fixture() {
    cfg.set("scheduler.max-threads", 2);
    cfg.set("logger.console", caf::atom("none"));
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  /// A megaservice named `mega_name` whose only service is built-in `builtin`
  /// made from `params`; REQUIREs that it builds and CHECKs its type.
  std::unique_ptr<runtime::megaservice> single(const std::string& builtin,
                                               const runtime::json& params,
                                               runtime::service_type expected,
                                               const std::string& mega_name) {
    auto svc = catalog.instantiate(builtin, builtin, params);
    REQUIRE(svc);
    CHECK(svc->type == expected);
    runtime::service_orchestrator o;
    o.add(std::move(*svc));
    return std::make_unique<runtime::megaservice>(*sys, o, runtime::megaservice_options{mega_name},
                                                  metrics);
  }

  /// The error of building `builtin` from bad `params` (REQUIREs one, CHECKs bad_request).
  caf::error param_error(const std::string& builtin, const runtime::json& params) {
    auto svc = catalog.instantiate(builtin, builtin, params);
    REQUIRE(!svc);
    CHECK(runtime::code_of(svc.error()) == runtime::errc::bad_request);
    return svc.error();
  }
};

}  // namespace opea::test
