#include "actors/retriever/lexical_index.hpp"

#include <xapian.h>

#include "runtime/text/text.hpp"

namespace opea::actors {

namespace {

/// A chunk's id is stored as a unique boolean term.
std::string id_term(const std::string& id) {
  return "Q" + id;
}

}  // namespace

struct lexical_index::impl {
  impl() : db(std::string{}, Xapian::DB_BACKEND_INMEMORY), stemmer("english") {
    // Left out of queries (documents keep them, so that positions stay
    // right; a stopped query term simply never counts).
    for (auto w : text::english_stop_words()) stopper.add(std::string{w});
    indexer.set_stemmer(stemmer);
    indexer.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
    query_words.set_stopper(&stopper);
    query_words.set_stopper_strategy(Xapian::TermGenerator::STOP_ALL);
  }

  /// Whether `query` has a word that is not a stop word (Xapian's query
  /// parser keeps stop words when a query has nothing else).
  bool has_content(const std::string& query) {
    Xapian::Document scratch;
    query_words.set_document(scratch);
    query_words.index_text(query);
    return scratch.termlist_count() > 0;
  }
  Xapian::WritableDatabase db;
  Xapian::Stem stemmer;
  Xapian::SimpleStopper stopper;
  Xapian::TermGenerator indexer;
  Xapian::TermGenerator query_words;
};

lexical_index::lexical_index() : impl_(std::make_unique<impl>()) {}

lexical_index::~lexical_index() = default;

void lexical_index::add(const std::string& id, std::string_view title, std::string_view text) {
  std::lock_guard<std::mutex> guard{mtx_};
  Xapian::Document doc;
  auto& indexer = impl_->indexer;
  indexer.set_document(doc);
  indexer.index_text(std::string{title}, title_weight);
  indexer.increase_termpos();
  indexer.index_text(std::string{text});
  auto term = id_term(id);
  doc.add_boolean_term(term);
  doc.set_data(id);
  impl_->db.replace_document(term, doc);
}

bool lexical_index::remove(const std::string& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto term = id_term(id);
  if (!impl_->db.term_exists(term)) return false;
  impl_->db.delete_document(term);
  return true;
}

void lexical_index::clear() {
  std::lock_guard<std::mutex> guard{mtx_};
  impl_ = std::make_unique<impl>();
}

std::vector<lexical_hit> lexical_index::search(std::string_view query, size_t k) const {
  std::vector<lexical_hit> out;
  if (k == 0) return out;
  std::lock_guard<std::mutex> guard{mtx_};
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
  } catch (const Xapian::Error&) {
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
}

size_t lexical_index::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return impl_->db.get_doccount();
}

}  // namespace opea::actors
