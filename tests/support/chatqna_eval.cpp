#include "tests/support/chatqna_eval.hpp"

#include <chrono>
#include <cstdio>
#include <future>
#include <regex>
#include <set>

#include "runtime/errors.hpp"
#include "runtime/http/client.hpp"

namespace opea::test {

namespace http = runtime::http;
using json = nlohmann::json;
using runtime::errc;
using runtime::make_error;

namespace {

caf::expected<json> post(http::client& client, const std::string& url, const json& body) {
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
  if (!res) return make_error(errc::service_failed, "POST " + url, runtime::describe(res.error()));
  if (res->status != 200)
    return make_error(errc::service_failed, "POST " + url,
                      "status " + std::to_string(res->status) + ": " + res->body);
  auto parsed = json::parse(res->body, nullptr, false);
  if (parsed.is_discarded())
    return make_error(errc::service_failed, "POST " + url, "not JSON: " + res->body);
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

}  // namespace

double percent(size_t x, size_t n) {
  return n == 0 ? 0.0 : 100.0 * static_cast<double>(x) / static_cast<double>(n);
}

caf::expected<std::map<std::string, eval_tally>> evaluate_chatqna(const json& set,
                                                                  const std::string& chatqna,
                                                                  const std::string& retrieval) {
  if (!set.is_object() || !set.contains("in_corpus") || !set.contains("off_corpus"))
    return make_error(errc::bad_request, "question set",
                      "expected {\"in_corpus\": [...], \"off_corpus\": [...]}");
  http::client client;
  std::map<std::string, eval_tally> halves;
  try {
    for (const auto& q : set["in_corpus"]) {
      auto question = q.at("question").get<std::string>();
      std::set<std::string> good{q.at("source").get<std::string>()};
      for (const auto& a : q.value("also", json::array())) good.insert(a.get<std::string>());
      auto& t = halves[q.at("split").get<std::string>()];
      ++t.in;
      auto reply = post(client, chatqna, {{"messages", question}, {"stream", false}});
      if (!reply) return std::move(reply.error());
      auto cited = cited_sources(answer_text(*reply));
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
          t.misses.push_back(question + "  (expected " + *good.begin() + ", cited " +
                             cited.front() + (cited.size() > 1 ? ", ..." : "") + ")");
      }
      if (!retrieval.empty()) {
        auto searched = post(client, retrieval, {{"text", question}});
        if (!searched) return std::move(searched.error());
        auto ranked = retrieved_sources(*searched);
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
      auto reply = post(client, chatqna, {{"messages", question}, {"stream", false}});
      if (!reply) return std::move(reply.error());
      if (cited_sources(answer_text(*reply)).empty())
        ++t.abstain;
      else
        t.answered_off.push_back(question);
    }
  } catch (const json::exception& e) {
    return make_error(errc::bad_request, "question set", e.what());
  }
  return halves;
}

std::string format_eval(const std::map<std::string, eval_tally>& halves, size_t show) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof(line), "%-5s %4s %9s %9s %9s %4s %9s %7s %7s\n", "half", "in", "cited",
                "cited[1]", "false", "off", "abstain", "hit@1", "hit@4");
  out += line;
  for (const auto& [name, t] : halves) {
    std::snprintf(line, sizeof(line), "%-5s %4zu %8.1f%% %8.1f%% %8.1f%% %4zu %8.1f%%",
                  name.c_str(), t.in, percent(t.cited, t.in), percent(t.first, t.in),
                  percent(t.false_abstain, t.in), t.off, percent(t.abstain, t.off));
    out += line;
    if (t.retrieved > 0)
      std::snprintf(line, sizeof(line), " %6.1f%% %6.1f%%\n", percent(t.hit1, t.retrieved),
                    percent(t.hit4, t.retrieved));
    else
      std::snprintf(line, sizeof(line), " %7s %7s\n", "-", "-");
    out += line;
  }
  out += "targets (test half): cited >= 90%, false <= 5%, abstain >= 95%\n";
  for (const auto& [name, t] : halves) {
    auto list = [&](const char* what, const std::vector<std::string>& xs) {
      for (size_t i = 0; i < xs.size() && i < show; ++i)
        out += name + " " + what + ": " + xs[i] + "\n";
    };
    list("wrong source", t.misses);
    list("false abstention", t.false_abstentions);
    list("answered off-corpus", t.answered_off);
  }
  return out;
}

}  // namespace opea::test
