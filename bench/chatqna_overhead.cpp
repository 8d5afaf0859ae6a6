// Orchestration overhead of ChatQnA: the same question answered (a) through a
// megaservice (supervisor, flow actor, ChatQnA align hooks) and (b) by calling
// the four service actors directly in sequence from C++, with the same data
// conversions done by hand. Built-in services, the bundled corpus; one request
// in flight; the two paths alternate in rounds so drift hits both equally.
//
//   opea-bench-chatqna-overhead [--requests N] [--rounds R]   (default 2000, 5)
//
// Prints p50/p99 per path and the overhead of (a) over (b) at p50.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/builtins.hpp"
#include "actors/dataprep/dataprep_service.hpp"
#include "actors/retriever/store_registry.hpp"
#include "monitoring/metrics_registry.hpp"
#include "nodes/chatqna/chatqna_service.hpp"
#include "nodes/config/node_config.hpp"
#include "nodes/dataprep/dataprep_setup.hpp"
#include "runtime/errors.hpp"
#include "runtime/megaservice/megaservice.hpp"
#include "runtime/service/local_service_actor.hpp"

using namespace opea;
using runtime::json;
using clock_type = std::chrono::steady_clock;

namespace {

double percentile(std::vector<double> xs, double p) {
  std::sort(xs.begin(), xs.end());
  return xs[std::min(xs.size() - 1, static_cast<size_t>(p * static_cast<double>(xs.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  size_t requests = 2000;
  size_t rounds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--requests") requests = std::stoul(argv[i + 1]);
    if (a == "--rounds") rounds = std::stoul(argv[i + 1]);
  }
  std::string tmpl = (std::filesystem::temp_directory_path() / "opea-overhead-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return 1;
  std::string src = OPEA_SOURCE_DIR;
  // The example ChatQnA configuration as users start it; the stores live in
  // this run's own directory, and the corpus is ingested below.
  auto cfg = nodes::load_node_config(src + "/examples/chatqna/chatqna.yaml");
  auto stores = std::make_shared<actors::store_registry>(tmpl);
  runtime::service_catalog catalog;
  actors::register_builtins(catalog, nullptr, stores);
  // Ingest the corpus.
  auto parts = nodes::resolve_dataprep(cfg, nullptr, *stores);
  actors::dataprep_service dataprep{parts.store, parts.embedder};
  std::vector<actors::source_document> docs;
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(src + "/examples/chatqna/corpus"))
    paths.push_back(e.path().string());
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) docs.push_back(dataprep.from_link(p).value());
  std::promise<caf::expected<json>> ingested;
  dataprep.ingest(std::move(docs), {},
                  [&](caf::expected<json> r) { ingested.set_value(std::move(r)); });
  if (!ingested.get_future().get()) return 1;

  caf::actor_system_config sys_cfg;
  sys_cfg.set("scheduler.max-threads", 2);
  sys_cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{sys_cfg};
  monitoring::metrics_registry metrics{"bench"};

  std::vector<runtime::micro_service> svcs;
  for (auto name : {"embedding", "retriever", "rerank", "llm"}) {
    const auto* sc = cfg.find_service(name);
    svcs.push_back(catalog.instantiate(name, sc->builtin, sc->params).value());
  }
  runtime::service_orchestrator orch;
  for (auto& s : svcs) orch.add(s);
  orch.flow_to("embedding", "retriever").flow_to("retriever", "rerank");
  orch.flow_to("rerank", "llm").flow_to("retriever", "llm");
  nodes::set_chatqna_hooks(orch);
  runtime::megaservice mega{sys, orch, {"chatqna"}, metrics};

  // The same four services as bare actors, called in sequence.
  std::vector<caf::actor> direct;
  for (auto& s : svcs) direct.push_back(sys.spawn(runtime::guarded_service_actor, s.name, s.body));

  const std::string question = "How does the supervisor restart a crashed service?";
  auto params = std::make_shared<const json>(json{
      {"llm", {{"stream", false}}}, {"retriever", json::object()}, {"reranker", json::object()}});

  auto via_megaservice = [&] {
    runtime::request_context ctx;
    ctx.params = params;
    auto res = mega.schedule({{"text", question}}, ctx);
    if (!res) std::abort();
  };
  caf::scoped_actor self{sys};
  auto via_direct = [&] {
    auto ctx = std::make_shared<runtime::request_context>();
    ctx->request_id = runtime::make_request_id();
    ctx->params = params;
    runtime::request_context_ptr c = ctx;
    runtime::json_ptr doc = std::make_shared<const json>(json{{"text", question}});
    auto call = [&](size_t i, runtime::json_ptr in) {
      runtime::json_ptr out;
      self->request(direct[i], caf::infinite, runtime::invoke_atom::value, in, c)
          .receive([&](runtime::json_ptr& r) { out = std::move(r); },
                   [&](caf::error&) { std::abort(); });
      return out;
    };
    auto emb = call(0, doc);
    auto ret = call(1, emb);
    auto rr = call(2, ret);
    json llm_in = *rr;  // the hook's work for the LLM: add the request's LLM params
    llm_in["stream"] = false;
    auto out = call(3, std::make_shared<const json>(std::move(llm_in)));
    if (!out->contains("text")) std::abort();
  };

  std::vector<double> mega_us;
  std::vector<double> direct_us;
  for (size_t i = 0; i < 200; ++i) {  // warm-up
    via_megaservice();
    via_direct();
  }
  for (size_t r = 0; r < rounds; ++r) {
    for (auto* f : {&mega_us, &direct_us}) {
      for (size_t i = 0; i < requests / rounds; ++i) {
        auto t0 = clock_type::now();
        if (f == &mega_us)
          via_megaservice();
        else
          via_direct();
        f->push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
      }
    }
  }
  auto m50 = percentile(mega_us, 0.5);
  auto d50 = percentile(direct_us, 0.5);
  std::printf("megaservice: p50 %.1f us, p99 %.1f us (%zu requests)\n", m50,
              percentile(mega_us, 0.99), mega_us.size());
  std::printf("direct:      p50 %.1f us, p99 %.1f us (%zu requests)\n", d50,
              percentile(direct_us, 0.99), direct_us.size());
  std::printf("overhead at p50: %.1f us = %.1f %% (target < 5 %%)\n", m50 - d50,
              100.0 * (m50 - d50) / d50);
  for (auto& a : direct) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  mega.stop();
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
  return 0;
}
