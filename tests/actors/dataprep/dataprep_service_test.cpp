#include <catch2/catch.hpp>

#include <cctype>
#include <deque>

#include "actors/dataprep/dataprep_service.hpp"
#include "actors/retriever/retriever_actor.hpp"
#include "runtime/errors.hpp"
#include "tests/actors/retriever/temp_dir.hpp"

using namespace opea::actors;
using nlohmann::json;
using opea::actors::testing::temp_dir;
using opea::runtime::errc;

namespace {

/// A deterministic bag-of-words embedder: each lower-cased word adds 1 to
/// dimension (FNV-1a(word) % 16), plus a small constant so no vector is zero.
/// Synchronous, or deferred: callbacks wait in `pending` until the test runs
/// them (exercises the asynchronous path without threads).
class test_embedder : public embedder {
 public:
  bool deferred = false;
  size_t fail_on_call = 0;  // 1-based call that fails; 0 = never
  size_t calls = 0;
  std::deque<std::function<void()>> pending;

  size_t dimension() const override { return 16; }
  std::string model() const override { return "test-bow-16"; }

  static vector vectorize(const std::string& text) {
    vector v(16, 0.01f);
    std::string word;
    auto flush = [&] {
      if (word.empty()) return;
      uint32_t h = 2166136261u;
      for (unsigned char c : word) h = (h ^ c) * 16777619u;
      v[h % 16] += 1;
      word.clear();
    };
    for (char c : text) {
      if (std::isalnum(static_cast<unsigned char>(c)))
        word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      else
        flush();
    }
    flush();
    return v;
  }

  void embed(std::vector<std::string> texts,
             std::function<void(caf::expected<std::vector<vector>>)> done) override {
    ++calls;
    caf::expected<std::vector<vector>> res{std::vector<vector>{}};
    if (calls == fail_on_call) {
      res = opea::runtime::make_error(errc::http_status, "embedder test-bow-16", "HTTP 503");
    } else {
      for (auto& t : texts) res->push_back(vectorize(t));
    }
    if (deferred)
      pending.emplace_back([done, res] { done(res); });
    else
      done(std::move(res));
  }
};

struct fixture {
  temp_dir dir;
  std::shared_ptr<vector_store> store;
  std::shared_ptr<test_embedder> emb = std::make_shared<test_embedder>();

  fixture() {
    auto s = vector_store::open(dir.path() + "/data", "rag");
    REQUIRE(s);
    store = *s;
  }

  caf::expected<json> ingest(const dataprep_service& svc, std::vector<source_document> docs,
                             ingest_options opts = {},
                             std::vector<ingest_progress>* progress = nullptr) {
    caf::expected<json> result{json{}};
    bool called = false;
    svc.ingest(
        std::move(docs), opts,
        [&](caf::expected<json> r) {
          REQUIRE(!called);
          called = true;
          result = std::move(r);
        },
        [&](const ingest_progress& p) {
          if (progress) progress->push_back(p);
        });
    while (!emb->pending.empty()) {
      auto next = std::move(emb->pending.front());
      emb->pending.pop_front();
      next();
    }
    REQUIRE(called);
    return result;
  }

  std::vector<std::string> sources() {
    std::vector<std::string> out;
    for (auto& s : store->list_sources()) out.push_back(s.name + ":" + std::to_string(s.chunks));
    return out;
  }
};

const char* const lorem =
    "Granite is an igneous rock. It forms from magma. Basalt is darker. "
    "Marble is metamorphic. Slate splits into sheets. Quartz is hard.";

}  // namespace

