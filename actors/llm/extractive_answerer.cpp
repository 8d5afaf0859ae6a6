#include "actors/llm/extractive_answerer.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "runtime/text/text.hpp"

namespace opea::actors {

namespace {

constexpr double bm25_k1 = 1.2;
constexpr double bm25_b = 0.75;
constexpr double proximity_bonus = 0.3;
constexpr double keep_ratio = 0.5;
constexpr size_t min_sentence_words = 3;

using text::is_space;
using text::trim;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

/// Removes a Markdown list or quote marker ("- ", "* ", "+ ", "12. ", "3) ",
/// "> "); returns whether there was one (the line then starts a paragraph).
bool strip_list_marker(std::string_view& line) {
  if (line.size() >= 2 && (line[0] == '-' || line[0] == '*' || line[0] == '+') && line[1] == ' ') {
    line = trim(line.substr(2));
    return true;
  }
  size_t i = 0;
  while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i])) != 0) ++i;
  if (i > 0 && i + 1 < line.size() && (line[i] == '.' || line[i] == ')') && line[i + 1] == ' ') {
    line = trim(line.substr(i + 2));
    return true;
  }
  if (starts_with(line, "> ")) {
    line = trim(line.substr(2));
    return true;
  }
  return false;
}

/// The prose paragraphs of a Markdown text, white space collapsed.
std::vector<std::string> paragraphs(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(std::move(cur));
    cur.clear();
  };
  bool in_fence = false;
  size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    auto line = trim(text.substr(start, end - start));
    start = end + 1;
    if (starts_with(line, "```") || starts_with(line, "~~~")) {
      flush();
      in_fence = !in_fence;
      continue;
    }
    if (in_fence) continue;
    if (line.empty() || line.front() == '#' || line.front() == '|') {
      flush();
      continue;
    }
    if (strip_list_marker(line)) flush();
    // Joins the wrapped lines of a paragraph, collapsing white space.
    if (!cur.empty()) cur.push_back(' ');
    for (char c : line) {
      if (!is_space(c))
        cur.push_back(c);
      else if (cur.back() != ' ')
        cur.push_back(' ');
    }
  }
  flush();
  return out;
}

bool closes_sentence(char c) {
  return c == ')' || c == '"' || c == '\'' || c == ']' || c == '*' || c == '_' || c == '`';
}

/// True when the word that ends at `p[end]` (its final '.') is an
/// abbreviation or an initial, after which a period does not end a sentence.
bool is_abbreviation(const std::string& p, size_t end) {
  size_t start = p.rfind(' ', end);
  start = start == std::string::npos ? 0 : start + 1;
  while (start < end && (p[start] == '(' || p[start] == '"' || p[start] == '\'')) ++start;
  auto word = text::lower(std::string_view{p}.substr(start, end + 1 - start));
  static const std::unordered_set<std::string> known{"e.g.",    "i.e.", "etc.", "vs.", "cf.",
                                                     "approx.", "no.",  "fig.", "mr.", "dr."};
  if (known.count(word) != 0) return true;
  return word.size() == 2 && std::isalpha(static_cast<unsigned char>(word[0])) != 0;
}

void split_paragraph(const std::string& p, std::vector<std::string>& out) {
  size_t begin = 0;
  size_t i = 0;
  bool in_code = false;
  const size_t n = p.size();
  while (i < n) {
    char c = p[i];
    if (c == '`') in_code = !in_code;
    if (!in_code && (c == '.' || c == '!' || c == '?')) {
      size_t j = i + 1;
      while (j < n && closes_sentence(p[j])) ++j;
      if (j == n) break;
      if (p[j] == ' ' && (c != '.' || !is_abbreviation(p, i))) {
        size_t k = j;
        while (k < n && p[k] == ' ') ++k;
        out.push_back(p.substr(begin, j - begin));
        begin = k;
        i = k;
        continue;
      }
    }
    ++i;
  }
  if (begin < n) out.push_back(p.substr(begin));
}

