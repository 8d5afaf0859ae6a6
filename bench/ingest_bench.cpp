// opea-bench-ingest: ingest throughput and index memory of the built-in
// ChatQnA ingestion path (what `opea-node ingest DIR` runs): read the files,
// parse, chunk, embed (hashed n-grams), add to the hnswlib store with one WAL
// record + fsync per document (and the automatic snapshots).
//
//   opea-bench-ingest [--chunks N] [--config FILE] [--seed S] [--keep]
//   opea-bench-ingest --write-corpus DIR [--chunks N] [--config FILE] [--seed S]
//
// --chunks      chunks the generated corpus produces with the config's
//               chunk_size / chunk_overlap (default 100000; exact)
// --config      node config whose dataprep section is used (default
//               examples/chatqna/chatqna.yaml: dimension 384, chunks of 1500
//               characters with 100 of overlap, index "chatqna")
// --seed        corpus seed (default 42); the corpus depends only on it, N
//               and the chunk options
// --keep        keep the temporary directory (corpus + data dir)
// --write-corpus  only write the corpus files into DIR and exit (used by
//               bench/run_chatqna_bench.sh to build a 10k-chunk index)
//
// The corpus: English-like documents (.md 60 %, .txt 30 %, .html 10 %) made
// from a fixed word list plus a long tail of generated words, Zipf-like word
// frequencies, one of 300 topics per document (each topic favours 50 words),
// sentences of 5-40 words (mean ~17), paragraphs of 2-8
// sentences, documents of 1-40 chunks (mean ~19). The last document is cut
// so that the total is exactly N chunks.
//
// Prints one line per metric: embedding-only chunks/s, parse+chunk chunks/s,
// whole-path chunks/s, RSS delta and on-disk bytes (also per 100k chunks),
// reload time and the memory of the reloaded store.

#include <malloc.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <vector>

#include "actors/dataprep/chunker.hpp"
#include "actors/dataprep/dataprep_service.hpp"
#include "actors/dataprep/document_parser.hpp"
#include "actors/retriever/store_registry.hpp"
#include "nodes/config/node_config.hpp"
#include "nodes/dataprep/dataprep_setup.hpp"
#include "runtime/errors.hpp"