TEST_CASE_METHOD(fixture, "dataprep ingests files, links and text end to end", "[dataprep]") {
  dataprep_service svc{store, emb};
  auto link = dir.write("rocks.txt", lorem);
  dir.write("guide.md", "# Cooking\n\nBoil the pasta. Add the sauce.\n");
  std::vector<source_document> docs;
  docs.push_back(*dataprep_service::from_upload("uploads/guide.md",
                                                "# Cooking\n\nBoil the pasta. Add the sauce.\n"));
  docs.push_back(*svc.from_link("file://" + link));
  docs.push_back(dataprep_service::from_text("Photosynthesis makes sugar from light."));
  ingest_options opts;
  opts.chunk_size = 60;
  opts.chunk_overlap = 0;
  opts.embed_batch_size = 2;
  std::vector<ingest_progress> progress;
  auto res = ingest(svc, std::move(docs), opts, &progress);
  REQUIRE(res);
  REQUIRE(res->at("status") == 200);
  REQUIRE(res->at("message") == "Data preparation succeeded");
  REQUIRE(res->at("documents") == 3);
  REQUIRE(res->at("chunks") == 5);
  REQUIRE(res->at("files") ==
          json::parse(R"([{"name":"guide.md","chunks":1},{"name":"rocks.txt","chunks":3},
                              {"name":"text-af813172589a5cb4","chunks":1}])"));
  REQUIRE(sources() ==
          std::vector<std::string>{"guide.md:1", "rocks.txt:3", "text-af813172589a5cb4:1"});
  REQUIRE(emb->calls == 4);  // 1 + 2 + 1 batches of at most 2 chunks
  // Progress after each batch and each document.
  std::vector<std::tuple<size_t, size_t, size_t>> seen;
  for (auto& p : progress) seen.emplace_back(p.documents_done, p.documents_total, p.chunks_done);
  REQUIRE(seen == std::vector<std::tuple<size_t, size_t, size_t>>{
                      {0, 3, 1}, {1, 3, 1}, {1, 3, 3}, {1, 3, 4}, {2, 3, 4}, {2, 3, 5}, {3, 3, 5}});
  // The retriever finds the chunk a query is about, with its metadata.
  auto out = retrieve(*store, json{{"text", "what is marble?"},
                                   {"embedding", test_embedder::vectorize("Marble is metamorphic")},
                                   {"k", 1}});
  REQUIRE(out);
  auto& doc = out->at("retrieved_docs")[0];
  REQUIRE(doc["text"] == "Basalt is darker. Marble is metamorphic.");
  REQUIRE(doc["id"] == "rocks.txt#1");
  REQUIRE(doc["metadata"] == json{{"source", "rocks.txt"}, {"chunk_index", 1}});
  auto cooking = retrieve(
      *store, json{{"text", "q"}, {"embedding", test_embedder::vectorize("Cooking")}, {"k", 1}});
  REQUIRE(cooking->at("retrieved_docs")[0]["metadata"] ==
          json{{"source", "guide.md"}, {"chunk_index", 0}, {"title", "Cooking"}});
  REQUIRE(svc.get_files() ==
          json::parse(R"([{"name":"guide.md","id":"guide.md","type":"File","parent":""},
                              {"name":"rocks.txt","id":"rocks.txt","type":"File","parent":""},
                              {"name":"text-af813172589a5cb4","id":"text-af813172589a5cb4",
                               "type":"File","parent":""}])"));
}

TEST_CASE_METHOD(fixture, "a Markdown chunk carries the headings of the sections it covers",
                 "[dataprep]") {
  dataprep_service svc{store, emb};
  ingest_options opts;
  opts.chunk_size = 60;
  opts.chunk_overlap = 0;
  REQUIRE(ingest(svc,
                 {*dataprep_service::from_upload(
                     "guide.md", "# Guide\n\nIntro.\n\n## Restarts\nA crashed actor restarts.\n"
                                 "It waits with a backoff between tries.\n")},
                 opts));
  auto find = [&](const std::string& text) {
    auto out = retrieve(*store, json{{"text", "q"},
                                     {"embedding", test_embedder::vectorize(text)},
                                     {"k", 1}});
    REQUIRE(out);
    return out->at("retrieved_docs")[0];
  };
  // The first chunk holds the title and the section's start; the second
  // starts inside the section. The title is a field of its own, not a
  // heading.
  auto first = find("Intro.");
  REQUIRE(first["text"] == "Guide\n\nIntro.\n\nRestarts\nA crashed actor restarts.");
  REQUIRE(first["metadata"] == json{{"source", "guide.md"},
                                    {"chunk_index", 0},
                                    {"title", "Guide"},
                                    {"headings", {"Restarts"}}});
  auto second = find("It waits with a backoff between tries.");
  REQUIRE(second["text"] == "It waits with a backoff between tries.");
  REQUIRE(second["metadata"]["headings"] == json{"Restarts"});
}

