#include "actors/rerank/service_reranker.hpp"

#include <utility>

#include "actors/embedding/remote_embedders.hpp"
#include "runtime/errors.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::make_error;

using detail::bad_answer_field;

caf::expected<std::vector<scored_text>> read_reranked_docs(const nlohmann::json& doc,
                                                           size_t count,
                                                           const std::string& service) {
  if (!doc.is_object())
    return make_error(errc::bad_response, service,
                      "answer must be a JSON object, got " + std::string{doc.type_name()});
  auto it = doc.find("reranked_docs");
  if (it == doc.end()) return bad_answer_field(service, "reranked_docs", "is missing");
  if (!it->is_array()) return bad_answer_field(service, "reranked_docs", "must be a list");
  const auto& docs = *it;
  if (docs.size() != count)
    return bad_answer_field(service, "reranked_docs",
                            "has " + std::to_string(docs.size()) + " documents for " +
                                std::to_string(count) + " candidates");
  std::vector<scored_text> out;
  std::vector<bool> seen(count, false);
  out.reserve(count);
  for (size_t i = 0; i < docs.size(); ++i) {
    auto field = "reranked_docs[" + std::to_string(i) + "]";
    const auto& d = docs[i];
    if (!d.is_object()) return bad_answer_field(service, field, "must be an object");
    auto idx = d.find("index");
    if (idx == d.end() || !idx->is_number_integer() || idx->get<long long>() < 0 ||
        idx->get<unsigned long long>() >= count)
      return bad_answer_field(service, field + ".index",
                              "must be an integer in [0, " + std::to_string(count) + ")");
    auto score = d.find("score");
    if (score == d.end() || !score->is_number())
      return bad_answer_field(service, field + ".score", "must be a number");
    auto index = idx->get<size_t>();
    if (seen[index])
      return bad_answer_field(service, field + ".index",
                              "repeats candidate " + std::to_string(index));
    seen[index] = true;
    out.push_back({index, score->get<double>()});
  }
  sort_by_score(out);
  return out;
}

service_reranker::service_reranker(runtime::service_call call, std::string service)
    : call_(std::move(call)), service_(std::move(service)) {}

std::string service_reranker::name() const {
  return "service:" + service_;
}

void service_reranker::rerank(std::string query, std::vector<std::string> texts,
                              std::function<void(caf::expected<std::vector<scored_text>>)> done) {
  if (texts.empty()) {
    done(std::vector<scored_text>{});
    return;
  }
  auto count = texts.size();
  nlohmann::json docs = nlohmann::json::array();
  for (size_t i = 0; i < texts.size(); ++i)
    docs.push_back({{"text", std::move(texts[i])}, {"index", i}});
  nlohmann::json input{
      {"initial_query", std::move(query)}, {"retrieved_docs", std::move(docs)}, {"top_n", count}};
  call_(std::move(input),
        [service = service_, count, done = std::move(done)](caf::expected<runtime::json_ptr> res) {
          if (!res) {
            done(std::move(res.error()));
            return;
          }
          done(read_reranked_docs(**res, count, service));
        });
}

}  // namespace opea::actors
