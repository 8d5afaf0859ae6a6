#include "runtime/service/service_catalog.hpp"

#include "runtime/errors.hpp"

namespace opea::runtime {

void service_catalog::add(std::string name, std::string description, service_type type,
                          factory make) {
  auto key = name;
  entries_[key] = entry{std::move(name), std::move(description), type, std::move(make)};
}

const service_catalog::entry* service_catalog::find(const std::string& name) const {
  auto i = entries_.find(name);
  return i == entries_.end() ? nullptr : &i->second;
}

std::vector<std::string> service_catalog::names() const {
  std::vector<std::string> out;
  for (auto& kv : entries_) out.push_back(kv.first);
  return out;
}

caf::expected<micro_service> service_catalog::instantiate(const std::string& service_name,
                                                          const std::string& builtin,
                                                          const json& params) const {
  auto e = find(builtin);
  if (e == nullptr) {
    std::string known;
    for (auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    return make_error(errc::bad_request, service_name,
                      "unknown built-in '" + builtin + "' (known: " + known + ")");
  }
  auto made = e->make(params);
  if (!made) return std::move(made.error());
  made->name = service_name;
  made->type = e->type;
  if (!made->in_process())
    return make_error(errc::bad_request, service_name,
                      "built-in '" + builtin + "' made neither a handler nor an actor");
  return made;
}

}  // namespace opea::runtime
