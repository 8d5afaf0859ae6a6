#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <cmath>
#include <filesystem>
#include <map>

#include <sys/wait.h>
#include <unistd.h>

#include "actors/retriever/vector_store.hpp"
#include "runtime/errors.hpp"
#include "tests/actors/retriever/temp_dir.hpp"

using namespace opea::actors;
using nlohmann::json;
using opea::actors::testing::temp_dir;
using opea::runtime::errc;

namespace {

chunk make(const std::string& id, std::vector<float> v, const std::string& source = "doc.txt") {
  return chunk{id, "text of " + id, json{{"source", source}}, std::move(v)};
}

/// Five chunks whose cosine similarity to (1, 0, 0) is 1, 0.8, 0.6, 0, -1.
std::vector<chunk> five() {
  return {make("a", {1, 0, 0}), make("b", {0.8f, 0.6f, 0}), make("c", {0.6f, 0, 0.8f}),
          make("d", {0, 1, 0}), make("e", {-1, 0, 0})};
}

std::vector<std::string> ids(const caf::expected<std::vector<search_hit>>& hits) {
  REQUIRE(hits);
  std::vector<std::string> out;
  for (auto& h : *hits) out.push_back(h.id);
  return out;
}

std::shared_ptr<vector_store> open_store(const temp_dir& dir, vector_store_options opts = {}) {
  auto store = vector_store::open(dir.path(), "idx", opts);
  REQUIRE(store);
  return *store;
}

search_params params(const std::string& type, size_t k = 4) {
  search_params p;
  p.search_type = type;
  p.k = k;
  return p;
}

}  // namespace

TEST_CASE("similarity search returns the exact top k with cosine scores", "[retriever]") {
  temp_dir dir;
  auto store = open_store(dir);
  REQUIRE(store->dimension() == 0);
  REQUIRE(store->add(five()));
  REQUIRE(store->dimension() == 3);
  REQUIRE(store->size() == 5);
  auto hits = store->search({2, 0, 0}, params("similarity", 3));  // not unit: normalised
  REQUIRE(ids(hits) == std::vector<std::string>{"a", "b", "c"});
  REQUIRE((*hits)[0].score == Approx(1.0));
  REQUIRE((*hits)[1].score == Approx(0.8));
  REQUIRE((*hits)[2].score == Approx(0.6));
  REQUIRE((*hits)[1].text == "text of b");
  REQUIRE((*hits)[1].metadata == json{{"source", "doc.txt"}});
  REQUIRE(ids(store->search({1, 0, 0}, search_params{})) ==
          std::vector<std::string>{"a", "b", "c", "d"});
  REQUIRE(ids(store->search({-1, 0, 0}, params("similarity", 1))) == std::vector<std::string>{"e"});
}

TEST_CASE("threshold searches filter by score and by distance", "[retriever]") {
  temp_dir dir;
  auto store = open_store(dir);
  REQUIRE(store->add(five()));
  auto p = params("similarity_score_threshold");
  p.score_threshold = 0.7;
  REQUIRE(ids(store->search({1, 0, 0}, p)) == std::vector<std::string>{"a", "b"});
  p.score_threshold = -0.5;  // k still bounds the answer
  REQUIRE(ids(store->search({1, 0, 0}, p)) == std::vector<std::string>{"a", "b", "c", "d"});
  auto d = params("similarity_distance_threshold");
  d.distance_threshold = 0.45;  // distance = 1 - cosine: 0, 0.2, 0.4, 1, 2
  REQUIRE(ids(store->search({1, 0, 0}, d)) == std::vector<std::string>{"a", "b", "c"});
  d.distance_threshold.reset();
  auto err = store->search({1, 0, 0}, d);
  REQUIRE(!err);
  REQUIRE(opea::runtime::code_of(err.error()) == errc::bad_request);
  REQUIRE(opea::runtime::subject_of(err.error()) == "distance_threshold");
}