const std::unordered_set<std::string>& stop_words() {
  static const std::unordered_set<std::string> words{
      "a",     "about", "all",   "also", "an",    "and",   "any",   "are",   "as",    "at",
      "be",    "been",  "being", "but",  "by",    "can",   "could", "did",   "do",    "does",
      "for",   "from",  "had",   "has",  "have",  "how",   "i",     "if",    "in",    "into",
      "is",    "it",    "its",   "me",   "my",    "of",    "on",    "or",    "our",   "should",
      "so",    "than",  "that",  "the",  "their", "them",  "then",  "there", "these", "they",
      "this",  "those", "to",    "was",  "we",    "were",  "what",  "when",  "where", "which",
      "while", "who",   "why",   "will", "with",  "would", "you",   "your"};
  return words;
}

/// A light suffix folding so that "crashes", "crashed" and "crash" meet:
/// plural -ies/-sses/-es/-s, then -ing/-ed, then a final -e.
std::string fold_suffixes(std::string w) {
  auto ends = [&](std::string_view s) {
    return w.size() >= s.size() && w.compare(w.size() - s.size(), s.size(), s) == 0;
  };
  if (w.size() > 4 && ends("ies")) {
    w.resize(w.size() - 3);
    w += 'y';
  } else if (w.size() > 4 &&
             (ends("sses") || ends("xes") || ends("zes") || ends("ches") || ends("shes"))) {
    w.resize(w.size() - 2);
  } else if (w.size() > 3 && ends("s") && !ends("ss") && !ends("us") && !ends("is")) {
    w.pop_back();
  }
  if (w.size() > 5 && ends("ing"))
    w.resize(w.size() - 3);
  else if (w.size() > 4 && ends("ed"))
    w.resize(w.size() - 2);
  if (w.size() > 4 && ends("e")) w.pop_back();
  return w;
}

struct candidate {
  size_t doc;
  size_t pos;
  std::string text;
  std::vector<std::string> terms;
  size_t words;
  /// The first or last sentence of its document (where chunks overlap).
  bool edge = false;
  double bm25 = 0;
  double score = 0;
};

/// Smallest window of `terms` (in term positions) containing every distinct
/// query term that occurs in it, and how many distinct terms that is.
std::pair<size_t, size_t> match_window(const std::vector<std::string>& terms,
                                       const std::unordered_map<std::string, size_t>& query_ids) {
  std::vector<std::pair<size_t, size_t>> hits;  // (position, query term id)
  std::set<size_t> distinct;
  for (size_t i = 0; i < terms.size(); ++i) {
    auto q = query_ids.find(terms[i]);
    if (q == query_ids.end()) continue;
    hits.emplace_back(i, q->second);
    distinct.insert(q->second);
  }
  size_t m = distinct.size();
  if (m < 2) return {m, m};
  std::map<size_t, size_t> counts;
  size_t best = terms.size();
  size_t lo = 0;
  for (size_t hi = 0; hi < hits.size(); ++hi) {
    ++counts[hits[hi].second];
    while (counts.size() == m) {
      best = std::min(best, hits[hi].first - hits[lo].first + 1);
      auto it = counts.find(hits[lo].second);
      if (--it->second == 0) counts.erase(it);
      ++lo;
    }
  }
  return {m, best};
}

const char* capabilities =
    "I am an extractive answerer, not a language model: I answer only by quoting the passages of "
    "the indexed documents that match a question, with their sources. Ingest documents on this "
    "topic through dataprep, or ask about a topic they cover.";

