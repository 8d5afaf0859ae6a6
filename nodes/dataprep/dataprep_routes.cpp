#include "nodes/dataprep/dataprep_routes.hpp"

#include <utility>

#include <boost/asio/post.hpp>

#include "actors/dataprep/multipart.hpp"
#include "actors/embedding/embedding_actor.hpp"
#include "runtime/errors.hpp"
#include "runtime/http/json_route.hpp"
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

void count_ingest(const json& result, prometheus::Counter* documents, prometheus::Counter* chunks) {
  auto add = [&](prometheus::Counter* c, const char* field) {
    auto v = result.find(field);
    if (c != nullptr && v != result.end() && v->is_number_unsigned())
      c->Increment(v->get<double>());
  };
  add(documents, "documents");
  add(chunks, "chunks");
}

void dataprep_routes::mount(gateway& server) {
  auto svc = service_;
  auto workers = workers_;
  auto documents = documents_;
  auto chunks = chunks_;
  server.add_route("/v1/dataprep/ingest", {"POST"},
                   http::edge_route([svc, workers, documents, chunks](http::request&& req,
                                                                      runtime::request_context,
                                                                      http::responder out) {
                     caf::expected<actors::ingest_request> parsed = runtime::make_error(
                         runtime::errc::bad_request, "body", "request body is empty");
                     auto content_type = req.header("content-type");
                     if (content_type.rfind("multipart/", 0) == 0) {
                       auto parts = actors::parse_multipart(content_type, req.body);
                       if (!parts) {
                         out.fail(parts.error());
                         return;
                       }
                       parsed = svc->parse_form(*parts);
                     } else {
                       auto body = http::parse_json_object(req.body);
                       if (!body) {
                         out.fail(body.error());
                         return;
                       }
                       parsed = svc->parse_json(*body);
                     }
                     if (!parsed) {
                       out.fail(parsed.error());
                       return;
                     }
                     auto request = std::make_shared<actors::ingest_request>(std::move(*parsed));
                     boost::asio::post(*workers, [svc, request, out, documents, chunks] {
                       svc->ingest(std::move(request->documents), request->options,
                                   [out, documents, chunks](caf::expected<json> res) {
                                     if (res) count_ingest(*res, documents, chunks);
                                     out.answer(res);
                                   });
                     });
                   }));
  server.add_route("/v1/dataprep/get", {"POST", "GET"},
                   [svc](http::request&&, std::shared_ptr<http::response_writer> out) {
                     out->reply_json(200, svc->get_files());
                   });
  server.add_route(
      "/v1/dataprep/delete", {"POST"},
      http::json_route([svc, workers](json body, runtime::request_context, http::responder out) {
        auto shared_body = std::make_shared<json>(std::move(body));
        boost::asio::post(*workers,
                          [svc, shared_body, out] { out.answer(svc->delete_files(*shared_body)); });
      }));
  auto embedder = embedder_;
  server.add_route(
      "/v1/embeddings", {"POST"},
      http::json_route([embedder](json body, runtime::request_context, http::responder out) {
        auto texts = actors::parse_openai_embeddings_request(body);
        if (!texts) {
          out.fail(texts.error());
          return;
        }
        auto request = std::make_shared<json>(std::move(body));
        embedder->embed(std::move(*texts), [embedder, request, out](
                                               caf::expected<std::vector<actors::vector>> vectors) {
          if (!vectors) {
            out.fail(vectors.error());
            return;
          }
          out.answer(actors::openai_embeddings_response(*request, *vectors, embedder->model()));
        });
      }));
}

}  // namespace opea::nodes