TEST_CASE("mmr trades relevance for diversity among the fetch_k nearest", "[retriever]") {
  temp_dir dir;
  auto store = open_store(dir);
  // a and a2 are near duplicates; b is less relevant but different; d is
  // orthogonal to everything.
  REQUIRE(store->add({make("a", {0.95f, 0.312f, 0}), make("a2", {0.94f, 0.341f, 0}),
                      make("b", {0.8f, -0.6f, 0}), make("d", {0, 0, 1})}));
  auto p = params("mmr", 3);
  p.fetch_k = 3;
  auto hits = store->search({1, 0, 0}, p);
  REQUIRE(ids(hits) == std::vector<std::string>{"a", "b", "a2"});
  REQUIRE((*hits)[0].score == Approx(0.95).epsilon(1e-3));
  REQUIRE((*hits)[1].score == Approx(0.8).epsilon(1e-3));
  p.fetch_k = 4;  // d is now a candidate, and more novel than a2
  REQUIRE(ids(store->search({1, 0, 0}, p)) == std::vector<std::string>{"a", "b", "d"});
  p.lambda_mult = 1;  // pure relevance
  REQUIRE(ids(store->search({1, 0, 0}, p)) == std::vector<std::string>{"a", "a2", "b"});
  REQUIRE(ids(store->search({1, 0, 0}, params("similarity", 3))) ==
          std::vector<std::string>{"a", "a2", "b"});
}

TEST_CASE("search rejects bad parameters and queries by name", "[retriever]") {
  temp_dir dir;
  auto store = open_store(dir);
  REQUIRE(store->search({1, 0, 0}, search_params{})->empty());  // empty store
  REQUIRE(store->add(five()));
  auto subject = [&](std::vector<float> q, search_params p) {
    auto r = store->search(q, p);
    REQUIRE(!r);
    REQUIRE(opea::runtime::code_of(r.error()) == errc::bad_request);
    return opea::runtime::subject_of(r.error());
  };
  REQUIRE(subject({1, 0}, search_params{}) == "embedding");
  REQUIRE(subject({0, 0, 0}, search_params{}) == "embedding");
  REQUIRE(subject({1, 0, 0}, params("fuzzy")) == "search_type");
  REQUIRE(subject({1, 0, 0}, params("similarity", 0)) == "k");
  auto p = params("mmr");
  p.lambda_mult = 1.5;
  REQUIRE(subject({1, 0, 0}, p) == "lambda_mult");
}

TEST_CASE("add validates chunks and replaces ids and sources", "[retriever]") {
  temp_dir dir;
  auto store = open_store(dir, vector_store_options{3});
  auto bad = store->add({make("x", {1, 0})});
  REQUIRE(!bad);
  REQUIRE(opea::runtime::subject_of(bad.error()) == "chunks[0].embedding");
  REQUIRE(opea::runtime::detail_of(bad.error()) == "has 2 values, the store's dimension is 3");
  REQUIRE(!store->add({make("x", {1, 0, 0}), make("x", {0, 1, 0})}));
  REQUIRE(!store->add({make("", {1, 0, 0})}));
  REQUIRE(store->size() == 0);

  REQUIRE(store->add({make("a#0", {1, 0, 0}, "a.txt"), make("a#1", {0, 1, 0}, "a.txt"),
                      make("b#0", {0, 0, 1}, "b.txt")}));
  // Same id: replaced, not duplicated.
  REQUIRE(store->add({chunk{"b#0", "new b", json{{"source", "b.txt"}}, {0, 0, 2}}}));
  REQUIRE(store->size() == 3);
  auto hits = store->search({0, 0, 1}, params("similarity", 1));
  REQUIRE((*hits)[0].text == "new b");
  // Re-ingesting a source replaces all its chunks in one change.
  REQUIRE(store->add({make("a#0", {0.6f, 0.8f, 0}, "a.txt")}, "a.txt"));
  REQUIRE(store->size() == 2);
  auto sources = store->list_sources();
  REQUIRE(sources.size() == 2);
  REQUIRE(sources[0].name == "a.txt");
  REQUIRE(sources[0].chunks == 1);
  REQUIRE(sources[1].name == "b.txt");
  REQUIRE(sources[1].chunks == 1);
}

