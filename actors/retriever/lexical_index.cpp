#include "actors/retriever/lexical_index.hpp"

#include <cstdio>
#include <functional>

#include <xapian.h>

#include "runtime/errors.hpp"
#include "runtime/text/text.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::make_error;

namespace {

/// A chunk's id and its source are stored as unique boolean terms.
std::string id_term(std::string_view id) {
  return "Q" + std::string{id};
}

std::string source_term(std::string_view source) {
  return "XS" + std::string{source};
}

/// Xapian caps a term at 245 bytes: a longer id or source is looked up by a
/// digest that keeps the start readable.
std::string fit(std::string term) {
  constexpr size_t max_term = 240;
  if (term.size() <= max_term) return term;
  auto h = std::hash<std::string>{}(term);
  term.resize(max_term - 17);
  char buf[18];
  std::snprintf(buf, sizeof(buf), "#%016zx", h);
  return term + buf;
}

constexpr const char* applied_key = "opea.applied";

}  // namespace

struct lexical_index::impl {
  impl(Xapian::WritableDatabase d, std::string where)
      : db(std::move(d)), dir(std::move(where)), stemmer("english") {
    // Left out of queries (documents keep them: a stopped query term
    // simply never counts).
    for (auto w : text::english_stop_words()) stopper.add(std::string{w});
    indexer.set_stemmer(stemmer);
    indexer.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
    query_words.set_stopper(&stopper);
    query_words.set_stopper_strategy(Xapian::TermGenerator::STOP_ALL);
    if (!dir.empty()) applied = db.get_metadata(applied_key);
  }

  /// Whether `query` has a word that is not a stop word (Xapian's query
  /// parser keeps stop words when a query has nothing else).
  bool has_content(const std::string& query) {
    Xapian::Document scratch;
    query_words.set_document(scratch);
    query_words.index_text(query);
    return scratch.termlist_count() > 0;
  }

  caf::error fail(const Xapian::Error& e) const {
    return make_error(errc::service_failed, "lexical index " + (dir.empty() ? "(memory)" : dir),
                      e.get_description());
  }

  /// Deletes every document indexed by `term` (an id's or a source's).
  void drop(const std::string& term) {
    auto n = db.get_termfreq(term);
    if (n == 0) return;
    db.delete_document(term);
    pending += n;
  }

  /// Runs `f` under `mtx`, Xapian's exceptions turned into `fail`'s error.
  template <class F>
  auto guarded(std::mutex& mtx, F f) -> decltype(f()) {
    std::lock_guard<std::mutex> guard{mtx};
    try {
      return f();
    } catch (const Xapian::Error& e) {
      return fail(e);
    }
  }

  Xapian::WritableDatabase db;
  std::string dir;  // "" in memory
  Xapian::Stem stemmer;
  Xapian::SimpleStopper stopper;
  Xapian::TermGenerator indexer;
  Xapian::TermGenerator query_words;
  std::string applied;
  size_t pending = 0;
};

lexical_index::lexical_index()
    : impl_(std::make_unique<impl>(
          Xapian::WritableDatabase{std::string{}, Xapian::DB_BACKEND_INMEMORY}, std::string{})) {}

