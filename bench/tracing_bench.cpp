// The cost of tracing on the hot path (issue 13 item 5): a sampled span
// started, given 4 attributes and ended into the batch processor (the export
// thread encodes and discards concurrently); an unsampled span (context
// propagation only); a disabled tracer's pass-through span; traceparent
// parse and format; and OTLP/HTTP JSON encoding of a 512-span batch, per
// span, by the hand-written encoder and, for comparison, by nlohmann::json.
//
// Usage: opea-bench-tracing [--benchmark_repetitions=5 ...]

#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "monitoring/tracing/otlp_json.hpp"
#include "monitoring/tracing/tracer.hpp"

namespace {

using namespace opea::monitoring;

tracing_settings settings(sampler s) {
  tracing_settings t;
  t.service_name = "bench";
  t.endpoint = "http://localhost:4318/v1/traces";
  t.trace_sampler = s;
  // Big enough that the producer never finds it full: this measures the
  // hand-over, not the drop path (the dropped counter says if it did).
  t.batch.max_queue_size = std::size_t{1} << 20;
  return t;
}

bool discard(const std::string& body, const std::string&) {
  benchmark::DoNotOptimize(body.data());
  return true;
}

void sampled_span_4_attributes(benchmark::State& state) {
  tracer t{settings(sampler{sampler::kind::always_on}), discard};
  auto parent = *span_context::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  std::size_t n = 0;
  for (auto _ : state) {
    auto s = t.start_span("llm", span_kind::client, parent);
    s.set_attribute("opea.service", "llm");
    s.set_attribute("http.response.status_code", 200);
    s.set_attribute("opea.score", 0.5);
    s.set_attribute("opea.streamed", true);
    s.end();
    // A tight loop ends spans faster than one export thread encodes them;
    // untimed, let it catch up every batch, so the backlog (and memory) stays
    // bounded as in a real process.
    if (++n % 512 == 0) {
      state.PauseTiming();
      t.force_flush(std::chrono::seconds{30});
      state.ResumeTiming();
    }
  }
  t.shutdown();
  state.counters["dropped"] = static_cast<double>(t.counters().dropped);
  state.counters["exported"] = static_cast<double>(t.counters().exported);
}

void unsampled_span(benchmark::State& state) {
  tracer t{settings(sampler{sampler::kind::always_off}), discard};
  auto parent = *span_context::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  for (auto _ : state) {
    auto s = t.start_span("llm", span_kind::client, parent);
    s.set_attribute("opea.service", "llm");
    benchmark::DoNotOptimize(s.context().span);
    s.end();
  }
}

void disabled_tracer_span(benchmark::State& state) {
  tracer t{tracing_settings{}, discard};
  auto parent = *span_context::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  for (auto _ : state) {
    auto s = t.start_span("llm", span_kind::client, parent);
    benchmark::DoNotOptimize(s.context().span);
  }
}

void traceparent_parse_format(benchmark::State& state) {
  const std::string header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  for (auto _ : state) {
    auto ctx = span_context::parse(header);
    auto out = ctx->traceparent();
    benchmark::DoNotOptimize(out.data());
  }
}

std::vector<span_data> batch_of_512() {
  auto resource = std::make_shared<span_resource>();
  resource->attributes.push_back({"service.name", std::string{"bench"}});
  resource->scope_version = "0.1.0";
  std::vector<span_data> spans(512);
  for (auto& s : spans) {
    s.name = "POST /v1/chatqna";
    s.kind = span_kind::server;
    s.context.trace = trace_id::random();
    s.context.span = span_id::random();
    s.context.flags = 1;
    s.parent = span_id::random();
    s.start_unix_nano = 1700000000000000000ULL;
    s.end_unix_nano = 1700000000250000000ULL;
    s.attributes.push_back({"opea.service", std::string{"llm"}});
    s.attributes.push_back({"http.response.status_code", std::int64_t{200}});
    s.attributes.push_back({"opea.score", 0.5});
    s.attributes.push_back({"opea.streamed", true});
    s.resource = resource;
  }
  return spans;
}

void otlp_json_512_spans(benchmark::State& state) {
  auto spans = batch_of_512();
  std::vector<const span_data*> batch;
  for (const auto& s : spans) batch.push_back(&s);
  std::string out;
  for (auto _ : state) {
    out.clear();
    append_otlp_json(out, batch);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 512);
  state.counters["bytes_per_span"] = static_cast<double>(out.size()) / 512;
}

/// The same document built with nlohmann::json: what the hand-written
/// encoder is measured against.
void otlp_json_512_spans_nlohmann(benchmark::State& state) {
  auto spans = batch_of_512();
  for (auto _ : state) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : spans) {
      nlohmann::json attrs = nlohmann::json::array();
      for (const auto& a : s.attributes) {
        nlohmann::json v;
        switch (a.value.index()) {
          case 0:
            v["stringValue"] = std::get<0>(a.value);
            break;
          case 1:
            v["intValue"] = std::to_string(std::get<1>(a.value));
            break;
          case 2:
            v["doubleValue"] = std::get<2>(a.value);
            break;
          default:
            v["boolValue"] = std::get<3>(a.value);
        }
        attrs.push_back({{"key", a.key}, {"value", std::move(v)}});
      }
      list.push_back({{"traceId", s.context.trace.hex()},
                      {"spanId", s.context.span.hex()},
                      {"parentSpanId", s.parent.hex()},
                      {"flags", 257},
                      {"name", s.name},
                      {"kind", static_cast<int>(s.kind)},
                      {"startTimeUnixNano", std::to_string(s.start_unix_nano)},
                      {"endTimeUnixNano", std::to_string(s.end_unix_nano)},
                      {"attributes", std::move(attrs)}});
    }
    nlohmann::json doc = {
        {"resourceSpans",
         {{{"resource",
            {{"attributes", {{{"key", "service.name"}, {"value", {{"stringValue", "bench"}}}}}}}},
           {"scopeSpans",
            {{{"scope", {{"name", "opea-cpp"}, {"version", "0.1.0"}}},
              {"spans", std::move(list)}}}}}}}};
    auto out = doc.dump();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 512);
}

}  // namespace

BENCHMARK(sampled_span_4_attributes)->Threads(1)->Threads(2);
BENCHMARK(unsampled_span)->Threads(1)->Threads(2);
BENCHMARK(disabled_tracer_span);
BENCHMARK(traceparent_parse_format);
BENCHMARK(otlp_json_512_spans);
BENCHMARK(otlp_json_512_spans_nlohmann);
BENCHMARK_MAIN();
