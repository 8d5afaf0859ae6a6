#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "runtime/service/micro_service.hpp"

namespace opea::runtime {

/// The in-process microservices a node can instantiate by name (its
/// "built-ins"), each from a JSON object of parameters. Filled once at
/// start-up (not thread-safe while being filled; read-only afterwards).
class service_catalog {
 public:
  /// Makes the service from its parameters: a micro_service with `handler`
  /// or `body` set (name and type are filled in by `instantiate`), or an error
  /// (errc::bad_request naming the parameter) when they are invalid.
  using factory = std::function<caf::expected<micro_service>(const json& params)>;

  struct entry {
    std::string name;
    std::string description;
    service_type type = service_type::undefined;
    factory make;
  };

  /// Registers a built-in; a second registration under the same name replaces
  /// the first.
  void add(std::string name, std::string description, service_type type, factory make);

  /// The entry called `name`, or nullptr.
  const entry* find(const std::string& name) const;

  /// Names of all built-ins, sorted.
  std::vector<std::string> names() const;

  /// A micro_service named `service_name` running built-in `builtin` with
  /// `params`; errors name the unknown built-in (listing the known ones) or
  /// the bad parameter.
  [[nodiscard]] caf::expected<micro_service> instantiate(const std::string& service_name,
                                                         const std::string& builtin,
                                                         const json& params) const;

 private:
  std::map<std::string, entry> entries_;
};

}  // namespace opea::runtime
