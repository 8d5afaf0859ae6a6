#include <catch2/catch.hpp>

#include "actors/llm/extractive_answerer.hpp"
#include "runtime/text/text.hpp"

using namespace opea::actors;

namespace {

std::vector<context_document> docs() {
  return {
      {"# Restarts\n\n"
       "The supervisor restarts a crashed service actor. A service that crashes more than 5 times\n"
       "in 10 seconds is marked failed.\n"
       "Restarts use an exponential backoff.",
       "supervision.md"},
      {"Deadlines bound every request. The default deadline is 30 seconds, set by "
       "megaservice_options. A request past its deadline gets HTTP 504.",
       "deadlines.md"},
      {"- The supervisor applies one_for_one to its service actors.\n"
       "- Each crash of a service is counted in a metric.",
       "supervision.md"},
  };
}

}  // namespace

TEST_CASE("sentences are split from Markdown prose", "[llm][answerer]") {
  auto s = extractive_answerer::split_sentences(
      "# Title\n\nUse e.g. the CLI. It works!\nReally? yes. Run `cmake -S . -B b` (J. Doe).\n\n"
      "```\ncode. Here\n```\n| a | b |\n1. First item. Second.\n> quoted text here.");
  REQUIRE(s == std::vector<std::string>{"Use e.g. the CLI.", "It works!", "Really?", "yes.",
                                        "Run `cmake -S . -B b` (J. Doe).", "First item.", "Second.",
                                        "quoted text here."});
}

TEST_CASE("scoring terms drop stop words and fold suffixes", "[llm][answerer]") {
  REQUIRE(
      extractive_answerer::terms("How do the Restarts of downstream_black_list entries work?") ==
      std::vector<std::string>{"restart", "downstream", "black", "list", "entry", "work"});
  REQUIRE(extractive_answerer::terms("crashes crashed crash streaming boxes services service") ==
          std::vector<std::string>{"crash", "crash", "crash", "stream", "box", "servic", "servic"});
}

TEST_CASE("the answer quotes the best sentence with its citation", "[llm][answerer]") {
  auto a = extractive_answerer{}.answer(
      "How many times can a service crash before it is marked failed?", docs());
  REQUIRE(a.text ==
          "A service that crashes more than 5 times in 10 seconds is marked failed. [1]\n\n"
          "Sources: [1] supervision.md");
  REQUIRE(a.sources == std::vector<std::string>{"supervision.md"});
  REQUIRE(a.sentences == 1);
}

TEST_CASE("sentences from several sources are ordered by source then position", "[llm][answerer]") {
  // Two keywords that no sentence relates: abstention off (it would abstain).
  auto a = extractive_answerer{}.answer("supervisor deadline", docs(), 128, 0);
  REQUIRE(a.text ==
          "The supervisor restarts a crashed service actor. [1] "
          "The supervisor applies one_for_one to its service actors. [1] "
          "Deadlines bound every request. [2] "
          "The default deadline is 30 seconds, set by megaservice_options. [2] "
          "A request past its deadline gets HTTP 504. [2]\n\n"
          "Sources: [1] supervision.md, [2] deadlines.md");
  REQUIRE(a.sources == std::vector<std::string>{"supervision.md", "deadlines.md"});
}

TEST_CASE("the answer stays within max_tokens words", "[llm][answerer]") {
  extractive_answerer answerer;
  SECTION("a single long sentence is cut") {
    auto a = answerer.answer("What is the default deadline?", docs(), 4);
    REQUIRE(a.text == "The default deadline is... [1]\n\nSources: [1] deadlines.md");
  }
  SECTION("sentences that do not fit are skipped") {
    auto a = answerer.answer("supervisor deadline", docs(), 16, 0);
    REQUIRE(a.text ==
            "The supervisor restarts a crashed service actor. [1] "
            "The supervisor applies one_for_one to its service actors. [1]\n\n"
            "Sources: [1] supervision.md");
  }
}