/// The words of `query` written as names (an upper-case letter or a digit,
/// not at the start of a sentence: "Kubernetes", "AWS", "PyTorch", "11"),
/// each cut at an apostrophe ("OPEA's" -> "OPEA").
std::vector<std::string> name_words(std::string_view query) {
  std::vector<std::string> out;
  bool sentence_start = true;
  size_t i = 0;
  const size_t n = query.size();
  while (i < n) {
    while (i < n && is_space(query[i])) ++i;
    size_t start = i;
    while (i < n && !is_space(query[i])) ++i;
    std::string_view tok = query.substr(start, i - start);
    if (tok.empty()) break;
    bool was_start = sentence_start;
    char last = tok.back();
    sentence_start = last == '.' || last == '?' || last == '!' || last == ':';
    if (was_start) continue;
    for (std::string_view apostrophe : {"'", "\u2019"})
      if (auto at = tok.find(apostrophe); at != std::string_view::npos) tok = tok.substr(0, at);
    bool namelike = false;
    for (char c : tok)
      if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) namelike = true;
    if (namelike) out.emplace_back(tok);
  }
  return out;
}

/// Whether `s` ends a sentence: `.`, `!` or `?`, then closing quotes or
/// brackets.
bool ends_sentence(std::string_view s) {
  size_t i = s.size();
  while (i > 0 && (s[i - 1] == '"' || s[i - 1] == '\'' || s[i - 1] == ')' || s[i - 1] == ']' ||
                   s[i - 1] == '`' || s[i - 1] == '*'))
    --i;
  return i > 0 && (s[i - 1] == '.' || s[i - 1] == '!' || s[i - 1] == '?' || s[i - 1] == ':');
}

/// Whether `s` (a chunk's first sentence) starts in the middle of one: with
/// a lower-case letter.
bool starts_mid_sentence(std::string_view s) {
  return !s.empty() && s[0] >= 'a' && s[0] <= 'z';
}

/// `s` without the "..." marks `answer` adds to pieces of sentences.
std::string trim_ellipsis(std::string_view s) {
  if (s.rfind("...", 0) == 0) s.remove_prefix(3);
  if (s.size() >= 3 && s.substr(s.size() - 3) == "...") s.remove_suffix(3);
  return std::string{s};
}

/// Chunks of one file overlap (dataprep's chunk_overlap), so a sentence cut
/// at the end of one chunk continues at the start of another: when the last
/// sentence of a document does not end a sentence and ends with the first
/// 16 or more characters of another document's first sentence (same source),
/// the two are joined into the whole sentence, kept in the first document.
void join_cut_sentences(const std::vector<context_document>& documents,
                        std::vector<std::vector<std::string>>& sentences) {
  constexpr size_t min_overlap = 16;
  for (size_t d = 0; d < documents.size(); ++d) {
    if (sentences[d].empty() || ends_sentence(sentences[d].back())) continue;
    auto& head = sentences[d].back();
    for (size_t e = 0; e < documents.size(); ++e) {
      if (e == d || sentences[e].empty() || documents[e].source != documents[d].source) continue;
      const auto& tail = sentences[e].front();
      size_t longest = std::min(head.size(), tail.size());
      size_t k = longest;
      for (; k >= min_overlap; --k)
        if (head.compare(head.size() - k, k, tail, 0, k) == 0) break;
      if (k < min_overlap || k == tail.size()) continue;
      head += tail.substr(k);
      sentences[e].erase(sentences[e].begin());
      break;
    }
  }
}

