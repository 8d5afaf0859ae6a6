#include "actors/dataprep/dataprep_service.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include <sys/stat.h>

#include "actors/dataprep/document_parser.hpp"
#include "runtime/errors.hpp"
#include "runtime/text/text.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::make_error;
using json = nlohmann::json;

namespace {

std::string base_name(const std::string& path) {
  auto slash = path.find_last_of("/\\");
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string fnv1a_hex(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

caf::expected<size_t> parse_size(const std::string& field, const std::string& value) {
  if (value.empty() || value.size() > 9 ||
      value.find_first_not_of("0123456789") != std::string::npos)
    return make_error(errc::bad_request, field, "'" + value + "' is not a non-negative integer");
  return static_cast<size_t>(std::stoul(value));
}

caf::expected<bool> parse_bool(const std::string& field, const std::string& value) {
  auto v = text::lower(value);
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return make_error(errc::bad_request, field, "'" + value + "' is not a boolean");
}

caf::expected<std::vector<std::string>> link_list_of(const json& j) {
  json list = j;
  if (j.is_string()) {
    list = json::parse(j.get<std::string>(), nullptr, false);
    if (list.is_discarded())
      return make_error(errc::bad_request, "link_list", "is not a JSON list of strings");
  }
  if (!list.is_array())
    return make_error(errc::bad_request, "link_list",
                      "Link_list " + j.dump() + " should be a list.");
  std::vector<std::string> out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_string())
      return make_error(errc::bad_request, "link_list[" + std::to_string(i) + "]",
                        "must be a string");
    out.push_back(list[i].get<std::string>());
  }
  return out;
}

/// A parsed and chunked document.
struct prepared {
  std::string name;
  std::string title;
  std::vector<std::string> chunks;
  /// Per chunk, the Markdown headings of the sections it covers.
  std::vector<std::vector<std::string>> headings;
};

/// One ingest run: embeds the documents' chunks batch by batch and writes
/// each document as one store change. Touched by one thread at a time: each
/// step is started by the previous one's completion (a trampoline keeps
/// synchronous embedders from recursing).
class ingest_job : public std::enable_shared_from_this<ingest_job> {
 public:
  ingest_job(vector_store_ptr store, embedder_ptr embedder, std::vector<prepared> docs,
             size_t batch, dataprep_service::done_fn done, dataprep_service::progress_fn progress,
             std::function<void(std::function<void()>)> post)
      : store_(std::move(store)),
        embedder_(std::move(embedder)),
        docs_(std::move(docs)),
        batch_(batch),
        done_(std::move(done)),
        progress_(std::move(progress)),
        post_(std::move(post)) {}

  void run() {
    for (;;) {
      if (doc_ == docs_.size()) return finish();
      auto& d = docs_[doc_];
      if (next_ < d.chunks.size()) {
        auto end = std::min(d.chunks.size(), next_ + batch_);
        std::vector<std::string> texts(d.chunks.begin() + static_cast<ptrdiff_t>(next_),
                                       d.chunks.begin() + static_cast<ptrdiff_t>(end));
        auto handoff = std::make_shared<std::atomic<int>>(0);
        auto self = shared_from_this();
        embedder_->embed(std::move(texts), [self, handoff](caf::expected<std::vector<vector>> res) {
          self->result_ = std::move(res);
          // 2: the caller has returned, so this thread continues.
          if (handoff->exchange(1) != 2) return;
          if (self->post_)
            self->post_([self] { self->resume(); });
          else
            self->resume();
        });
        if (handoff->exchange(2) != 1) return;  // the callback resumes later
        if (!absorb(end)) return;
        continue;
      }
      if (!store_document()) return;
    }
  }

 private:
  void resume() {
    auto end = std::min(docs_[doc_].chunks.size(), next_ + batch_);
    if (absorb(end)) run();
  }

  /// Takes the embedder's answer for chunks [next_, end); false on error.
  bool absorb(size_t end) {
    if (!result_) return fail(std::move(result_.error()));
    if (result_->size() != end - next_)
      return fail(make_error(errc::bad_response, "embedder " + embedder_->model(),
                             "answered " + std::to_string(result_->size()) + " vectors for " +
                                 std::to_string(end - next_) + " texts"));
    for (auto& v : *result_) vectors_.push_back(std::move(v));
    chunks_done_ += end - next_;
    next_ = end;
    report();
    return true;
  }

  bool store_document() {
    auto& d = docs_[doc_];
    std::vector<chunk> batch;
    batch.reserve(d.chunks.size());
    for (size_t i = 0; i < d.chunks.size(); ++i) {
      json meta{{"source", d.name}, {"chunk_index", i}};
      if (!d.title.empty()) meta["title"] = d.title;
      if (i < d.headings.size() && !d.headings[i].empty()) meta["headings"] = d.headings[i];
      batch.push_back(chunk{d.name + "#" + std::to_string(i), std::move(d.chunks[i]),
                            std::move(meta), std::move(vectors_[i])});
    }
    if (auto res = store_->add(std::move(batch), d.name); !res) return fail(std::move(res.error()));
    files_.push_back({{"name", d.name}, {"chunks", d.chunks.size()}});
    chunks_total_ += d.chunks.size();
    vectors_.clear();
    d.chunks.clear();
    d.chunks.shrink_to_fit();
    next_ = 0;
    ++doc_;
    report();
    return true;
  }

