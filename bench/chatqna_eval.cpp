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
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/errors.hpp"
#include "tests/support/chatqna_eval.hpp"

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
  auto halves = opea::test::evaluate_chatqna(set, chatqna, retrieval);
  if (!halves) {
    std::fprintf(stderr, "opea-bench-chatqna-eval: %s: %s\n", set_path.c_str(),
                 opea::runtime::describe(halves.error()).c_str());
    return 1;
  }
  std::fputs(opea::test::format_eval(*halves, show).c_str(), stdout);
  return 0;
}