/// `extractive_answerer::weigh_evidence`, given the terms of the documents'
/// sentences (those of at least min_sentence_words words).
evidence weigh(std::string_view query, const std::vector<context_document>& documents,
               const std::vector<const std::vector<std::string>*>& sentence_terms) {
  auto terms = [](std::string_view text) { return extractive_answerer::terms(text); };
  evidence ev;
  std::unordered_set<std::string> known;
  for (const auto& d : documents)
    for (auto& t : terms(d.text)) known.insert(std::move(t));
  // The question's terms, without what is left of a contraction once the
  // apostrophe separates it ("what's" -> "what", "s").
  static const std::unordered_set<std::string> contraction_tails{"s", "t",  "d", "m",
                                                                  "ll", "re", "ve"};
  std::unordered_set<std::string> asked;
  for (auto& t : terms(query))
    if (contraction_tails.count(t) == 0) asked.insert(std::move(t));
  size_t found = 0;
  for (const auto& t : asked) found += known.count(t);
  ev.coverage =
      asked.empty() ? 0.0 : static_cast<double>(found) / static_cast<double>(asked.size());
  ev.question_terms = asked.size();
  // A question that addresses the assistant and asks about one thing at most
  // is about the assistant ("What's your name?"); "Can you explain how a
  // bulkhead limits calls?" asks about the documents.
  if (asked.size() <= 1) {
    static const std::unordered_set<std::string> second_person{"you", "your", "yours",
                                                                "yourself"};
    for (const auto& w : text::tokenize(query))
      if (second_person.count(w) != 0) ev.about_assistant = true;
  }
  for (const auto* sentence : sentence_terms) {
    std::unordered_set<std::string_view> in_sentence;
    for (const auto& t : *sentence)
      if (asked.count(t) != 0) in_sentence.insert(t);
    ev.best_sentence_terms = std::max(ev.best_sentence_terms, in_sentence.size());
  }
  auto all_known = [&](const std::vector<std::string>& parts) {
    for (const auto& t : parts)
      if (known.count(t) == 0) return false;
    return true;
  };
  for (auto& name : name_words(query)) {
    auto parts = terms(name);
    if (parts.empty() || all_known(parts)) continue;
    // An acronym's plural ("IDs", "GPUs") also matches its singular.
    bool acronym_plural = name.size() >= 3 && name.back() == 's' &&
                          std::all_of(name.begin(), name.end() - 1, [](char c) {
                            return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                          });
    if (acronym_plural && all_known(terms(name.substr(0, name.size() - 1)))) continue;
    ev.unknown_names.push_back(std::move(name));
  }
  return ev;
}

}  // namespace

std::vector<std::string> split_stream_pieces(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  const size_t n = text.size();
  if (i < n && is_space(text[i])) {
    while (i < n && is_space(text[i])) ++i;
    out.emplace_back(text.substr(0, i));
  }
  while (i < n) {
    size_t start = i;
    while (i < n && !is_space(text[i])) ++i;
    while (i < n && is_space(text[i])) ++i;
    out.emplace_back(text.substr(start, i - start));
  }
  return out;
}

std::string extractive_answerer::no_documents_answer() {
  return std::string{
             "I found nothing in the indexed documents for this question, so I cannot "
             "answer it. "} +
         capabilities;
}

std::string extractive_answerer::abstention_answer() {
  return "I could not find this in the documents.";
}

evidence extractive_answerer::weigh_evidence(std::string_view query,
                                             const std::vector<context_document>& documents) {
  std::vector<std::vector<std::string>> sentences(documents.size());
  for (size_t d = 0; d < documents.size(); ++d) sentences[d] = split_sentences(documents[d].text);
  join_cut_sentences(documents, sentences);
  std::vector<std::vector<std::string>> all;
  for (const auto& in_doc : sentences)
    for (const auto& s : in_doc)
      if (text::count_words(s) >= min_sentence_words) all.push_back(terms(s));
  std::vector<const std::vector<std::string>*> views;
  for (const auto& t : all) views.push_back(&t);
  return weigh(query, documents, views);
}

std::string extractive_answerer::no_match_answer() {
  return std::string{
             "None of the passages retrieved from the indexed documents matches this "
             "question, so I cannot answer it. "} +
         capabilities;
}

std::vector<std::string> extractive_answerer::split_sentences(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& p : paragraphs(text)) split_paragraph(p, out);
  return out;
}

std::vector<std::string> extractive_answerer::terms(std::string_view text) {
  std::vector<std::string> out;
  const auto& stop = stop_words();
  for (auto& w : text::tokenize(text)) {
    if (stop.count(w) != 0) continue;
    out.push_back(fold_suffixes(std::move(w)));
  }
  return out;
}

