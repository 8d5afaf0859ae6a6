// Retrieval quality of the built-in ChatQnA stages on the bundled corpus and
// its labelled question set (tests/data/chatqna_questions.json): recall@4 of
// the hashed embedder + hnswlib retriever, and MRR before and after the
// built-in reranker. The numbers are printed with every run.

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>

#include "actors/dataprep/dataprep_service.hpp"
#include "actors/embedding/hashed_embedder.hpp"
#include "actors/rerank/reranker.hpp"
#include "actors/retriever/vector_store.hpp"

using namespace opea::actors;
using nlohmann::json;

namespace {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "opea-quality-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::string source_of(const json& metadata) {
  return metadata.value("source", std::string{});
}

}  // namespace

TEST_CASE("retrieval quality on the labelled ChatQnA questions", "[quality]") {
  const std::string root = OPEA_SOURCE_DIR;
  temp_dir dir;
  auto store = vector_store::open(dir.path.string(), "quality");
  REQUIRE(store);
  auto embedder = std::make_shared<hashed_embedder>(384);
  dataprep_service dataprep{*store, embedder};
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(root + "/examples/chatqna/corpus"))
    paths.push_back(e.path().string());
  std::sort(paths.begin(), paths.end());
  std::vector<source_document> docs;
  for (const auto& p : paths) docs.push_back(dataprep.from_link(p).value());
  std::promise<caf::expected<json>> ingested;
  dataprep.ingest(std::move(docs), ingest_options{},
                  [&](caf::expected<json> r) { ingested.set_value(std::move(r)); });
  REQUIRE(ingested.get_future().get());

  std::ifstream in{root + "/tests/data/chatqna_questions.json"};
  auto questions = json::parse(in);
  REQUIRE(questions.size() >= 40);

  hybrid_reranker reranker{embedder};
  double recall_sum = 0;
  double mrr_retrieval = 0;
  double mrr_reranked = 0;
  for (const auto& q : questions) {
    auto question = q["question"].get<std::string>();
    std::set<std::string> relevant;
    for (const auto& r : q["relevant"]) relevant.insert(r.get<std::string>());
    search_params params;
    params.k = 10;
    auto hits = (*store)->search(embedder->embed_one(question), params);
    REQUIRE(hits);
    // recall@4: the share of the relevant documents among the top 4 chunks' sources.
    std::set<std::string> top4;
    for (size_t i = 0; i < hits->size() && i < 4; ++i) top4.insert(source_of((*hits)[i].metadata));
    size_t found = 0;
    for (const auto& r : relevant) found += top4.count(r);
    recall_sum += static_cast<double>(found) / static_cast<double>(relevant.size());
    auto reciprocal_rank = [&](const std::vector<std::string>& ranked) {
      for (size_t i = 0; i < ranked.size(); ++i)
        if (relevant.count(ranked[i]) > 0) return 1.0 / static_cast<double>(i + 1);
      return 0.0;
    };
    std::vector<std::string> ranked;
    std::vector<std::string> texts;
    for (const auto& h : *hits) {
      ranked.push_back(source_of(h.metadata));
      texts.push_back(h.text);
    }
    mrr_retrieval += reciprocal_rank(ranked);
    std::promise<caf::expected<std::vector<scored_text>>> scored;
    reranker.rerank(question, texts, [&](caf::expected<std::vector<scored_text>> s) {
      scored.set_value(std::move(s));
    });
    auto order = scored.get_future().get();
    REQUIRE(order);
    std::vector<std::string> reranked;
    for (const auto& s : *order) reranked.push_back(ranked[s.index]);
    mrr_reranked += reciprocal_rank(reranked);
  }
  auto n = static_cast<double>(questions.size());
  auto recall = recall_sum / n;
  WARN("questions: " << questions.size() << ", recall@4: " << recall << ", MRR@10 retrieval: "
                     << mrr_retrieval / n << ", MRR@10 after rerank: " << mrr_reranked / n);
  CHECK(recall >= 0.8);
  CHECK(mrr_reranked / n >= mrr_retrieval / n);
}
