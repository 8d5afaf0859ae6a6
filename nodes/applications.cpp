// The applications of opea-node: one line per application (see application.hpp).

#include "nodes/application.hpp"

#include "nodes/chatqna/chatqna_app.hpp"
#include "nodes/dataprep/dataprep_app.hpp"
#include "nodes/rerank/rerank_app.hpp"
#include "runtime/http/json_route.hpp"

namespace opea::nodes {

namespace {

/// OPEA's generic contract (`api: json`, the default): the request body is
/// the input of every source; the answer the output of the only leaf reached,
/// or an object keyed by service name (`http::flow_route`).
class json_app final : public application {
 public:
  std::string_view api() const override { return "json"; }

  std::vector<runtime::http::route> routes(const megaservice_config& mc,
                                           const runtime::flow_runner& run) const override {
    return {{mc.route, mc.methods, runtime::http::flow_route(run)}};
  }
};

}  // namespace

std::vector<std::unique_ptr<application>> make_applications() {
  std::vector<std::unique_ptr<application>> apps;
  apps.push_back(std::make_unique<json_app>());
  apps.push_back(make_chatqna_app());
  apps.push_back(make_dataprep_app());
  apps.push_back(make_rerank_app());
  return apps;
}

}  // namespace opea::nodes