TEST_CASE("remove by id, by source and clear", "[retriever]") {
  temp_dir dir;
  auto store = open_store(dir);
  auto batch = five();
  batch[3].metadata["source"] = "other.md";
  batch[4].metadata["source"] = "other.md";
  REQUIRE(store->add(batch));
  REQUIRE(*store->remove({"a", "zzz", "a"}) == 1);
  REQUIRE(ids(store->search({1, 0, 0}, params("similarity", 2))) ==
          std::vector<std::string>{"b", "c"});
  REQUIRE(*store->remove_source("doc.txt") == 2);
  REQUIRE(*store->remove_source("doc.txt") == 0);
  REQUIRE(store->list_sources().size() == 1);
  REQUIRE(store->list_sources()[0].name == "other.md");
  REQUIRE(ids(store->search({1, 0, 0}, search_params{})) == std::vector<std::string>{"d", "e"});
  REQUIRE(*store->clear() == 2);
  REQUIRE(store->size() == 0);
  REQUIRE(store->search({1, 0, 0}, search_params{})->empty());
}

TEST_CASE("a reopened store answers as before, from log or snapshot", "[retriever]") {
  temp_dir dir;
  std::vector<std::string> before;
  {
    auto store = open_store(dir);
    REQUIRE(store->add(five()));
    REQUIRE(*store->remove({"c"}) == 1);
    before = ids(store->search({1, 0, 0}, search_params{}));
  }  // no close: only the log holds the data
  REQUIRE(before == std::vector<std::string>{"a", "b", "d", "e"});
  {
    auto store = open_store(dir);
    REQUIRE(store->recovered_tail_bytes() == 0);
    REQUIRE(store->dimension() == 3);
    REQUIRE(ids(store->search({1, 0, 0}, search_params{})) == before);
    REQUIRE(store->close());  // snapshot
  }
  REQUIRE(std::filesystem::exists(dir.path() + "/idx/index-1.hnsw"));
  REQUIRE(std::filesystem::exists(dir.path() + "/idx/chunks-1.bin"));
  REQUIRE(std::filesystem::file_size(dir.path() + "/idx/wal-1.log") == 0);
  REQUIRE(!std::filesystem::exists(dir.path() + "/idx/wal-0.log"));
  {
    auto store = open_store(dir);
    auto hits = store->search({1, 0, 0}, search_params{});
    REQUIRE(ids(hits) == before);
    REQUIRE((*hits)[1].text == "text of b");
    REQUIRE((*hits)[1].metadata == json{{"source", "doc.txt"}});
    // Snapshot + log.
    REQUIRE(store->add({make("f", {0.9f, 0.1f, 0})}));
  }
  auto store = open_store(dir);
  REQUIRE(ids(store->search({1, 0, 0}, params("similarity", 3))) ==
          std::vector<std::string>{"a", "f", "b"});
  REQUIRE(store->size() == 5);
}

