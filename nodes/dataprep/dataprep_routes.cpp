#include "nodes/dataprep/dataprep_routes.hpp"

#include <utility>

#include <boost/asio/post.hpp>

#include "actors/dataprep/multipart.hpp"
#include "actors/embedding/embedding_actor.hpp"
#include "runtime/errors.hpp"
#include "runtime/http/request_parsing.hpp"

namespace opea::nodes {

namespace http = runtime::http;
using nlohmann::json;

dataprep_routes::dataprep_routes(std::shared_ptr<actors::dataprep_service> service,
                                 actors::embedder_ptr embedder)
    : service_(std::move(service)),
      embedder_(std::move(embedder)),
      workers_(std::make_shared<boost::asio::thread_pool>(1)) {}

dataprep_routes::~dataprep_routes() {
  workers_->stop();
  workers_->join();
}

void dataprep_routes::mount(gateway& server) {
  auto svc = service_;
  auto workers = workers_;
  server.add_route(
      "/v1/dataprep/ingest", {"POST"},
      [svc, workers](http::request&& req, std::shared_ptr<http::response_writer> out) {
        auto ctx = http::context_from_headers(req);
        auto id = ctx.request_id;
        caf::expected<actors::ingest_request> parsed =
            runtime::make_error(runtime::errc::bad_request, "body", "request body is empty");
        auto content_type = req.header("content-type");
        if (content_type.rfind("multipart/", 0) == 0) {
          auto parts = actors::parse_multipart(content_type, req.body);
          if (!parts) {
            http::reply_error(*out, parts.error(), id);
            return;
          }
          parsed = svc->parse_form(*parts);
        } else {
          auto body = http::parse_json_object(req.body);
          if (!body) {
            http::reply_error(*out, body.error(), id);
            return;
          }
          parsed = svc->parse_json(*body);
        }
        if (!parsed) {
          http::reply_error(*out, parsed.error(), id);
          return;
        }
        auto request = std::make_shared<actors::ingest_request>(std::move(*parsed));
        boost::asio::post(*workers, [svc, request, out, id] {
          svc->ingest(std::move(request->documents), request->options,
                      [out, id](caf::expected<json> res) {
                        if (res)
                          out->reply(200, "application/json", res->dump(), {{"X-Request-Id", id}});
                        else
                          http::reply_error(*out, res.error(), id);
                      });
        });
      });
  server.add_route("/v1/dataprep/get", {"POST", "GET"},
                   [svc](http::request&&, std::shared_ptr<http::response_writer> out) {
                     out->reply_json(200, svc->get_files());
                   });
  server.add_route("/v1/dataprep/delete", {"POST"},
                   [svc, workers](http::request&& req, std::shared_ptr<http::response_writer> out) {
                     auto id = http::context_from_headers(req).request_id;
                     auto body = http::parse_json_object(req.body);
                     if (!body) {
                       http::reply_error(*out, body.error(), id);
                       return;
                     }
                     auto shared_body = std::make_shared<json>(std::move(*body));
                     boost::asio::post(*workers, [svc, shared_body, out, id] {
                       auto res = svc->delete_files(*shared_body);
                       if (res)
                         out->reply(200, "application/json", res->dump(), {{"X-Request-Id", id}});
                       else
                         http::reply_error(*out, res.error(), id);
                     });
                   });
  auto embedder = embedder_;
  server.add_route(
      "/v1/embeddings", {"POST"},
      [embedder](http::request&& req, std::shared_ptr<http::response_writer> out) {
        auto id = http::context_from_headers(req).request_id;
        auto body = http::parse_json_object(req.body);
        if (!body) {
          http::reply_error(*out, body.error(), id);
          return;
        }
        auto texts = actors::parse_openai_embeddings_request(*body);
        if (!texts) {
          http::reply_error(*out, texts.error(), id);
          return;
        }
        auto request = std::make_shared<json>(std::move(*body));
        embedder->embed(std::move(*texts), [embedder, request, out, id](
                                               caf::expected<std::vector<actors::vector>> vectors) {
          if (!vectors) {
            http::reply_error(*out, vectors.error(), id);
            return;
          }
          auto res = actors::openai_embeddings_response(*request, *vectors, embedder->model());
          if (res)
            out->reply(200, "application/json", res->dump(), {{"X-Request-Id", id}});
          else
            http::reply_error(*out, res.error(), id);
        });
      });
}

}  // namespace opea::nodes