TEST_CASE_METHOD(fixture, "re-ingesting a source replaces it and delete removes it", "[dataprep]") {
  dataprep_service svc{store, emb};
  ingest_options opts;
  opts.chunk_size = 60;
  opts.chunk_overlap = 0;
  REQUIRE(ingest(svc,
                 {*dataprep_service::from_upload("rocks.txt", lorem),
                  *dataprep_service::from_upload("b.txt", "Bee.")},
                 opts));
  REQUIRE(store->size() == 4);
  emb->deferred = true;  // the asynchronous path behaves the same
  REQUIRE(
      ingest(svc, {*dataprep_service::from_upload("rocks.txt", "Only one sentence now.")}, opts));
  REQUIRE(sources() == std::vector<std::string>{"b.txt:1", "rocks.txt:1"});
  REQUIRE(store->size() == 2);
  // With an executor, continuations after an asynchronous answer go through it.
  std::vector<std::function<void()>> posted;
  dataprep_config cfg;
  cfg.post = [&](std::function<void()> f) { posted.push_back(std::move(f)); };
  dataprep_service pooled{store, emb, cfg};
  bool finished = false;
  pooled.ingest({*dataprep_service::from_upload("p.txt", "Pooled.")}, opts,
                [&](caf::expected<json> r) { finished = static_cast<bool>(r); });
  REQUIRE(emb->pending.size() == 1);
  emb->pending.front()();
  emb->pending.pop_front();
  REQUIRE(!finished);
  REQUIRE(posted.size() == 1);
  posted.front()();
  REQUIRE(finished);
  REQUIRE(*store->remove_source("p.txt") == 1);
  REQUIRE(*svc.delete_files(json{{"file_path", "/some/dir/rocks.txt"}}) == json{{"status", true}});
  REQUIRE(sources() == std::vector<std::string>{"b.txt:1"});
  auto missing = svc.delete_files(json{{"file_path", "rocks.txt"}});
  REQUIRE(!missing);
  REQUIRE(opea::runtime::code_of(missing.error()) == errc::bad_request);
  REQUIRE(opea::runtime::subject_of(missing.error()) == "file_path");
  REQUIRE(!svc.delete_files(json{{"path", "x"}}));
  REQUIRE(*svc.delete_files(json{{"file_path", "all"}}) == json{{"status", true}});
  REQUIRE(store->size() == 0);
  REQUIRE(svc.get_files() == json::array());
}

TEST_CASE_METHOD(fixture, "an invalid document fails the request before anything is stored",
                 "[dataprep]") {
  dataprep_service svc{store, emb};
  auto res = ingest(svc, {*dataprep_service::from_upload("ok.txt", "Fine."),
                          *dataprep_service::from_upload("scan.pdf", "%PDF")});
  REQUIRE(!res);
  REQUIRE(opea::runtime::subject_of(res.error()) == "scan.pdf");
  REQUIRE(store->size() == 0);
  REQUIRE(emb->calls == 0);
  ingest_options bad;
  bad.chunk_overlap = 2000;
  auto overlap = ingest(svc, {*dataprep_service::from_upload("ok.txt", "Fine.")}, bad);
  REQUIRE(opea::runtime::subject_of(overlap.error()) == "chunk_overlap");
}

TEST_CASE_METHOD(fixture, "an embedder failure keeps earlier documents and names the failed one",
                 "[dataprep]") {
  dataprep_service svc{store, emb};
  emb->fail_on_call = 2;
  auto res = ingest(svc, {*dataprep_service::from_upload("a.txt", "Alpha."),
                          *dataprep_service::from_upload("b.txt", "Beta."),
                          *dataprep_service::from_upload("c.txt", "Gamma.")});
  REQUIRE(!res);
  REQUIRE(opea::runtime::code_of(res.error()) == errc::http_status);
  REQUIRE(opea::runtime::detail_of(res.error()) ==
          "document 'b.txt' (2 of 3): service 'embedder test-bow-16': HTTP 503; 1 earlier "
          "document(s) "
          "were ingested");
  REQUIRE(sources() == std::vector<std::string>{"a.txt:1"});
}