  void report() {
    if (progress_) progress_(ingest_progress{doc_, docs_.size(), chunks_done_});
  }

  bool fail(caf::error err) {
    auto& d = docs_[doc_];
    auto detail = "document '" + d.name + "' (" + std::to_string(doc_ + 1) + " of " +
                  std::to_string(docs_.size()) + "): " + runtime::describe(err);
    if (doc_ > 0) detail += "; " + std::to_string(doc_) + " earlier document(s) were ingested";
    auto code = runtime::code_of(err);
    done_(make_error(code == errc{} ? errc::service_failed : code, "dataprep", detail));
    return false;
  }

  void finish() {
    done_(json{{"status", 200},
               {"message", "Data preparation succeeded"},
               {"documents", docs_.size()},
               {"chunks", chunks_total_},
               {"files", files_}});
  }

  vector_store_ptr store_;
  embedder_ptr embedder_;
  std::vector<prepared> docs_;
  size_t batch_;
  dataprep_service::done_fn done_;
  dataprep_service::progress_fn progress_;
  std::function<void(std::function<void()>)> post_;
  size_t doc_ = 0;
  size_t next_ = 0;
  size_t chunks_done_ = 0;
  size_t chunks_total_ = 0;
  std::vector<vector> vectors_;
  json files_ = json::array();
  caf::expected<std::vector<vector>> result_{std::vector<vector>{}};
};

}  // namespace

dataprep_service::dataprep_service(vector_store_ptr store, embedder_ptr embedder,
                                   dataprep_config cfg)
    : store_(std::move(store)), embedder_(std::move(embedder)), cfg_(std::move(cfg)) {}

caf::expected<source_document> dataprep_service::from_upload(const std::string& file_name,
                                                             std::string bytes) {
  auto name = base_name(file_name);
  if (name.empty() || name == "." || name == "..")
    return make_error(errc::bad_request, "files", "an uploaded file has no file name");
  return source_document{name, name, std::move(bytes)};
}

source_document dataprep_service::from_text(std::string text) {
  auto name = "text-" + fnv1a_hex(text);
  return source_document{name, name + ".txt", std::move(text)};
}

caf::expected<source_document> dataprep_service::from_link(const std::string& link) const {
  std::string path = link;
  if (path.rfind("file://", 0) == 0) {
    path = path.substr(7);
    if (path.rfind("localhost/", 0) == 0) path = path.substr(9);
  } else if (path.find("://") != std::string::npos) {
    return make_error(errc::bad_request, "link_list",
                      "'" + link +
                          "' is a remote URL: this dataprep has no network fetch; give local "
                          "paths or file:// URLs");
  }
  if (path.empty()) return make_error(errc::bad_request, "link_list", "empty path");
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr)
    return make_error(errc::bad_request, "link_list",
                      "cannot read '" + link + "': " + std::strerror(errno));
  if (!cfg_.link_root.empty()) {
    char root[PATH_MAX];
    if (::realpath(cfg_.link_root.c_str(), root) == nullptr)
      return make_error(errc::service_failed, "dataprep link_root",
                        "'" + cfg_.link_root + "': " + std::strerror(errno));
    std::string r = root, p = resolved;
    if (r != "/" && !(p.size() > r.size() && p.compare(0, r.size(), r) == 0 && p[r.size()] == '/'))
      return make_error(errc::bad_request, "link_list",
                        "'" + link + "' is outside the allowed directory");
  }
  struct stat st;
  if (::stat(resolved, &st) != 0 || !S_ISREG(st.st_mode))
    return make_error(errc::bad_request, "link_list", "'" + link + "' is not a regular file");
  std::ifstream in(resolved, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in.good() && !in.eof())
    return make_error(errc::bad_request, "link_list", "cannot read '" + link + "'");
  auto name = base_name(resolved);
  return source_document{name, name, buf.str()};
}

caf::expected<ingest_request> dataprep_service::parse_form(
    const std::vector<form_part>& parts) const {
  ingest_request req;
  for (auto& p : parts) {
    if (p.name == "files" || p.name == "files[]") {
      if (p.filename.empty())
        return make_error(errc::bad_request, "files", "a 'files' part has no filename");
      auto doc = from_upload(p.filename, p.body);
      if (!doc) return std::move(doc.error());
      req.documents.push_back(std::move(*doc));
    } else if (p.name == "link_list") {
      auto links = link_list_of(json(p.body));
      if (!links) return std::move(links.error());
      for (auto& l : *links) {
        auto doc = from_link(l);
        if (!doc) return std::move(doc.error());
        req.documents.push_back(std::move(*doc));
      }
    } else if (p.name == "chunk_size" || p.name == "chunk_overlap") {
      auto v = parse_size(p.name, p.body);
      if (!v) return std::move(v.error());
      (p.name == "chunk_size" ? req.options.chunk_size : req.options.chunk_overlap) = *v;
    } else if (p.name == "process_table") {
      auto v = parse_bool(p.name, p.body);
      if (!v) return std::move(v.error());
      req.options.process_table = *v;
    } else if (p.name == "table_strategy") {
      req.options.table_strategy = p.body;
    } else if (p.name == "index_name") {
      req.index_name = p.body;
    }
  }
  if (req.documents.empty())
    return make_error(errc::bad_request, "files", "Must provide either a file or a string list.");
  return req;
}