extractive_answer extractive_answerer::answer(std::string_view query,
                                              const std::vector<context_document>& documents,
                                              size_t max_tokens, double min_coverage) const {
  extractive_answer result;
  if (documents.empty()) {
    result.text = no_documents_answer();
    return result;
  }
  max_tokens = std::max<size_t>(max_tokens, 1);

  // Source names and the order in which sources first appear.
  std::vector<std::string> source_of(documents.size());
  std::unordered_map<std::string, size_t> source_rank;
  for (size_t d = 0; d < documents.size(); ++d) {
    source_of[d] =
        documents[d].source.empty() ? "document " + std::to_string(d + 1) : documents[d].source;
    source_rank.emplace(source_of[d], source_rank.size());
  }

  // Sentences, with the ones cut at a chunk's boundary joined again.
  std::vector<std::vector<std::string>> sentences(documents.size());
  for (size_t d = 0; d < documents.size(); ++d) sentences[d] = split_sentences(documents[d].text);
  join_cut_sentences(documents, sentences);

  // Candidate sentences: none twice, and none contained in another (the
  // overlap of two chunks of one file).
  std::vector<candidate> cands;
  std::unordered_set<std::string> seen;
  for (size_t d = 0; d < documents.size(); ++d) {
    size_t pos = 0;
    for (auto& s : sentences[d]) {
      auto words = text::count_words(s);
      if (words < min_sentence_words || !seen.insert(s).second) {
        ++pos;
        continue;
      }
      // A piece of a sentence whose start or end the chunk lost is marked
      // as such when quoted.
      std::string shown = s;
      if (pos == 0 && starts_mid_sentence(s)) shown = "..." + shown;
      if (&s == &sentences[d].back() && !ends_sentence(s)) shown += "...";
      bool edge = pos == 0 || &s == &sentences[d].back();
      candidate c{d, pos++, std::move(shown), terms(s), words};
      c.edge = edge;
      cands.push_back(std::move(c));
    }
  }
  {
    // Only a chunk's first or last sentence can lie in the overlap with
    // another chunk of its file.
    std::vector<bool> contained(cands.size(), false);
    for (size_t i = 0; i < cands.size(); ++i) {
      if (!cands[i].edge) continue;
      auto needle = trim_ellipsis(cands[i].text);
      const auto& source = documents[cands[i].doc].source;
      for (size_t j = 0; j < cands.size() && !contained[i]; ++j)
        if (cands[j].doc != cands[i].doc && !contained[j] &&
            documents[cands[j].doc].source == source &&
            cands[j].text.size() > cands[i].text.size() &&
            cands[j].text.find(needle) != std::string::npos)
          contained[i] = true;
    }
    size_t kept = 0;
    for (size_t i = 0; i < cands.size(); ++i)
      if (!contained[i]) {
        if (kept != i) cands[kept] = std::move(cands[i]);
        ++kept;
      }
    cands.resize(kept);
  }

  // Step 0, on the candidates' terms (computed once).
  if (min_coverage > 0) {
    std::vector<const std::vector<std::string>*> sentence_terms;
    sentence_terms.reserve(cands.size());
    for (const auto& c : cands) sentence_terms.push_back(&c.terms);
    auto ev = weigh(query, documents, sentence_terms);
    if (ev.coverage < min_coverage || !ev.unknown_names.empty() || ev.about_assistant ||
        (ev.question_terms >= 2 && ev.best_sentence_terms < 2)) {
      result.text = abstention_answer();
      result.abstained = true;
      return result;
    }
  }

  // Query terms, deduplicated in order.
  std::unordered_map<std::string, size_t> query_ids;
  std::vector<std::string> query_terms;
  for (auto& t : terms(query))
    if (query_ids.emplace(t, query_terms.size()).second) query_terms.push_back(t);

  // BM25 over the candidate sentences.
  const double n_sent = static_cast<double>(cands.size());
  double total_len = 0;
  for (const auto& c : cands) total_len += static_cast<double>(c.terms.size());
  const double avg_len = cands.empty() ? 1.0 : std::max(1.0, total_len / n_sent);
  std::vector<double> idf(query_terms.size(), 0.0);
  for (size_t q = 0; q < query_terms.size(); ++q) {
    double df = 0;
    for (const auto& c : cands)
      if (std::find(c.terms.begin(), c.terms.end(), query_terms[q]) != c.terms.end()) ++df;
    idf[q] = std::log(1.0 + (n_sent - df + 0.5) / (df + 0.5));
  }
  double best = 0;
  for (auto& c : cands) {
    std::vector<double> tf(query_terms.size(), 0.0);
    for (const auto& t : c.terms) {
      auto q = query_ids.find(t);
      if (q != query_ids.end()) tf[q->second] += 1;
    }
    const double len_norm =
        bm25_k1 * (1 - bm25_b + bm25_b * static_cast<double>(c.terms.size()) / avg_len);
    for (size_t q = 0; q < query_terms.size(); ++q)
      if (tf[q] > 0) c.bm25 += idf[q] * tf[q] * (bm25_k1 + 1) / (tf[q] + len_norm);
    if (c.bm25 <= 0) continue;
    c.score = c.bm25;
    auto [m, window] = match_window(c.terms, query_ids);
    if (m >= 2) c.score += proximity_bonus * static_cast<double>(m) / static_cast<double>(window);
    best = std::max(best, c.score);
  }
  if (best <= 0) {
    result.text = no_match_answer();
    return result;
  }

  // Greedy selection by score within the word budget.
  std::vector<const candidate*> ranked;
  for (const auto& c : cands)
    if (c.bm25 > 0 && c.score >= keep_ratio * best) ranked.push_back(&c);
  std::stable_sort(ranked.begin(), ranked.end(), [](const candidate* a, const candidate* b) {
    if (a->score != b->score) return a->score > b->score;
    if (a->doc != b->doc) return a->doc < b->doc;
    return a->pos < b->pos;
  });
  struct chosen {
    const candidate* c;
    std::string text;
  };
  std::vector<chosen> picked;
  size_t used = 0;
  for (const auto* c : ranked) {
    if (used + c->words <= max_tokens) {
      picked.push_back({c, c->text});
      used += c->words;
    } else if (picked.empty()) {
      // The best sentence alone is too long: cut it to the budget.
      auto pieces = split_stream_pieces(c->text);
      std::string cut;
      for (size_t i = 0; i < max_tokens && i < pieces.size(); ++i) cut += pieces[i];
      while (!cut.empty() && is_space(cut.back())) cut.pop_back();
      picked.push_back({c, cut + "..."});
      used = max_tokens;
    }
    if (used >= max_tokens) break;
  }

  // Reading order: by source, then document, then position.
  std::stable_sort(picked.begin(), picked.end(), [&](const chosen& a, const chosen& b) {
    auto ra = source_rank.at(source_of[a.c->doc]);
    auto rb = source_rank.at(source_of[b.c->doc]);
    if (ra != rb) return ra < rb;
    if (a.c->doc != b.c->doc) return a.c->doc < b.c->doc;
    return a.c->pos < b.c->pos;
  });
  std::unordered_map<std::string, size_t> citation;
  std::string text;
  for (const auto& p : picked) {
    const auto& src = source_of[p.c->doc];
    auto it = citation.find(src);
    if (it == citation.end()) {
      result.sources.push_back(src);
      it = citation.emplace(src, result.sources.size()).first;
    }
    if (!text.empty()) text += ' ';
    text += p.text;
    text += " [" + std::to_string(it->second) + "]";
  }
  text += "\n\nSources:";
  for (size_t i = 0; i < result.sources.size(); ++i) {
    text += i == 0 ? " " : ", ";
    text += "[" + std::to_string(i + 1) + "] " + result.sources[i];
  }
  result.text = std::move(text);
  result.sentences = picked.size();
  return result;
}

}  // namespace opea::actors