TEST_CASE("documents without a source are cited by position; duplicates are quoted once",
          "[llm][answerer]") {
  std::vector<context_document> d{{"The retriever uses hnswlib with cosine distance.", ""},
                                  {"The retriever uses hnswlib with cosine distance.", "b.md"}};
  auto a = extractive_answerer{}.answer("which index does the retriever use", d);
  REQUIRE(a.text ==
          "The retriever uses hnswlib with cosine distance. [1]\n\nSources: [1] document 1");
}

TEST_CASE("without documents or matches the answerer says so", "[llm][answerer]") {
  extractive_answerer answerer;
  auto none = answerer.answer("What is ChatQnA?", {});
  REQUIRE(none.text ==
          "I found nothing in the indexed documents for this question, so I cannot answer it. "
          "I am an extractive answerer, not a language model: I answer only by quoting the "
          "passages of the indexed documents that match a question, with their sources. Ingest "
          "documents on this topic through dataprep, or ask about a topic they cover.");
  REQUIRE(none.sources.empty());
  // Nothing matching: the abstention; with abstention off, the no-match answer.
  auto miss = answerer.answer("bananas", docs());
  REQUIRE(miss.text == "I could not find this in the documents.");
  REQUIRE(miss.abstained);
  REQUIRE(miss.sentences == 0);
  REQUIRE(miss.sources.empty());
  auto unchecked = answerer.answer("bananas", docs(), 128, 0);
  REQUIRE(unchecked.text == extractive_answerer::no_match_answer());
  REQUIRE_FALSE(unchecked.abstained);
  auto stop_words_only = answerer.answer("what is it?", docs(), 128, 0);
  REQUIRE(stop_words_only.text == extractive_answerer::no_match_answer());
}

TEST_CASE("the evidence of a question: coverage of its terms and the names it asks about",
          "[llm][answerer]") {
  auto ev = extractive_answerer::weigh_evidence(
      "How often may the supervisor restart a crashed service?", docs());
  // Terms: often, may, supervisor, restart, crash, service: all but "often"
  // and "may" occur.
  REQUIRE(ev.coverage == Approx(4.0 / 6.0));
  REQUIRE(ev.unknown_names.empty());
  // Names: capitalised or with digits, not starting a sentence; cut at an
  // apostrophe; matched by their terms, case aside.
  ev = extractive_answerer::weigh_evidence(
      "Does the Supervisor's backoff work on Kubernetes? Crashes in 10 seconds, or 11?", docs());
  REQUIRE(ev.unknown_names == std::vector<std::string>{"Kubernetes?", "11?"});
  // An acronym's plural matches its singular.
  ev = extractive_answerer::weigh_evidence(
      "Are HTTPs and GPUs counted?", {{"Every HTTP request and every GPU is counted.", "a.md"}});
  REQUIRE(ev.unknown_names.empty());
  ev = extractive_answerer::weigh_evidence("what is it?", docs());
  REQUIRE(ev.coverage == 0.0);
}