caf::expected<ingest_request> dataprep_service::parse_json(const json& body) const {
  if (!body.is_object())
    return make_error(errc::bad_request, "body",
                      std::string{"must be a JSON object, got "} + body.type_name());
  ingest_request req;
  if (auto t = body.find("text"); t != body.end() && !t->is_null()) {
    if (!t->is_string()) return make_error(errc::bad_request, "text", "must be a string");
    req.documents.push_back(from_text(t->get<std::string>()));
  }
  if (auto l = body.find("link_list"); l != body.end() && !l->is_null()) {
    auto links = link_list_of(*l);
    if (!links) return std::move(links.error());
    for (auto& link : *links) {
      auto doc = from_link(link);
      if (!doc) return std::move(doc.error());
      req.documents.push_back(std::move(*doc));
    }
  }
  for (const char* field : {"chunk_size", "chunk_overlap"}) {
    auto f = body.find(field);
    if (f == body.end() || f->is_null()) continue;
    if (!f->is_number_unsigned() && !(f->is_number_integer() && f->get<int64_t>() >= 0))
      return make_error(errc::bad_request, field, "must be a non-negative integer");
    (std::string{field} == "chunk_size" ? req.options.chunk_size : req.options.chunk_overlap) =
        f->get<size_t>();
  }
  if (auto f = body.find("process_table"); f != body.end() && !f->is_null()) {
    if (!f->is_boolean())
      return make_error(errc::bad_request, "process_table", "must be a boolean");
    req.options.process_table = f->get<bool>();
  }
  if (auto f = body.find("table_strategy"); f != body.end() && f->is_string())
    req.options.table_strategy = f->get<std::string>();
  if (auto f = body.find("index_name"); f != body.end() && f->is_string())
    req.index_name = f->get<std::string>();
  if (req.documents.empty())
    return make_error(errc::bad_request, "text", "Must provide either a file or a string list.");
  return req;
}

void dataprep_service::ingest(std::vector<source_document> documents, const ingest_options& opts,
                              done_fn done, progress_fn progress) const {
  if (opts.embed_batch_size == 0)
    return done(make_error(errc::bad_request, "embed_batch_size", "must be positive"));
  chunk_options copts{opts.chunk_size, opts.chunk_overlap};
  std::vector<prepared> docs;
  docs.reserve(documents.size());
  for (auto& d : documents) {
    auto parsed = parse_document(d.file_name, d.bytes);
    if (!parsed) return done(std::move(parsed.error()));
    auto chunks = split_text(parsed->text, copts);
    if (!chunks) return done(std::move(chunks.error()));
    std::string{}.swap(d.bytes);
    // Section headings; the document's title (its first heading) is
    // already a field of its own.
    auto headings = chunk_headings(parsed->text, parsed->headings, *chunks);
    for (auto& h : headings)
      h.erase(std::remove(h.begin(), h.end(), parsed->title), h.end());
    docs.push_back(
        prepared{d.name, std::move(parsed->title), std::move(*chunks), std::move(headings)});
  }
  auto job = std::make_shared<ingest_job>(store_, embedder_, std::move(docs), opts.embed_batch_size,
                                          std::move(done), std::move(progress), cfg_.post);
  job->run();
}

json dataprep_service::get_files() const {
  json out = json::array();
  for (auto& s : store_->list_sources())
    out.push_back({{"name", s.name}, {"id", s.name}, {"type", "File"}, {"parent", ""}});
  return out;
}

caf::expected<json> dataprep_service::delete_files(const json& body) const {
  if (!body.is_object() || !body.contains("file_path") || !body["file_path"].is_string())
    return make_error(errc::bad_request, "file_path", "body must be {\"file_path\": string}");
  auto file_path = body["file_path"].get<std::string>();
  if (file_path == "all") {
    auto res = store_->clear();
    if (!res) return std::move(res.error());
    return json{{"status", true}};
  }
  for (auto& candidate : {file_path, base_name(file_path)}) {
    auto res = store_->remove_source(candidate);
    if (!res) return std::move(res.error());
    if (*res > 0) return json{{"status", true}};
  }
  return make_error(errc::bad_request, "file_path",
                    "File not found in db. Please check file_path ('" + file_path + "').");
}

}  // namespace opea::actors