TEST_CASE("a torn log tail loses only the torn batch", "[retriever]") {
  temp_dir dir;
  auto log = dir.path() + "/idx/wal-0.log";
  uintmax_t first_batch_end = 0;
  {
    auto store = open_store(dir);
    REQUIRE(store->add({make("a", {1, 0, 0}), make("b", {0, 1, 0})}));
    first_batch_end = std::filesystem::file_size(log);
    REQUIRE(store->add({make("c", {0, 0, 1}), make("d", {1, 1, 0})}));
  }
  auto full = std::filesystem::file_size(log);
  SECTION("truncated mid-record") {
    std::filesystem::resize_file(log, first_batch_end + (full - first_batch_end) / 2);
  }
  SECTION("corrupted last record") {
    std::fstream f(log, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(full - 5));
    f.put('\x7f');
  }
  SECTION("only a partial length header") {
    std::filesystem::resize_file(log, first_batch_end + 3);
  }
  {
    auto store = open_store(dir);
    REQUIRE(store->recovered_tail_bytes() > 0);
    REQUIRE(std::filesystem::file_size(log) == first_batch_end);
    REQUIRE(store->size() == 2);
    REQUIRE(ids(store->search({1, 0, 0}, search_params{})) == std::vector<std::string>{"a", "b"});
    REQUIRE(store->add({make("e", {0, 0, 1})}));
  }
  auto store = open_store(dir);
  REQUIRE(store->recovered_tail_bytes() == 0);
  REQUIRE(ids(store->search({0, 0, 1}, params("similarity", 1))) == std::vector<std::string>{"e"});
  REQUIRE(store->size() == 3);
}

TEST_CASE("the dimension is fixed at creation and checked on open", "[retriever]") {
  temp_dir dir;
  {
    auto store = open_store(dir, vector_store_options{3});
    REQUIRE(store->dimension() == 3);
  }
  auto wrong = vector_store::open(dir.path(), "idx", vector_store_options{384});
  REQUIRE(!wrong);
  REQUIRE(opea::runtime::code_of(wrong.error()) == errc::bad_request);
  REQUIRE(opea::runtime::detail_of(wrong.error()) ==
          "dimension mismatch: the store holds vectors of dimension 3, the configured "
          "dimension is 384");
  REQUIRE(vector_store::open(dir.path(), "idx", vector_store_options{0}));
  auto bad_name = vector_store::open(dir.path(), "../x");
  REQUIRE(!bad_name);
  REQUIRE(opea::runtime::subject_of(bad_name.error()) == "index_name");
}

TEST_CASE("the index grows when full and is rebuilt when mostly deleted", "[retriever]") {
  temp_dir dir;
  vector_store_options opts;
  opts.initial_capacity = 2;
  opts.snapshot_log_bytes = 1;  // snapshot after every change
  {
    auto store = open_store(dir, opts);
    std::vector<chunk> batch;
    for (int i = 0; i < 20; ++i)
      batch.push_back(make("c" + std::to_string(i),
                           {static_cast<float>(i + 1), 1.0f, static_cast<float>(i % 3)}));
    REQUIRE(store->add(batch));
    std::vector<std::string> doomed;
    for (int i = 0; i < 17; ++i) doomed.push_back("c" + std::to_string(i));
    REQUIRE(*store->remove(doomed) == 17);  // snapshot rebuilds: 17 deleted > 3 live
    REQUIRE(ids(store->search({1, 0, 0}, params("similarity", 10))) ==
            std::vector<std::string>{"c18", "c19", "c17"});
  }
  auto store = open_store(dir, opts);
  REQUIRE(store->size() == 3);
  REQUIRE(ids(store->search({1, 0, 0}, params("similarity", 10))) ==
          std::vector<std::string>{"c18", "c19", "c17"});
}

