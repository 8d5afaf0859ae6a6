#include "nodes/rerank/rerank_app.hpp"

#include <memory>
#include <utility>

#include "actors/rerank/service_reranker.hpp"
#include "actors/rerank/tei_rerank_api.hpp"
#include "runtime/http/json_route.hpp"

namespace opea::nodes {

namespace http = runtime::http;

void mount_rerank_route(gateway& gw, actors::reranker_ptr rr) {
  gw.add_route(
      "/rerank", {"POST"},
      http::json_route([rr](nlohmann::json body, runtime::request_context, http::responder out) {
        auto call = actors::parse_tei_rerank_request(body);
        if (!call) {
          out.fail(call.error());
          return;
        }
        auto shared = std::make_shared<actors::tei_rerank_call>(std::move(*call));
        rr->rerank(shared->query, shared->texts,
                   [shared, out](caf::expected<std::vector<actors::scored_text>> res) {
                     if (!res)
                       out.fail(res.error());
                     else
                       out.reply(actors::tei_rerank_response(*shared, *res));
                   });
      }));
}

namespace {

class rerank_app final : public application {
 public:
  void attach(node_services& node) override {
    for (const auto& svc : node.config().services) {
      if (svc.kind != service_kind::builtin || svc.builtin != "rerank") continue;
      if (!node.runs_here(svc)) continue;
      reranker_ = std::make_shared<actors::service_reranker>(node.caller_of(svc), svc.name);
      break;
    }
  }

  void start(node_services& node) override {
    if (reranker_) mount_rerank_route(node.edge(), reranker_);
  }

 private:
  actors::reranker_ptr reranker_;
};

}  // namespace

std::unique_ptr<application> make_rerank_app() {
  return std::make_unique<rerank_app>();
}

}  // namespace opea::nodes