using namespace opea;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {

// --- Deterministic text ------------------------------------------------------

/// splitmix64: the same sequence on every platform (std distributions are not).
class rng {
 public:
  explicit rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

const char* const function_words[] = {
    "the",   "of",    "and",   "to",    "a",     "in",     "is",    "that",    "for",  "it",
    "as",    "with",  "was",   "on",    "be",    "by",     "this",  "are",     "or",   "from",
    "at",    "which", "an",    "but",   "not",   "have",   "has",   "can",     "will", "when",
    "their", "its",   "more",  "one",   "all",   "other",  "into",  "than",    "only", "each",
    "after", "so",    "there", "these", "they",  "also",   "most",  "some",    "such", "them",
    "over",  "then",  "both",  "where", "while", "before", "under", "between", "any",  "we"};

const char* const content_words[] = {
    "system",    "data",      "time",      "process",    "model",    "value",    "result",
    "network",   "request",   "server",    "field",      "record",   "report",   "change",
    "method",    "level",     "group",     "number",     "order",    "market",   "energy",
    "water",     "city",      "river",     "history",    "policy",   "company",  "product",
    "customer",  "price",     "account",   "contract",   "measure",  "sample",   "signal",
    "layer",     "memory",    "storage",   "query",      "index",    "document", "message",
    "queue",     "thread",    "cluster",   "region",     "volume",   "pressure", "temperature",
    "surface",   "material",  "structure", "function",   "element",  "pattern",  "feature",
    "quality",   "standard",  "design",    "project",    "team",     "member",   "student",
    "teacher",   "school",    "course",    "research",   "study",    "analysis", "theory",
    "practice",  "language",  "word",      "sentence",   "letter",   "book",     "page",
    "chapter",   "author",    "reader",    "question",   "answer",   "problem",  "solution",
    "example",   "case",      "point",     "line",       "area",     "space",    "distance",
    "speed",     "rate",      "growth",    "cost",       "budget",   "income",   "tax",
    "law",       "court",     "state",     "government", "election", "vote",     "party",
    "country",   "border",    "trade",     "industry",   "factory",  "machine",  "engine",
    "vehicle",   "road",      "bridge",    "station",    "train",    "flight",   "airport",
    "harbor",    "ship",      "island",    "coast",      "mountain", "forest",   "farm",
    "crop",      "harvest",   "season",    "winter",     "summer",   "weather",  "storm",
    "rain",      "climate",   "soil",      "plant",      "tree",     "animal",   "species",
    "cell",      "gene",      "protein",   "disease",    "patient",  "doctor",   "hospital",
    "treatment", "health",    "risk",      "safety",     "security", "access",   "control",
    "user",      "interface", "screen",    "device",     "sensor",   "battery",  "circuit",
    "power",     "voltage",   "current",   "frequency",  "wave",     "light",    "color",
    "sound",     "music",     "image",     "video",      "camera",   "picture",  "story",
    "event",     "meeting",   "decision",  "plan",       "goal",     "strategy", "effort",
    "support",   "service",   "resource",  "tool",       "library",  "package",  "version",
    "release",   "update",    "test",      "error",      "failure",  "recovery", "backup",
    "log",       "file",      "folder",    "table",      "column",   "row",      "key",
    "schema",    "format",    "protocol",  "address",    "route",    "path",     "node",
    "graph",     "branch",    "build",     "compile",    "deploy",   "monitor",  "observe",
    "describe",  "explain",   "compare",   "improve",    "reduce",   "increase", "provide",
    "include",   "require",   "allow",     "create",     "remove",   "replace",  "store",
    "load",      "send",      "receive",   "return",     "start",    "stop",     "open",
    "close",     "read",      "write",     "move",       "follow",   "develop",  "produce",
    "consider",  "suggest",   "important", "different",  "large",    "small",    "early",
    "recent",    "local",     "public",    "private",    "simple",   "complex",  "common",
    "special",   "general",   "available", "possible",   "similar",  "strong",   "new",
    "old",       "high",      "low",       "long",       "short",    "main",     "major",
    "final",     "full",      "free",      "quickly",    "usually",  "often",    "already",
    "later",     "together"};

/// The long tail: words made of syllables, as names and jargon are.
std::vector<std::string> make_rare_words(rng& r, size_t n) {
  static const char* const syllables[] = {
      "ka",  "lo",  "ven", "tir", "mar", "sen", "dro", "pel", "qui", "zar", "mon", "ta",
      "ri",  "gal", "bex", "nor", "shu", "fen", "cal", "dis", "or",  "um",  "ix",  "tor",
      "ban", "li",  "ste", "vok", "ra",  "mi",  "pol", "gen", "ser", "ad",  "en",  "ul"};
  constexpr size_t count = sizeof(syllables) / sizeof(syllables[0]);
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string w;
    size_t parts = 2 + r.below(3);
    for (size_t p = 0; p < parts; ++p) w += syllables[r.below(count)];
    out.push_back(std::move(w));
  }
  return out;
}

/// Words of a document: 42 % function words; of the rest, 55 % from the
/// document's topic (a fixed set of common and rare words, as real documents
/// repeat their subject's vocabulary), 33 % common words, 12 % rare words.
/// Topics make the corpus clustered, as real collections are, rather than one
/// uniform blob of vectors.
class text_generator {
 public:
  static constexpr size_t topics = 300;
  static constexpr size_t topic_common_words = 25;
  static constexpr size_t topic_rare_words = 25;

  explicit text_generator(uint64_t seed) : r_(seed) {
    rare_ = make_rare_words(r_, 5000);
    for (size_t t = 0; t < topics; ++t) {
      std::vector<std::string> words;
      for (size_t i = 0; i < topic_common_words; ++i)
        words.push_back(content_words[r_.below(n_content)]);
      for (size_t i = 0; i < topic_rare_words; ++i) words.push_back(rare_[r_.below(rare_.size())]);
      topic_words_.push_back(std::move(words));
    }
  }

  /// Picks the topic of the next document.
  void start_document() { topic_ = r_.below(topics); }

  std::string word() {
    double u = r_.unit();
    if (u < 0.42) return function_words[static_cast<size_t>(n_function * r_.unit() * r_.unit())];
    if (u < 0.42 + 0.58 * 0.55) {
      const auto& words = topic_words_[topic_];
      return words[static_cast<size_t>(static_cast<double>(words.size()) * r_.unit() * r_.unit())];
    }
    if (u < 0.42 + 0.58 * 0.88)
      return content_words[static_cast<size_t>(n_content * r_.unit() * r_.unit())];
    return rare_[static_cast<size_t>(static_cast<double>(rare_.size()) * r_.unit() * r_.unit())];
  }

  /// 5-40 words, mean ~17; capitalised; ends with . ? or !.
  std::string sentence() {
    size_t words = 5 + r_.below(8) + r_.below(8) + r_.below(6);
    if (r_.below(10) == 0) words += 8 + r_.below(12);
    std::string s;
    for (size_t i = 0; i < words; ++i) {
      if (i > 0) s += (r_.below(16) == 0 && i + 1 < words) ? ", " : " ";
      s += word();
    }
    s[0] = static_cast<char>(s[0] - 'a' + 'A');
    size_t end = r_.below(50);
    s += end < 3 ? "?" : end < 5 ? "!" : ".";
    return s;
  }

  std::string title() {
    std::string t;
    size_t words = 3 + r_.below(5);
    for (size_t i = 0; i < words; ++i) {
      std::string w = topic_words_[topic_][r_.below(topic_common_words)];
      w[0] = static_cast<char>(w[0] - 'a' + 'A');
      t += (i ? " " : "") + w;
    }
    return t;
  }

  rng& random() { return r_; }

 private:
  static constexpr size_t n_function = sizeof(function_words) / sizeof(function_words[0]);
  static constexpr size_t n_content = sizeof(content_words) / sizeof(content_words[0]);

  rng r_;
  std::vector<std::string> rare_;
  std::vector<std::vector<std::string>> topic_words_;
  size_t topic_ = 0;
};

/// A document before rendering: a title and blocks of sentences.
struct doc_plan {
  enum class kind { paragraph, heading, bullets };
  struct block {
    kind k;
    std::vector<std::string> sentences;
  };
  std::string title;
  std::vector<block> blocks;

  size_t sentences() const {
    size_t n = 0;
    for (auto& b : blocks) n += b.sentences.size();
    return n;
  }
  void drop_last_sentence() {
    blocks.back().sentences.pop_back();
    if (blocks.back().sentences.empty()) blocks.pop_back();
  }
};

doc_plan make_plan(text_generator& gen, size_t target_chars) {
  auto& r = gen.random();
  doc_plan d;
  gen.start_document();
  d.title = gen.title();
  size_t chars = 0;
  while (chars < target_chars) {
    doc_plan::block b;
    size_t pick = r.below(20);
    size_t n = 2 + r.below(7);
    if (pick == 0 && !d.blocks.empty()) {
      b.k = doc_plan::kind::heading;
      b.sentences.push_back(gen.title());
    } else {
      b.k = pick == 1 ? doc_plan::kind::bullets : doc_plan::kind::paragraph;
      for (size_t i = 0; i < n; ++i) b.sentences.push_back(gen.sentence());
    }
    for (auto& s : b.sentences) chars += s.size() + 1;
    d.blocks.push_back(std::move(b));
  }
  return d;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else
      out += c;
  }
  return out;
}

