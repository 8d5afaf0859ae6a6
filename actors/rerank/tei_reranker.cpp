#include "actors/rerank/tei_reranker.hpp"

#include <utility>

#include "actors/embedding/remote_embedders.hpp"
#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"
#include "runtime/http/post_json.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::make_error;
using json = nlohmann::json;

namespace {

caf::expected<std::vector<scored_text>> read_scores(const json& body, size_t count,
                                                    const std::string& url) {
  if (!body.is_array())
    return make_error(errc::bad_response, url,
                      std::string{"expected a list of {index, score}, got "} + body.type_name() +
                          ": " + runtime::http::excerpt(body.dump()));
  if (body.size() != count)
    return make_error(
        errc::bad_response, url,
        "expected " + std::to_string(count) + " scores, got " + std::to_string(body.size()));
  std::vector<scored_text> out;
  out.reserve(count);
  std::vector<bool> seen(count, false);
  for (size_t i = 0; i < body.size(); ++i) {
    const auto& item = body[i];
    auto where = "[" + std::to_string(i) + "]";
    if (!item.is_object())
      return make_error(errc::bad_response, url,
                        where + " must be an object, got " + item.type_name());
    auto idx = item.find("index");
    if (idx == item.end() || !idx->is_number_integer())
      return make_error(errc::bad_response, url, where + ".index must be an integer");
    auto index = idx->get<int64_t>();
    if (index < 0 || static_cast<size_t>(index) >= count)
      return make_error(errc::bad_response, url,
                        where + ".index " + std::to_string(index) + " is out of range [0, " +
                            std::to_string(count) + ")");
    if (seen[index])
      return make_error(errc::bad_response, url,
                        where + ".index " + std::to_string(index) + " is repeated");
    auto score = item.find("score");
    if (score == item.end() || !score->is_number())
      return make_error(errc::bad_response, url, where + ".score must be a number");
    seen[index] = true;
    out.push_back({static_cast<size_t>(index), score->get<double>()});
  }
  sort_by_score(out);
  return out;
}

}  // namespace

caf::expected<reranker_ptr> tei_reranker::make(std::shared_ptr<runtime::http::client> client,
                                               std::string url, std::chrono::milliseconds timeout) {
  auto endpoint = detail::join_endpoint(url, "/rerank");
  if (!endpoint) return std::move(endpoint.error());
  return reranker_ptr{std::make_shared<tei_reranker>(std::move(client), *endpoint, timeout)};
}

tei_reranker::tei_reranker(std::shared_ptr<runtime::http::client> client, std::string endpoint,
                           std::chrono::milliseconds timeout)
    : client_(std::move(client)), endpoint_(std::move(endpoint)), timeout_(timeout) {
  if (!client_) client_ = std::make_shared<runtime::http::client>();
}

std::string tei_reranker::name() const {
  return "tei-rerank " + endpoint_;
}

void tei_reranker::rerank(std::string query, std::vector<std::string> texts,
                          std::function<void(caf::expected<std::vector<scored_text>>)> done) {
  if (texts.empty()) {
    done(std::vector<scored_text>{});
    return;
  }
  auto count = texts.size();
  json body{{"query", std::move(query)}, {"texts", std::move(texts)}, {"raw_scores", false}};
  runtime::http::post_json(
      *client_, {endpoint_, {}, body.dump(), {}, timeout_},
      [count, url = endpoint_, done = std::move(done)](caf::expected<json> res) {
        if (!res) {
          done(std::move(res.error()));
          return;
        }
        done(read_scores(*res, count, url));
      });
}

}  // namespace opea::actors