TEST_CASE("exact search gives the brute-force top k for sparse and dense queries as the store changes",
          "[retriever]") {
  // Sparse queries (at most half the dimensions non-zero) are answered from a
  // dimension-major copy of the vectors, built by the first such search and
  // brought up to date by the next one after changes; dense ones vector by
  // vector. Both must give what a brute-force scan gives, through growth,
  // deletes, replacements and a reopen.
  constexpr size_t dim = 16;
  uint32_t seed = 7;
  auto next = [&] {
    seed = seed * 1664525u + 1013904223u;
    return static_cast<float>(seed >> 8) / static_cast<float>(1u << 24) - 0.5f;
  };
  auto vec = [&](size_t nonzero) {
    std::vector<float> v(dim, 0.0f);
    for (size_t d = 0; d < dim; ++d)
      if (d % (dim / nonzero) == 0) v[d] = next();
    return v;
  };
  std::map<std::string, std::vector<float>> live;  // id -> unit vector
  auto unit = [](std::vector<float> v) {
    double norm = 0;
    for (auto x : v) norm += double{x} * x;
    for (auto& x : v) x = static_cast<float>(x / std::sqrt(norm));
    return v;
  };
  auto add = [&](vector_store& store, int from, int to) {
    std::vector<chunk> batch;
    for (int i = from; i < to; ++i) {
      auto v = vec(dim);
      batch.push_back(make("c" + std::to_string(i), v));
      live["c" + std::to_string(i)] = unit(v);
    }
    REQUIRE(store.add(batch));
  };
  auto check = [&](vector_store& store) {
    for (size_t nonzero : {size_t{2}, size_t{4}, size_t{8}, dim}) {
      for (int round = 0; round < 3; ++round) {
        auto q = unit(vec(nonzero));
        std::vector<std::pair<double, std::string>> expected;
        for (auto& [id, v] : live) {
          double dot = 0;
          for (size_t d = 0; d < dim; ++d) dot += double{q[d]} * v[d];
          expected.emplace_back(-dot, id);
        }
        std::sort(expected.begin(), expected.end());
        auto hits = store.search(q, params("similarity", 5));
        REQUIRE(hits);
        REQUIRE(hits->size() == std::min<size_t>(5, live.size()));
        for (size_t i = 0; i < hits->size(); ++i) {
          INFO("nonzero " << nonzero << ", rank " << i);
          CHECK((*hits)[i].id == expected[i].second);
          CHECK((*hits)[i].score == Approx(-expected[i].first).margin(1e-5));
        }
      }
    }
  };
  temp_dir dir;
  vector_store_options opts;
  opts.initial_capacity = 4;
  {
    auto store = open_store(dir, opts);
    add(*store, 0, 40);
    check(*store);
    add(*store, 40, 300);  // the index and the column copy grow
    check(*store);
    std::vector<std::string> doomed;
    for (int i = 0; i < 300; i += 3) doomed.push_back("c" + std::to_string(i));
    REQUIRE(*store->remove(doomed) == doomed.size());
    for (auto& id : doomed) live.erase(id);
    check(*store);
    add(*store, 10, 20);  // replacements: new vectors under old ids
    check(*store);
    // Mostly deleted: the snapshot rebuilds the index, with new internal ids.
    doomed.clear();
    for (int i = 40; i < 300; ++i)
      if (live.count("c" + std::to_string(i)) != 0) doomed.push_back("c" + std::to_string(i));
    REQUIRE(*store->remove(doomed) == doomed.size());
    for (auto& id : doomed) live.erase(id);
    REQUIRE(store->snapshot());
    check(*store);
  }
  auto store = open_store(dir, opts);
  REQUIRE(store->size() == live.size());
  check(*store);
}

namespace {

chunk worded(const std::string& id, const std::string& text, std::vector<float> v,
             const std::string& source = "doc.txt", const std::string& title = "") {
  json meta{{"source", source}};
  if (!title.empty()) meta["title"] = title;
  return chunk{id, text, std::move(meta), std::move(v)};
}

std::vector<std::string> lexical_ids(const vector_store& store, const std::string& text,
                                     size_t k = 10) {
  return ids(store.lexical_search(text, k));
}

const std::vector<std::string> no_ids;

}  // namespace