std::string render(const doc_plan& d, const std::string& ext) {
  std::string out;
  if (ext == ".md") {
    out += "# " + d.title + "\n\n";
    for (auto& b : d.blocks) {
      if (b.k == doc_plan::kind::heading) {
        out += "## " + b.sentences[0] + "\n\n";
      } else if (b.k == doc_plan::kind::bullets) {
        for (auto& s : b.sentences) out += "- " + s + "\n";
        out += "\n";
      } else {
        for (size_t i = 0; i < b.sentences.size(); ++i) out += (i ? " " : "") + b.sentences[i];
        out += "\n\n";
      }
    }
  } else if (ext == ".html") {
    out += "<!DOCTYPE html>\n<html><head><title>" + html_escape(d.title) +
           "</title></head>\n<body>\n<h1>" + html_escape(d.title) + "</h1>\n";
    for (auto& b : d.blocks) {
      if (b.k == doc_plan::kind::heading) {
        out += "<h2>" + html_escape(b.sentences[0]) + "</h2>\n";
      } else if (b.k == doc_plan::kind::bullets) {
        out += "<ul>\n";
        for (auto& s : b.sentences) out += "  <li>" + html_escape(s) + "</li>\n";
        out += "</ul>\n";
      } else {
        out += "<p>";
        for (size_t i = 0; i < b.sentences.size(); ++i)
          out += (i ? " " : "") + html_escape(b.sentences[i]);
        out += "</p>\n";
      }
    }
    out += "</body></html>\n";
  } else {
    out += d.title + "\n\n";
    for (auto& b : d.blocks) {
      for (size_t i = 0; i < b.sentences.size(); ++i) out += (i ? " " : "") + b.sentences[i];
      out += "\n\n";
    }
  }
  return out;
}