TEST_CASE_METHOD(fixture, "links are local files only, inside link_root when set", "[dataprep]") {
  dataprep_service open_svc{store, emb};
  auto remote = open_svc.from_link("https://example.com/a.html");
  REQUIRE(!remote);
  REQUIRE(opea::runtime::detail_of(remote.error()) ==
          "'https://example.com/a.html' is a remote URL: this dataprep has no network fetch; "
          "give local paths or file:// URLs");
  REQUIRE(!open_svc.from_link(dir.path() + "/missing.txt"));
  REQUIRE(!open_svc.from_link(dir.path()));  // a directory
  auto inside = dir.write("in.txt", "inside");
  dataprep_service rooted{store, emb, dataprep_config{dir.path(), {}}};
  auto ok = rooted.from_link(inside);
  REQUIRE(ok);
  REQUIRE(ok->name == "in.txt");
  REQUIRE(ok->bytes == "inside");
  dataprep_service elsewhere{store, emb, dataprep_config{dir.path() + "/data", {}}};
  auto outside = elsewhere.from_link(dir.path() + "/data/../in.txt");
  REQUIRE(!outside);
  REQUIRE(opea::runtime::detail_of(outside.error()).find("outside the allowed directory") !=
          std::string::npos);
}

TEST_CASE_METHOD(fixture, "ingest requests parse from a multipart form and from JSON",
                 "[dataprep]") {
  dataprep_service svc{store, emb};
  auto link = dir.write("l.txt", "Linked.");
  std::vector<form_part> parts{
      {"files", "a.txt", "text/plain", "Alpha."},
      {"link_list", "", "text/plain", json::array({link}).dump()},
      {"chunk_size", "", "text/plain", "500"},
      {"chunk_overlap", "", "text/plain", "50"},
      {"process_table", "", "text/plain", "false"},
      {"index_name", "", "text/plain", "rag"},
  };
  auto req = svc.parse_form(parts);
  REQUIRE(req);
  REQUIRE(req->documents.size() == 2);
  REQUIRE(req->documents[0].name == "a.txt");
  REQUIRE(req->documents[1].name == "l.txt");
  REQUIRE(req->documents[1].bytes == "Linked.");
  REQUIRE(req->options.chunk_size == 500);
  REQUIRE(req->options.chunk_overlap == 50);
  REQUIRE(req->index_name == "rag");
  auto none = svc.parse_form({{"chunk_size", "", "text/plain", "10"}});
  REQUIRE(!none);
  REQUIRE(opea::runtime::detail_of(none.error()) == "Must provide either a file or a string list.");
  auto bad_size = svc.parse_form({{"chunk_size", "", "text/plain", "big"}});
  REQUIRE(opea::runtime::subject_of(bad_size.error()) == "chunk_size");
  auto bad_links = svc.parse_form({{"link_list", "", "text/plain", "{\"a\": 1}"}});
  REQUIRE(opea::runtime::subject_of(bad_links.error()) == "link_list");

  auto js = svc.parse_json(json{{"text", "Some text."}, {"chunk_size", 100}});
  REQUIRE(js);
  REQUIRE(js->documents.size() == 1);
  REQUIRE(js->documents[0].name.rfind("text-", 0) == 0);
  REQUIRE(js->documents[0].name.size() == 21);
  REQUIRE(js->options.chunk_size == 100);
  auto js_links = svc.parse_json(json{{"link_list", json::array({link}).dump()}});
  REQUIRE(js_links);
  REQUIRE(js_links->documents[0].name == "l.txt");
  REQUIRE(!svc.parse_json(json{{"text", 3}}));
  REQUIRE(!svc.parse_json(json::object()));
}
