// opea-bench-chatqna-eval: how well ChatQnA answers, asked over HTTP as a
// user asks it, on the held-out question set tests/data/chatqna_eval.json
// (in-corpus questions phrased as users phrase them, each with the file that
// answers it; off-corpus questions the corpus does not answer; each in the
// "dev" half, used for tuning, or the "test" half, used only for reported
// numbers).
//
//   opea-bench-chatqna-eval CHATQNA_URL [--retrieval URL] [--set FILE] [--show N]
//
// CHATQNA_URL: a node's ChatQnA route (e.g. http://127.0.0.1:8888/v1/chatqna),
// asked {"messages": Q, "stream": false}. --retrieval: a route whose flow is
// embedding >> retriever (answers OPEA's SearchedDoc), asked {"text": Q}, for
// hit@1 / hit@4. --show N prints the first N misses of each kind.
// bench/run_chatqna_eval.sh starts such a node on the bundled corpus.
//
// Prints, per half:
//   cited   in-corpus answers citing the expected source (or an equally good one)
//   cited[1] the same, counting only the answer's first citation
//   false   in-corpus answers that abstained (no citation)
//   abstain off-corpus answers that abstained
//   hit@1, hit@4  in-corpus questions whose expected source is the first /
//                 among the first 4 retrieved chunks' sources
// An answer abstains when it cites nothing (the answerer's "nothing found"
// answers have no "Sources:" line).

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"

namespace http = opea::runtime::http;
using json = nlohmann::json;

namespace {

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "opea-bench-chatqna-eval: %s\n"
               "usage: opea-bench-chatqna-eval CHATQNA_URL [--retrieval URL] [--set FILE] "
               "[--show N]\n",
               why);
  std::exit(2);
}

json post(http::client& client, const std::string& url, const json& body) {
  http::client_request req;
  req.method = "POST";
  req.url = url;
  req.body = body.dump();
  req.headers = {{"Content-Type", "application/json"}};
  req.timeout = std::chrono::seconds{30};
  std::promise<caf::expected<http::client_response>> done;
  client.async_request(std::move(req), [&](caf::expected<http::client_response> r) {
    done.set_value(std::move(r));
  });
  auto res = done.get_future().get();
  if (!res) {
    std::fprintf(stderr, "POST %s: %s\n", url.c_str(),
                 opea::runtime::describe(res.error()).c_str());
    std::exit(1);
  }
  if (res->status != 200) {
    std::fprintf(stderr, "POST %s: status %d: %s\n", url.c_str(), res->status, res->body.c_str());
    std::exit(1);
  }
  auto parsed = json::parse(res->body, nullptr, false);
  if (parsed.is_discarded()) {
    std::fprintf(stderr, "POST %s: not JSON: %s\n", url.c_str(), res->body.c_str());
    std::exit(1);
  }
  return parsed;
}