TEST_CASE("the answerer abstains below the coverage threshold or on an unknown name",
          "[llm][answerer]") {
  extractive_answerer answerer;
  const std::string abstention = extractive_answerer::abstention_answer();
  REQUIRE(abstention == "I could not find this in the documents.");
  // Covered: answered with citations.
  auto covered = answerer.answer("How does the supervisor restart a crashed service?", docs());
  REQUIRE_FALSE(covered.abstained);
  REQUIRE_THAT(covered.text, Catch::Contains("[1]"));
  // A third of the terms (supervisor and restart; not weather, forecast,
  // tomorrow, morning): below the default 0.42; one sentence holds two.
  const std::string thin = "Will the supervisor restart the weather forecast tomorrow morning?";
  REQUIRE(extractive_answerer::weigh_evidence(thin, docs()).coverage < 0.42);
  REQUIRE(answerer.answer(thin, docs()).text == abstention);
  REQUIRE_FALSE(answerer.answer(thin, docs(), 128, 0.1).abstained);
  // Two thirds covered, but no sentence relates two of the question's terms.
  const std::string apart = "Is the supervisor's deadline configurable?";
  auto ev = extractive_answerer::weigh_evidence(apart, docs());
  REQUIRE(ev.question_terms == 3);  // supervisor, deadline, configurable: no "s"
  REQUIRE(ev.coverage == Approx(2.0 / 3.0));
  REQUIRE(ev.best_sentence_terms == 1);
  REQUIRE(answerer.answer(apart, docs()).text == abstention);
  REQUIRE_FALSE(answerer.answer(apart, docs(), 128, 0).abstained);
  // One term: nothing to relate.
  REQUIRE_FALSE(answerer.answer("Backoff?", docs()).abstained);
  // About the assistant: addressed to it, one term at most, even one the
  // documents hold ("restart"); with two terms it asks about the documents.
  for (const auto* q : {"Can you restart?", "What's your backoff?", "Who are you?"}) {
    INFO(q);
    REQUIRE(extractive_answerer::weigh_evidence(q, docs()).about_assistant);
    REQUIRE(answerer.answer(q, docs()).text == abstention);
  }
  REQUIRE_FALSE(extractive_answerer::weigh_evidence("Restart?", docs()).about_assistant);
  const std::string addressed = "Can you tell me how the supervisor restarts a crashed service?";
  REQUIRE_FALSE(extractive_answerer::weigh_evidence(addressed, docs()).about_assistant);
  REQUIRE_FALSE(answerer.answer(addressed, docs()).abstained);
  REQUIRE_FALSE(answerer.answer("What's your backoff?", docs(), 128, 0).abstained);
  // Fully covered but asking about a name the documents lack.
  auto named =
      answerer.answer("Does the supervisor restart a crashed service on Kubernetes?", docs());
  REQUIRE(named.text == abstention);
  REQUIRE(named.sources.empty());
  REQUIRE_FALSE(
      answerer
          .answer("Does the supervisor restart a crashed service on Kubernetes?", docs(), 128, 0)
          .abstained);
}

TEST_CASE("the answerer is deterministic", "[llm][answerer]") {
  extractive_answerer answerer;
  auto a = answerer.answer("supervisor crash deadline", docs());
  for (int i = 0; i < 5; ++i)
    REQUIRE(answerer.answer("supervisor crash deadline", docs()).text == a.text);
}

TEST_CASE("stream pieces are words with their trailing space", "[llm][answerer]") {
  REQUIRE(split_stream_pieces("One two  three [1]\n\nSources: x") ==
          std::vector<std::string>{"One ", "two  ", "three ", "[1]\n\n", "Sources: ", "x"});
  REQUIRE(split_stream_pieces("  lead") == std::vector<std::string>{"  ", "lead"});
  REQUIRE(split_stream_pieces("").empty());
  REQUIRE(opea::text::count_words(" a  b\nc ") == 3);
}

TEST_CASE("a sentence cut by a chunk's end is quoted whole, once", "[llm][answerer]") {
  extractive_answerer answerer;
  // Two overlapping chunks of one file: the first ends inside a sentence
  // that the second starts inside of.
  std::vector<context_document> chunks{
      {"The supervisor restarts crashed actors. When the retriever finds no documents, the "
       "align hooks prune the edge from the retriever to the reranker, so the language",
       "hooks.md"},
      {"align hooks prune the edge from the retriever to the reranker, so the language model "
       "answers from the question alone. Retries are counted.",
       "hooks.md"}};
  auto a = answerer.answer("What do the align hooks prune when the retriever finds nothing?",
                           chunks, 128, 0);
  REQUIRE_THAT(a.text, Catch::Contains("When the retriever finds no documents, the align hooks "
                                       "prune the edge from the retriever to the reranker, so "
                                       "the language model answers from the question alone. [1]"));
  REQUIRE_THAT(a.text, !Catch::Contains("so the language [1]"));
  // Quoted once.
  auto first = a.text.find("align hooks prune");
  REQUIRE(a.text.find("align hooks prune", first + 1) == std::string::npos);
  // Without the other chunk the pieces are marked as pieces.
  auto head = answerer.answer("What do the align hooks prune?", {chunks[0]}, 128, 0);
  REQUIRE_THAT(head.text, Catch::Contains("so the language... [1]"));
  auto tail = answerer.answer("What do the align hooks prune?", {chunks[1]}, 128, 0);
  REQUIRE_THAT(tail.text, Catch::StartsWith("...align hooks prune"));
}