/// Chunks the ingestion path makes of this file (parse, then split).
size_t count_chunks(const std::string& file_name, const std::string& bytes,
                    const actors::chunk_options& copts) {
  auto parsed = actors::parse_document(file_name, bytes);
  if (!parsed) return 0;
  auto chunks = actors::split_text(parsed->text, copts);
  return chunks ? chunks->size() : 0;
}

struct corpus_stats {
  size_t documents = 0;
  size_t chunks = 0;
  size_t bytes = 0;
};

/// Writes documents into `dir` until they make exactly `chunks` chunks.
corpus_stats write_corpus(const std::string& dir, size_t chunks, uint64_t seed,
                          const actors::chunk_options& copts) {
  fs::create_directories(dir);
  text_generator gen{seed};
  auto& r = gen.random();
  corpus_stats st;
  while (st.chunks < chunks) {
    size_t remaining = chunks - st.chunks;
    size_t target = 1 + r.below(12) + r.below(12) + r.below(18);
    auto plan = make_plan(gen, target * (copts.chunk_size - copts.chunk_overlap));
    size_t pick = st.documents % 10;
    std::string ext = pick < 6 ? ".md" : pick < 9 ? ".txt" : ".html";
    char name[32];
    std::snprintf(name, sizeof(name), "bench-%06zu", st.documents);
    std::string file = std::string{name} + ext;
    auto bytes = render(plan, ext);
    size_t n = count_chunks(file, bytes, copts);
    while (n > remaining && plan.sentences() > 1) {
      // Cut proportionally first, then sentence by sentence.
      size_t drop = std::max<size_t>(1, plan.sentences() * (n - remaining) / n / 2);
      for (size_t i = 0; i < drop && plan.sentences() > 1; ++i) plan.drop_last_sentence();
      bytes = render(plan, ext);
      n = count_chunks(file, bytes, copts);
    }
    if (n == 0 || n > remaining) {
      std::fprintf(stderr, "opea-bench-ingest: cannot fit document %s (%zu chunks)\n", file.c_str(),
                   n);
      std::exit(1);
    }
    std::ofstream out(dir + "/" + file, std::ios::binary);
    out << bytes;
    st.documents += 1;
    st.chunks += n;
    st.bytes += bytes.size();
  }
  return st;
}

// --- Measurements ------------------------------------------------------------