TEST_CASE("the lexical index follows every add, replacement and removal", "[retriever][lexical]") {
  temp_dir dir;
  auto store = open_store(dir);
  REQUIRE(store->has_lexical());
  REQUIRE(store->add({worded("a", "The supervisor restarts crashed actors.", {1, 0, 0}, "a.md"),
                      worded("b", "Deadlines bound every request.", {0, 1, 0}, "b.md"),
                      worded("c", "Other words entirely.", {0, 0, 1}, "c.md", "Deadlines")}));
  // Stemmed ("restarting" meets "restarts"); the title weighs more than the body.
  REQUIRE(lexical_ids(*store, "restarting") == std::vector<std::string>{"a"});
  REQUIRE(lexical_ids(*store, "deadlines") == std::vector<std::string>{"c", "b"});
  auto hits = store->lexical_search("restarting", 1);
  REQUIRE(hits);
  REQUIRE((*hits)[0].text == "The supervisor restarts crashed actors.");
  REQUIRE((*hits)[0].metadata == json{{"source", "a.md"}});
  REQUIRE((*hits)[0].score > 0);
  // Replacing an id and re-ingesting a source.
  REQUIRE(store->add({worded("a", "Backoff doubles.", {1, 0, 0}, "a.md")}));
  REQUIRE(lexical_ids(*store, "restarting") == no_ids);
  REQUIRE(lexical_ids(*store, "backoff") == std::vector<std::string>{"a"});
  REQUIRE(store->add({worded("a2", "Budgets in milliseconds.", {1, 1, 0}, "a.md")}, "a.md"));
  REQUIRE(lexical_ids(*store, "backoff") == no_ids);
  REQUIRE(lexical_ids(*store, "budgets") == std::vector<std::string>{"a2"});
  // Removals by id, by source, and clear.
  REQUIRE(*store->remove({"b"}) == 1);
  REQUIRE(lexical_ids(*store, "deadlines") == std::vector<std::string>{"c"});
  REQUIRE(*store->remove_source("c.md") == 1);
  REQUIRE(lexical_ids(*store, "deadlines") == no_ids);
  REQUIRE(*store->clear() == 1);
  REQUIRE(lexical_ids(*store, "budgets") == no_ids);
  REQUIRE_FALSE(store->lexical_search("x", 0));
}

TEST_CASE("hybrid search fuses the two rankings and keeps cosine scores", "[retriever][lexical]") {
  temp_dir dir;
  auto store = open_store(dir);
  // "w" matches the query's words only; by vectors it is the farthest.
  REQUIRE(store->add({worded("v1", "alpha", {1, 0, 0}), worded("v2", "beta", {0.8f, 0.6f, 0}),
                      worded("v3", "gamma", {0.6f, 0, 0.8f}),
                      worded("w", "zebra lighthouse", {-1, 0, 0})}));
  search_params p = params("similarity", 2);
  // Vector ranks: v1 1, v2 2, v3 3, w 4; lexical: w 1. With rrf_k 0:
  // v1 1/1, w 1/4 + 1/1, v2 1/2.
  hybrid_params fusion;
  fusion.rrf_k = 0;
  auto hits = store->hybrid_search({1, 0, 0}, "zebra", p, fusion);
  REQUIRE(ids(hits) == std::vector<std::string>{"w", "v1"});
  REQUIRE((*hits)[0].score == Approx(-1.0));  // its cosine, not a fused score
  REQUIRE((*hits)[1].score == Approx(1.0));
  // No matching word: the vector ranking.
  REQUIRE(ids(store->hybrid_search({1, 0, 0}, "nothing here", p)) ==
          std::vector<std::string>{"v1", "v2"});
  // Other search types are not fused.
  REQUIRE(ids(store->hybrid_search({1, 0, 0}, "zebra", params("mmr", 2))) ==
          ids(store->search({1, 0, 0}, params("mmr", 2))));
  // A store without a lexical index searches by vectors.
  temp_dir other;
  vector_store_options opts;
  opts.lexical = false;
  auto plain = open_store(other, opts);
  REQUIRE_FALSE(plain->has_lexical());
  REQUIRE(plain->add({worded("w", "zebra", {-1, 0, 0}), worded("v1", "alpha", {1, 0, 0})}));
  REQUIRE(ids(plain->hybrid_search({1, 0, 0}, "zebra", params("similarity", 1))) ==
          std::vector<std::string>{"v1"});
  REQUIRE(lexical_ids(*plain, "zebra") == no_ids);
}