/// `path`'s file name (what the eval set names sources by).
std::string file_name(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// The answer text of a ChatQnA (OpenAI-shaped) response.
std::string answer_text(const json& response) {
  const auto& choices = response.value("choices", json::array());
  if (choices.empty()) return {};
  return choices[0].value("message", json::object()).value("content", std::string{});
}

/// The file names of the answer's "Sources: [1] a.md, [2] b.md" line.
std::vector<std::string> cited_sources(const std::string& answer) {
  std::vector<std::string> out;
  auto at = answer.rfind("Sources:");
  if (at == std::string::npos) return out;
  static const std::regex item{R"(\[[0-9]+\]\s*([^,\n\[]+))"};
  auto line = answer.substr(at);
  for (std::sregex_iterator it{line.begin(), line.end(), item}, end; it != end; ++it) {
    auto name = (*it)[1].str();
    while (!name.empty() && (name.back() == ' ' || name.back() == '.')) name.pop_back();
    out.push_back(file_name(name));
  }
  return out;
}

/// The sources of a SearchedDoc's retrieved chunks, in rank order.
std::vector<std::string> retrieved_sources(const json& searched) {
  std::vector<std::string> out;
  for (const auto& d : searched.value("retrieved_docs", json::array())) {
    std::string s = d.value("metadata", json::object()).value("source", std::string{});
    if (s.empty()) s = d.value("source", std::string{});
    out.push_back(file_name(s));
  }
  return out;
}

struct tally {
  size_t in = 0, cited = 0, first = 0, false_abstain = 0, off = 0, abstain = 0, hit1 = 0, hit4 = 0,
         retrieved = 0;
  std::vector<std::string> misses, false_abstentions, answered_off;
};

double pct(size_t x, size_t n) {
  return n == 0 ? 0.0 : 100.0 * static_cast<double>(x) / static_cast<double>(n);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage("missing CHATQNA_URL");
  std::string chatqna = argv[1];
  std::string retrieval;
  std::string set_path = std::string{OPEA_SOURCE_DIR} + "/tests/data/chatqna_eval.json";
  size_t show = 0;
  for (int i = 2; i < argc; i += 2) {
    std::string key = argv[i];
    if (i + 1 >= argc) usage(("missing value of " + key).c_str());
    std::string val = argv[i + 1];
    if (key == "--retrieval")
      retrieval = val;
    else if (key == "--set")
      set_path = val;
    else if (key == "--show")
      show = std::stoul(val);
    else
      usage(("unknown option " + key).c_str());
  }
  std::ifstream in{set_path};
  if (!in) usage(("cannot read " + set_path).c_str());
  auto set = json::parse(in, nullptr, false);
  if (set.is_discarded() || !set.contains("in_corpus") || !set.contains("off_corpus"))
    usage((set_path + ": expected {\"in_corpus\": [...], \"off_corpus\": [...]}").c_str());

  http::client client;
  std::map<std::string, tally> halves;
  for (const auto& q : set["in_corpus"]) {
    auto question = q.at("question").get<std::string>();
    std::set<std::string> good{q.at("source").get<std::string>()};
    for (const auto& a : q.value("also", json::array())) good.insert(a.get<std::string>());
    auto& t = halves[q.at("split").get<std::string>()];
    ++t.in;
    auto cited = cited_sources(
        answer_text(post(client, chatqna, {{"messages", question}, {"stream", false}})));
    if (cited.empty()) {
      ++t.false_abstain;
      t.false_abstentions.push_back(question);
    } else {
      bool right = false;
      for (const auto& c : cited) right = right || good.count(c) > 0;
      if (good.count(cited.front()) > 0) ++t.first;
      if (right)
        ++t.cited;
      else
        t.misses.push_back(question + "  (expected " + *good.begin() + ", cited " + cited.front() +
                           (cited.size() > 1 ? ", ..." : "") + ")");
    }
    if (!retrieval.empty()) {
      auto ranked = retrieved_sources(post(client, retrieval, {{"text", question}}));
      ++t.retrieved;
      if (!ranked.empty() && good.count(ranked.front()) > 0) ++t.hit1;
      for (size_t i = 0; i < ranked.size() && i < 4; ++i)
        if (good.count(ranked[i]) > 0) {
          ++t.hit4;
          break;
        }
    }
  }
  for (const auto& q : set["off_corpus"]) {
    auto question = q.at("question").get<std::string>();
    auto& t = halves[q.at("split").get<std::string>()];
    ++t.off;
    auto answer = answer_text(post(client, chatqna, {{"messages", question}, {"stream", false}}));
    if (cited_sources(answer).empty())
      ++t.abstain;
    else
      t.answered_off.push_back(question);
  }

  std::printf("%-5s %4s %9s %9s %9s %4s %9s %7s %7s\n", "half", "in", "cited", "cited[1]", "false",
              "off", "abstain", "hit@1", "hit@4");
  for (const auto& [name, t] : halves) {
    std::printf("%-5s %4zu %8.1f%% %8.1f%% %8.1f%% %4zu %8.1f%%", name.c_str(), t.in,
                pct(t.cited, t.in), pct(t.first, t.in), pct(t.false_abstain, t.in), t.off,
                pct(t.abstain, t.off));
    if (t.retrieved > 0)
      std::printf(" %6.1f%% %6.1f%%\n", pct(t.hit1, t.retrieved), pct(t.hit4, t.retrieved));
    else
      std::printf(" %7s %7s\n", "-", "-");
  }
  std::printf("targets (test half): cited >= 90%%, false <= 5%%, abstain >= 95%%\n");
  for (const auto& [name, t] : halves) {
    auto list = [&](const char* what, const std::vector<std::string>& xs) {
      for (size_t i = 0; i < xs.size() && i < show; ++i)
        std::printf("%s %s: %s\n", name.c_str(), what, xs[i].c_str());
    };
    list("wrong source", t.misses);
    list("false abstention", t.false_abstentions);
    list("answered off-corpus", t.answered_off);
  }
  return 0;
}
