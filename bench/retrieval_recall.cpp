// Recall of the HNSW search against exact search on a real store: for each
// labelled question of tests/data/chatqna_questions.json, the top k of a
// search at the store's ef_search against the top k of an exhaustive search
// (k = the store's size, which raises ef to the size). Prints recall@k and
// the mean search time per ef_search value.
//
//   opea-bench-retrieval-recall DATA_DIR INDEX [--k 4] [--ef 64,128,256,512]
// Each ef row searches with HNSW only; the last row uses the store's defaults
// (exhaustive search up to exact_search_limit chunks).
//   (build the index first, e.g. opea-bench-ingest --write-corpus DIR --chunks 10000,
//    then opea-node --config examples/chatqna/chatqna.yaml --data-dir DATA_DIR ingest DIR)

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/embedding/hashed_embedder.hpp"
#include "actors/retriever/vector_store.hpp"
#include "runtime/errors.hpp"

using namespace opea;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DATA_DIR INDEX [--k K] [--ef A,B,...]\n", argv[0]);
    return 2;
  }
  std::string data_dir = argv[1], index = argv[2];
  size_t k = 4;
  std::vector<size_t> efs{64, 128, 256, 512};
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--k") {
      k = std::stoul(argv[i + 1]);
    } else if (flag == "--ef") {
      efs.clear();
      std::stringstream in{argv[i + 1]};
      for (std::string part; std::getline(in, part, ',');) efs.push_back(std::stoul(part));
    }
  }
  std::ifstream qfile{std::string{OPEA_SOURCE_DIR} + "/tests/data/chatqna_questions.json"};
  auto questions = nlohmann::json::parse(qfile);
  actors::hashed_embedder embedder{384};
  std::vector<std::vector<float>> queries;
  for (const auto& q : questions) {
    std::promise<caf::expected<std::vector<actors::vector>>> done;
    embedder.embed(
        {q["question"].get<std::string>()},
        [&](caf::expected<std::vector<actors::vector>> v) { done.set_value(std::move(v)); });
    auto v = done.get_future().get();
    if (!v) return 1;
    queries.push_back((*v)[0]);
  }
  // ef 0 = the store's default, exhaustive below exact_search_limit.
  efs.push_back(0);
  for (auto ef : efs) {
    actors::vector_store_options opts;
    if (ef != 0) {
      opts.ef_search = ef;
      opts.exact_search_limit = 0;  // HNSW only
    }
    auto store = actors::vector_store::open(data_dir, index, opts);
    if (!store) {
      std::fprintf(stderr, "%s\n", runtime::describe(store.error()).c_str());
      return 1;
    }
    size_t found = 0, wanted = 0;
    double seconds = 0;
    for (const auto& q : queries) {
      actors::search_params exact_params;
      exact_params.k = std::min<size_t>((*store)->size(), 10000);
      auto exact = (*store)->search(q, exact_params);
      actors::search_params params;
      params.k = k;
      auto t0 = std::chrono::steady_clock::now();
      auto hits = (*store)->search(q, params);
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!exact || !hits) return 1;
      std::set<std::string> truth;
      for (size_t i = 0; i < k && i < exact->size(); ++i) truth.insert((*exact)[i].id);
      for (const auto& h : *hits) found += truth.count(h.id);
      wanted += truth.size();
    }
    if (ef == 0)
      std::printf("store default (exact up to %zu chunks): ", opts.exact_search_limit);
    else
      std::printf("HNSW ef_search %zu: ", ef);
    std::printf(
        "recall@%zu vs exact %.3f over %zu questions, %zu chunks, "
        "search %.1f us/query\n",
        k, wanted ? static_cast<double>(found) / wanted : 0.0, queries.size(), (*store)->size(),
        1e6 * seconds / queries.size());
  }
  return 0;
}