/// VmRSS of this process, in bytes, after returning free heap pages to the OS.
size_t rss_bytes() {
  malloc_trim(0);
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

size_t dir_bytes(const std::string& dir) {
  size_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

/// CPU time (user + system) of this process so far: with a synchronous
/// embedder the ingest runs on one thread, so wall - CPU is time spent
/// waiting (fsync, or a CPU taken by another process).
double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

double mib(double bytes) {
  return bytes / (1024.0 * 1024.0);
}

std::vector<std::string> sorted_files(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "opea-bench-ingest: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  size_t chunks = 100000;
  uint64_t seed = 42;
  bool keep = false;
  std::string config = std::string{OPEA_SOURCE_DIR} + "/examples/chatqna/chatqna.yaml";
  std::string corpus_only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--chunks" && has_value)
      chunks = std::stoul(argv[++i]);
    else if (a == "--seed" && has_value)
      seed = std::stoull(argv[++i]);
    else if (a == "--config" && has_value)
      config = argv[++i];
    else if (a == "--write-corpus" && has_value)
      corpus_only = argv[++i];
    else if (a == "--keep")
      keep = true;
    else
      die("unknown argument '" + a +
          "'; usage: opea-bench-ingest [--chunks N] [--config FILE] [--seed S] [--keep] "
          "[--write-corpus DIR]");
  }
  if (chunks == 0) die("--chunks must be positive");
  nodes::node_config cfg;
  try {
    cfg = nodes::load_node_config(config);
  } catch (const nodes::config_error& e) {
    die(e.what());
  }
  actors::chunk_options copts{cfg.dataprep.chunk_size, cfg.dataprep.chunk_overlap};

  if (!corpus_only.empty()) {
    auto st = write_corpus(corpus_only, chunks, seed, copts);
    std::printf("wrote %zu documents, %.1f MiB, %zu chunks (chunk_size %zu, overlap %zu) into %s\n",
                st.documents, mib(static_cast<double>(st.bytes)), st.chunks, copts.chunk_size,
                copts.chunk_overlap, corpus_only.c_str());
    return 0;
  }

  std::string tmp = (fs::temp_directory_path() / "opea-ingest-bench-XXXXXX").string();
  if (mkdtemp(tmp.data()) == nullptr) die("cannot create a temporary directory");
  const std::string corpus_dir = tmp + "/corpus";
  cfg.node.data_dir = tmp + "/data";

  auto t_gen = clock_type::now();
  auto st = write_corpus(corpus_dir, chunks, seed, copts);
  std::printf(
      "corpus: %zu documents, %.1f MiB, %zu chunks (chunk_size %zu, overlap %zu), "
      "generated in %.1f s\n",
      st.documents, mib(static_cast<double>(st.bytes)), st.chunks, copts.chunk_size,
      copts.chunk_overlap, seconds_since(t_gen));
  std::fflush(stdout);
  auto files = sorted_files(corpus_dir);

  std::string index;
  size_t dimension = 0;
  size_t rss_before_ingest = 0;
  size_t rss_after_ingest = 0;
  {
    actors::store_registry stores{cfg.node.data_dir};
    nodes::dataprep_parts parts;
    try {
      parts = nodes::resolve_dataprep(cfg, nullptr, stores);
    } catch (const nodes::config_error& e) {
      die(e.what());
    }
    index = parts.index;
    actors::dataprep_service dataprep{parts.store, parts.embedder};
    actors::ingest_options iopts;
    iopts.chunk_size = copts.chunk_size;
    iopts.chunk_overlap = copts.chunk_overlap;

    // 1. Parse + chunk, and embedding alone (same batches as ingest).
    double parse_s = 0;
    double embed_s = 0;
    size_t embedded = 0;
    for (const auto& f : files) {
      auto doc = dataprep.from_link(f);
      if (!doc) die(runtime::describe(doc.error()));
      auto t0 = clock_type::now();
      auto parsed = actors::parse_document(doc->file_name, doc->bytes);
      if (!parsed) die(runtime::describe(parsed.error()));
      auto pieces = actors::split_text(parsed->text, copts);
      if (!pieces) die(runtime::describe(pieces.error()));
      parse_s += seconds_since(t0);
      for (size_t b = 0; b < pieces->size(); b += iopts.embed_batch_size) {
        auto end = std::min(pieces->size(), b + iopts.embed_batch_size);
        std::vector<std::string> batch(pieces->begin() + static_cast<ptrdiff_t>(b),
                                       pieces->begin() + static_cast<ptrdiff_t>(end));
        auto t1 = clock_type::now();
        parts.embedder->embed(std::move(batch),
                              [&embedded](caf::expected<std::vector<actors::vector>> res) {
                                if (!res) die(runtime::describe(res.error()));
                                embedded += res->size();
                              });
        embed_s += seconds_since(t1);
      }
    }
    std::printf("embedding only (%s, batches of %zu): %zu chunks in %.2f s = %.0f chunks/s\n",
                parts.embedder->model().c_str(), iopts.embed_batch_size, embedded, embed_s,
                static_cast<double>(embedded) / embed_s);
    std::printf("parse + chunk only: %zu chunks in %.2f s = %.0f chunks/s\n", embedded, parse_s,
                static_cast<double>(embedded) / parse_s);
    std::fflush(stdout);

    // 2. The whole path, as `opea-node ingest DIR`.
    rss_before_ingest = rss_bytes();
    auto t0 = clock_type::now();
    double cpu0 = cpu_seconds();
    std::vector<actors::source_document> docs;
    for (const auto& f : files) {
      auto doc = dataprep.from_link(f);
      if (!doc) die(runtime::describe(doc.error()));
      docs.push_back(std::move(*doc));
    }
    // Every tenth of the chunks: the rate over that tenth (HNSW inserts get
    // slower as the graph grows).
    size_t step = std::max<size_t>(1, st.chunks / 10);
    size_t next_report = step;
    size_t last_chunks = 0;
    auto last_t = clock_type::now();
    auto progress = [&](const actors::ingest_progress& p) {
      if (p.chunks_done < next_report) return;
      double dt = seconds_since(last_t);
      std::printf(
          "  ingest progress: %zu/%zu chunks at %.1f s, %.0f chunks/s since the last line\n",
          p.chunks_done, st.chunks, seconds_since(t0),
          static_cast<double>(p.chunks_done - last_chunks) / dt);
      std::fflush(stdout);
      last_chunks = p.chunks_done;
      last_t = clock_type::now();
      next_report = (p.chunks_done / step + 1) * step;
    };
    std::promise<caf::expected<runtime::json>> done;
    dataprep.ingest(
        std::move(docs), iopts,
        [&done](caf::expected<runtime::json> r) { done.set_value(std::move(r)); }, progress);
    auto res = done.get_future().get();
    double ingest_s = seconds_since(t0);
    double ingest_cpu = cpu_seconds() - cpu0;
    if (!res) die(runtime::describe(res.error()));
    size_t stored = parts.store->size();
    dimension = parts.store->dimension();
    rss_after_ingest = rss_bytes();
    std::printf(
        "whole path (read + parse + chunk + embed + HNSW insert + WAL fsync per document, "
        "dimension %zu): %zu chunks, %zu documents in %.2f s = %.0f chunks/s (CPU %.2f s = "
        "%.0f chunks per CPU second)\n",
        dimension, stored, st.documents, ingest_s, static_cast<double>(stored) / ingest_s,
        ingest_cpu, static_cast<double>(stored) / ingest_cpu);
  }
  double per_100k = 100000.0 / static_cast<double>(st.chunks);
  double rss_delta = static_cast<double>(rss_after_ingest) - static_cast<double>(rss_before_ingest);
  std::printf(
      "index memory after ingest (VmRSS delta): %.1f MiB for %zu chunks = %.1f MiB per "
      "100k chunks (%.0f bytes/chunk)\n",
      mib(rss_delta), st.chunks, mib(rss_delta * per_100k),
      rss_delta / static_cast<double>(st.chunks));
  auto disk = static_cast<double>(dir_bytes(cfg.node.data_dir));
  std::printf(
      "on disk (%s, snapshot + WAL as ingest left it): %.1f MiB = %.1f MiB per 100k chunks "
      "(%.0f bytes/chunk)\n",
      (cfg.node.data_dir + "/" + index).c_str(), mib(disk), mib(disk * per_100k),
      disk / static_cast<double>(st.chunks));
  std::fflush(stdout);

  // 3. Reload, as a node restarting after `opea-node ingest` (snapshot + WAL replay).
  {
    size_t rss0 = rss_bytes();
    auto t0 = clock_type::now();
    double cpu0 = cpu_seconds();
    auto store = actors::vector_store::open(cfg.node.data_dir, index);
    double reload_s = seconds_since(t0);
    double reload_cpu = cpu_seconds() - cpu0;
    if (!store) die(runtime::describe((store.error())));
    size_t rss1 = rss_bytes();
    double loaded = static_cast<double>(rss1) - static_cast<double>(rss0);
    std::printf(
        "reload (snapshot + WAL replay): %zu chunks in %.2f s (CPU %.2f s); reloaded store "
        "VmRSS %.1f MiB = %.1f MiB per 100k chunks\n",
        (*store)->size(), reload_s, reload_cpu, mib(loaded), mib(loaded * per_100k));
    auto t1 = clock_type::now();
    if (auto r = (*store)->snapshot(); !r) die(runtime::describe(r.error()));
    std::printf("snapshot write: %.2f s; on disk after it: %.1f MiB = %.1f MiB per 100k chunks\n",
                seconds_since(t1), mib(static_cast<double>(dir_bytes(cfg.node.data_dir))),
                mib(static_cast<double>(dir_bytes(cfg.node.data_dir)) * per_100k));
  }
  {
    auto t0 = clock_type::now();
    auto store = actors::vector_store::open(cfg.node.data_dir, index);
    double reload_s = seconds_since(t0);
    if (!store) die(runtime::describe((store.error())));
    std::printf("reload (snapshot only): %zu chunks in %.2f s\n", (*store)->size(), reload_s);
  }
  if (keep)
    std::printf("kept %s\n", tmp.c_str());
  else
    fs::remove_all(tmp);
  return 0;
}