lexical_index::lexical_index(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

lexical_index::~lexical_index() = default;

caf::expected<std::unique_ptr<lexical_index>> lexical_index::open(const std::string& dir,
                                                                  bool overwrite) {
  try {
    auto flags = Xapian::DB_BACKEND_GLASS |
                 (overwrite ? Xapian::DB_CREATE_OR_OVERWRITE : Xapian::DB_CREATE_OR_OPEN);
    Xapian::WritableDatabase db{dir, flags};
    return std::unique_ptr<lexical_index>{
        new lexical_index{std::make_unique<impl>(std::move(db), dir)}};
  } catch (const Xapian::Error& e) {
    return make_error(errc::service_failed, "lexical index " + dir, e.get_description());
  }
}

caf::expected<void> lexical_index::add(const std::string& id, std::string_view source,
                                       std::string_view title, std::string_view headings,
                                       std::string_view text) {
  return impl_->guarded(mtx_, [&]() -> caf::expected<void> {
    Xapian::Document doc;
    auto& indexer = impl_->indexer;
    indexer.set_document(doc);
    // No positions: searches are bags of words (no phrase queries), and
    // positions would double the database and its indexing time.
    indexer.index_text_without_positions(std::string{title}, title_weight);
    indexer.index_text_without_positions(std::string{headings}, heading_weight);
    indexer.index_text_without_positions(std::string{text});
    auto term = fit(id_term(id));
    doc.add_boolean_term(term);
    doc.add_boolean_term(fit(source_term(source)));
    doc.set_data(id);
    impl_->db.replace_document(term, doc);
    ++impl_->pending;
    return caf::unit;
  });
}

caf::expected<void> lexical_index::remove(const std::string& id) {
  return impl_->guarded(mtx_, [&]() -> caf::expected<void> {
    impl_->drop(fit(id_term(id)));
    return caf::unit;
  });
}

caf::expected<void> lexical_index::remove_source(const std::string& source) {
  return impl_->guarded(mtx_, [&]() -> caf::expected<void> {
    impl_->drop(fit(source_term(source)));
    return caf::unit;
  });
}

caf::expected<void> lexical_index::clear() {
  return impl_->guarded(mtx_, [&]() -> caf::expected<void> {
    // Every document has a source term (possibly "XS" for no source).
    std::vector<std::string> sources;
    for (auto t = impl_->db.allterms_begin("XS"); t != impl_->db.allterms_end("XS"); ++t)
      sources.push_back(*t);
    for (auto& term : sources) impl_->drop(term);
    return caf::unit;
  });
}

caf::expected<std::vector<lexical_hit>> lexical_index::search(std::string_view query,
                                                              size_t k) const {
  if (k == 0) return std::vector<lexical_hit>{};
  return impl_->guarded(mtx_, [&]() -> caf::expected<std::vector<lexical_hit>> {
    std::vector<lexical_hit> out;
    std::string text{query};
    if (impl_->db.get_doccount() == 0 || !impl_->has_content(text)) return out;
    Xapian::QueryParser parser;
    parser.set_database(impl_->db);
    parser.set_stemmer(impl_->stemmer);
    parser.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    parser.set_stopper(&impl_->stopper);
    parser.set_default_op(Xapian::Query::OP_OR);
    Xapian::Query q;
    try {
      // No operators: a user's question is text, not Xapian's query syntax
      // ("C++", "AND" or a stray quote must not change or break the search).
      q = parser.parse_query(text, 0);
    } catch (const Xapian::QueryParserError&) {
      return out;
    }
    if (q.empty()) return out;
    Xapian::Enquire enquire{impl_->db};
    enquire.set_query(q);
    auto matches = enquire.get_mset(0, static_cast<Xapian::doccount>(k));
    out.reserve(matches.size());
    for (auto it = matches.begin(); it != matches.end(); ++it)
      out.push_back({it.get_document().get_data(), it.get_weight()});
    return out;
  });
}

size_t lexical_index::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return impl_->db.get_doccount();
}

std::string lexical_index::applied() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return impl_->applied;
}

void lexical_index::set_applied(const std::string& position) {
  std::lock_guard<std::mutex> guard{mtx_};
  impl_->applied = position;
  if (!impl_->dir.empty()) {
    try {
      impl_->db.set_metadata(applied_key, position);
    } catch (const Xapian::Error&) {
      // Only a stale position on disk: the next open replays more.
    }
  }
}

size_t lexical_index::pending() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return impl_->pending;
}

caf::expected<void> lexical_index::commit() {
  return impl_->guarded(mtx_, [&]() -> caf::expected<void> {
    impl_->db.commit();
    impl_->pending = 0;
    return caf::unit;
  });
}

}  // namespace opea::actors
