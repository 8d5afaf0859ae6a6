#include "nodes/gateway/rerank_route.hpp"

#include <memory>
#include <utility>

#include "actors/rerank/tei_rerank_api.hpp"
#include "runtime/http/request_parsing.hpp"

namespace opea::nodes {

namespace http = runtime::http;

void mount_rerank_route(gateway& gw, actors::reranker_ptr rr) {
  gw.add_route("/rerank", {"POST"},
               [rr](http::request&& req, std::shared_ptr<http::response_writer> out) {
                 auto id = http::context_from_headers(req).request_id;
                 auto body = http::parse_json_object(req.body);
                 if (!body) {
                   http::reply_error(*out, body.error(), id);
                   return;
                 }
                 auto call = actors::parse_tei_rerank_request(*body);
                 if (!call) {
                   http::reply_error(*out, call.error(), id);
                   return;
                 }
                 auto shared = std::make_shared<actors::tei_rerank_call>(std::move(*call));
                 rr->rerank(shared->query, shared->texts,
                            [shared, out, id](caf::expected<std::vector<actors::scored_text>> res) {
                              if (!res) {
                                http::reply_error(*out, res.error(), id);
                                return;
                              }
                              out->reply(200, "application/json",
                                         actors::tei_rerank_response(*shared, *res).dump(),
                                         {{"X-Request-Id", id}});
                            });
               });
}

}  // namespace opea::nodes
