#include "nodes/gateway/rerank_route.hpp"

#include <memory>
#include <utility>

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

}  // namespace opea::nodes