TEST_CASE("a missing or damaged lexical index is rebuilt on open", "[retriever][lexical]") {
  temp_dir dir;
  {
    auto store = open_store(dir);
    REQUIRE(
        store->add({worded("a", "zebra packets", {1, 0, 0}), worded("b", "foghorn", {0, 1, 0})}));
    REQUIRE(store->close());
  }
  SECTION("removed") {
    std::filesystem::remove_all(dir.path() + "/idx/lexical");
  }
  SECTION("replaced by garbage") {
    std::filesystem::remove_all(dir.path() + "/idx/lexical");
    dir.write("idx/lexical", "not a database");
  }
  auto store = open_store(dir);
  REQUIRE(store->has_lexical());
  REQUIRE(lexical_ids(*store, "zebra") == std::vector<std::string>{"a"});
  REQUIRE(lexical_ids(*store, "foghorn") == std::vector<std::string>{"b"});
}

TEST_CASE("kill -9 during ingest: every acknowledged change is in both indexes, once",
          "[retriever][lexical]") {
  temp_dir dir;
  vector_store_options opts;
  opts.dimension = 3;
  SECTION("the lexical index never committed after creation: replayed from the log") {
    opts.lexical_commit_changes = 1u << 30;
  }
  SECTION("snapshots and lexical commits while ingesting") {
    opts.snapshot_log_bytes = 2048;
    opts.lexical_commit_changes = 7;
  }
  // The child ingests batches of 4 chunks (batch i: words "batch<i>" and
  // "marker"), and after every 5th removes the first chunk of the batch
  // before; it writes a batch's number to the pipe once the store answered.
  int acks[2];
  REQUIRE(::pipe(acks) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(acks[0]);
    auto store = vector_store::open(dir.path(), "idx", opts);
    if (!store) ::_exit(3);
    for (int i = 0;; ++i) {
      std::vector<chunk> batch;
      for (int j = 0; j < 4; ++j)
        batch.push_back(worded("b" + std::to_string(i) + "-" + std::to_string(j),
                               "marker batch" + std::to_string(i) + " chunk",
                               {1, static_cast<float>(i), static_cast<float>(j)},
                               "s" + std::to_string(i % 7) + ".md"));
      if (!(*store)->add(std::move(batch))) ::_exit(4);
      if (i % 5 == 4 && !(*store)->remove({"b" + std::to_string(i - 1) + "-0"})) ::_exit(5);
      if (::write(acks[1], &i, sizeof i) != sizeof i) ::_exit(6);
    }
  }
  ::close(acks[1]);
  int last = -1;
  while (last < 60) REQUIRE(::read(acks[0], &last, sizeof last) == sizeof last);
  ::kill(child, SIGKILL);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  // Drain the acknowledgements written before the kill.
  int more = 0;
  while (::read(acks[0], &more, sizeof more) == sizeof more) last = more;
  ::close(acks[0]);

  auto store = open_store(dir, opts);
  REQUIRE(store->has_lexical());
  // Everything acknowledged is there, in both indexes; the batch in flight
  // at the kill is there whole or not at all, in both.
  auto all_words = lexical_ids(*store, "marker", 10000);
  REQUIRE(all_words.size() == store->size());
  for (int i = 0; i <= last + 1; ++i) {
    auto found = lexical_ids(*store, "batch" + std::to_string(i));
    std::sort(found.begin(), found.end());
    std::vector<std::string> expected;
    bool removed = i % 5 == 3 && i + 1 <= last;
    for (int j = removed ? 1 : 0; j < 4; ++j)
      expected.push_back("b" + std::to_string(i) + "-" + std::to_string(j));
    INFO("batch " << i << " of " << last);
    if (i == last + 1) {
      // In flight at the kill: applied whole or not at all.
      REQUIRE((found.empty() || found.size() == 4));
      continue;
    }
    if (i == last && i % 5 == 3) {
      // The removal in flight (batch last + 1's) may or may not be in.
      REQUIRE((found.size() == 3 || found.size() == 4));
      continue;
    }
    REQUIRE(found == expected);
  }
}
