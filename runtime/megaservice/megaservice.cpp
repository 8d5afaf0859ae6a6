#include "runtime/megaservice/megaservice.hpp"

#include <atomic>
#include <future>

#include <caf/all.hpp>

#include "monitoring/log.hpp"
#include "runtime/errors.hpp"
#include "runtime/instrumented_actor.hpp"
#include "runtime/megaservice/flow_executor.hpp"
#include "runtime/megaservice/megaservice_actor.hpp"
#include "runtime/service/local_service_actor.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace opea::runtime {

std::string_view to_string(service_status x) {
  switch (x) {
    case service_status::running:
      return "running";
    case service_status::restarting:
      return "restarting";
    case service_status::failed:
      return "failed";
  }
  return "unknown";
}

status_board::status_board(const std::vector<std::string>& names) : entries_(names.size()) {
  for (size_t i = 0; i < names.size(); ++i) entries_[i].name = names[i];
}

struct megaservice::shared {
  megaservice_options options;
  std::shared_ptr<const dag> graph;
  std::vector<micro_service> specs;
  std::shared_ptr<status_board> board;
  monitoring::megaservice_instruments instruments;
  caf::actor_system* system = nullptr;
  /// The megaservice's actor (proxies, executors).
  caf::actor actor;
  /// The children of the services' supervisor: one per local service.
  std::vector<child_spec> children;
  /// The services' supervisor when the megaservice started it itself.
  supervisor_handle services;
  /// The series of the services' supervisor (every instance).
  monitoring::actor_instruments_ptr supervisor_actors;
  std::shared_ptr<flow_env_slot> env_slot = std::make_shared<flow_env_slot>();
  /// The orchestrator's align_generator hook (empty: none).
  decltype(align_hooks::generator) generator;
  /// Set by stop(): new requests are refused at once.
  std::atomic<bool> stopped{false};
};

megaservice::megaservice(caf::actor_system& sys, const service_orchestrator& orchestrator,
                         megaservice_options options, monitoring::metrics_registry& metrics)
    : shared_(std::make_shared<shared>()) {
  auto& sh = *shared_;
  sh.options = std::move(options);
  sh.graph = orchestrator.compile();
  sh.specs = orchestrator.services();
  sh.board = std::make_shared<status_board>(sh.graph->names);
  sh.instruments = monitoring::megaservice_instruments{metrics, sh.options.name};
  for (const auto& s : sh.specs)
    if (s.local() && !s.in_process() && !(s.adapter && s.adapter->start))
      throw std::invalid_argument("service '" + s.name +
                                  "': no handler, actor body, adapter (e.g. "
                                  "http::remote_service) or cluster placement");
  megaservice_actor_config cfg;
  cfg.name = sh.options.name;
  cfg.graph = sh.graph;
  cfg.specs = sh.specs;
  cfg.hooks = orchestrator.hooks();
  sh.generator = orchestrator.hooks().generator;
  for (auto& s : sh.specs) cfg.instruments.emplace_back(metrics, sh.options.name, s.name);
  for (size_t i = 0; i < sh.specs.size(); ++i) {
    const auto& s = sh.specs[i];
    auto& ins = cfg.instruments[i];
    if (s.retry.attempts > 1) ins.retries = &metrics.service_retries.Add(ins.labels);
    if (s.breaker) ins.circuit_state = &metrics.service_circuit_state.Add(ins.labels);
    if (s.bulkhead) {
      ins.bulkhead_in_flight = &metrics.service_bulkhead_in_flight.Add(ins.labels);
      ins.bulkhead_queued = &metrics.service_bulkhead_queued.Add(ins.labels);
    }
    service_proxy_options p;
    p.service = s.name;
    p.idempotent = s.idempotent;
    p.breaker = s.breaker;
    p.bulkhead = s.bulkhead;
    p.retry = s.retry;
    p.instruments = ins;
    p.tracer = sh.options.tracer;
    p.megaservice = sh.options.name;
    p.upstream = s.local() && !s.in_process();  // an adapter
    if (s.cluster) {
      p.distributed = true;
      p.directory = s.cluster->directory;
      p.choice = s.cluster->choice;
      p.cluster = s.cluster->series;
    }
    if (auto err = validate(p))
      throw std::invalid_argument("service '" + s.name + "': " + subject_of(err) + ": " +
                                  detail_of(err));
    cfg.proxies.push_back(std::move(p));
    cfg.proxy_actors.push_back(
        monitoring::make_actor_instruments(&metrics, {"proxy", sh.options.name, s.name}));
  }
  cfg.board = sh.board;
  cfg.env_slot = sh.env_slot;
  cfg.executors = sh.options.flow_executors;
  cfg.executor_actors = monitoring::make_actor_instruments(
      &metrics, {"flow_executor", sh.options.name, ""},
      static_cast<uint32_t>(
          cfg.executors != 0 ? cfg.executors : std::max<size_t>(1, sys.scheduler().num_workers())));
  auto flags = supervisor_flags::validated(sh.options.supervision);
  if (!flags)
    throw std::invalid_argument("megaservice '" + sh.options.name + "': supervision." +
                                subject_of(flags.error()) + ": " + detail_of(flags.error()));
  sh.options.supervision = *flags;
  // One child per local service, in graph order (a service on cluster
  // members has no actor here, only its proxy).
  for (const auto& s : sh.specs) {
    if (!s.local()) continue;
    child_spec c;
    c.id = s.name;
    c.restart = s.restart_mode;
    c.limit = s.restart;
    auto ins = monitoring::make_actor_instruments(&metrics, {s.name, sh.options.name, s.name});
    if (s.handler)
      c.start = [name = s.name, handler = s.handler, ins](caf::local_actor& sup) {
        return caf::actor_cast<caf::actor>(
            spawn_instrumented(sup, ins, local_service_actor, name, handler));
      };
    else if (s.body)
      c.start = [name = s.name, body = s.body, ins](caf::local_actor& sup) {
        return spawn_instrumented(sup, ins, guarded_service_actor, name, body);
      };
    else
      c.start = [start = s.adapter->start, ins](caf::local_actor& sup) { return start(sup, ins); };
    sh.children.push_back(std::move(c));
  }
  if (auto ok = check_child_specs(sh.options.name, sh.children); !ok)
    throw std::invalid_argument("megaservice '" + sh.options.name + "': " + describe(ok.error()));
  sh.system = &sys;
  sh.actor = spawn_instrumented(
      sys, monitoring::make_actor_instruments(&metrics, {"megaservice", sh.options.name, ""}),
      megaservice_actor, std::move(cfg));
  sh.supervisor_actors = monitoring::make_actor_instruments(
      &metrics, {"supervisor:" + sh.options.name, sh.options.name, ""});
  if (!sh.options.supervised) {
    auto services = spawn_supervisor(sys, sh.options.name, sh.options.supervision, sh.children,
                                     sh.supervisor_actors);
    if (!services) {
      caf::anon_send_exit(sh.actor, caf::exit_reason::user_shutdown);
      throw std::invalid_argument("megaservice '" + sh.options.name + "': " +
                                  describe(services.error()));
    }
    sh.services = *services;
    caf::anon_send(sh.actor, services_atom::value, sh.services, caf::actor{});
  }
}

caf::expected<child_spec> megaservice::child() const {
  const auto& sh = *shared_;
  if (!sh.options.supervised)
    return make_error(errc::bad_request, sh.options.name,
                      "the megaservice supervises its services itself (options.supervised is "
                      "false)");
  child_spec c;
  c.id = sh.options.name;
  c.restart = restart_type::permanent;
  c.shutdown.timeout = shutdown_spec::infinity;
  c.start = [name = sh.options.name, flags = sh.options.supervision, children = sh.children,
             actor = sh.actor, ins = sh.supervisor_actors](caf::local_actor& parent) -> caf::actor {
    auto services = spawn_supervisor(parent.system(), name, flags, children, ins);
    if (!services) return {};
    caf::anon_send(actor, services_atom::value, *services,
                   caf::actor_cast<caf::actor>(&parent));
    return caf::actor_cast<caf::actor>(*services);
  };
  return c;
}

megaservice::~megaservice() {
  stop();
}

void megaservice::stop() {
  if (!shared_) return;
  shared_->stopped = true;
  // The flows and proxies first (requests in progress are answered), then
  // the services (stopped by their supervisor in reverse start order).
  if (shared_->actor) caf::anon_send_exit(shared_->actor, caf::exit_reason::user_shutdown);
  if (shared_->services) caf::anon_send_exit(shared_->services, caf::exit_reason::user_shutdown);
}

const std::string& megaservice::name() const {
  return shared_->options.name;
}

const megaservice_options& megaservice::options() const {
  return shared_->options;
}

caf::actor megaservice::actor() const {
  return shared_->actor;
}

namespace {

/// The proxy of service `i` once the megaservice's actor published its
/// proxies; null before.
service_proxy_actor published_proxy(const megaservice::shared& sh, size_t i) {
  auto env = sh.env_slot->load();
  if (!env || i >= env->proxies.size()) return {};
  return env->proxies[i];
}

}  // namespace

service_actor megaservice::proxy(const std::string& name) const {
  auto i = shared_->graph->index_of(name);
  if (!i) return {};
  return service_actor{published_proxy(*shared_, *i)};
}

const status_board& megaservice::status() const {
  return *shared_->board;
}

namespace {

void schedule_on(const std::shared_ptr<megaservice::shared>& sh, json input, request_context ctx,
                 std::function<void(caf::expected<flow_result>)> done);

}  // namespace

void megaservice::async_schedule(json input, request_context ctx,
                                 std::function<void(caf::expected<flow_result>)> done) const {
  schedule_on(shared_, std::move(input), std::move(ctx), std::move(done));
}

flow_runner megaservice::runner() const {
  return [sh = shared_](json input, request_context ctx,
                        std::function<void(caf::expected<flow_result>)> done) {
    schedule_on(sh, std::move(input), std::move(ctx), std::move(done));
  };
}

bool megaservice::has_service(const std::string& name) const {
  return shared_->graph->index_of(name).has_value();
}

namespace {

void call_on(const std::shared_ptr<megaservice::shared>& shp, const std::string& service,
             json input, request_context ctx, std::function<void(caf::expected<json_ptr>)> done) {
  auto& sh = *shp;
  auto index = sh.graph->index_of(service);
  if (!index) {
    done(make_error(errc::bad_request, service,
                    "megaservice '" + sh.options.name + "' has no such service"));
    return;
  }
  if (sh.stopped) {
    done(make_error(errc::service_unavailable, service,
                    "megaservice '" + sh.options.name + "' was stopped"));
    return;
  }
  if (ctx.deadline == clock_type::time_point::max())
    ctx.deadline = sh.system->clock().now() + sh.options.deadline;
  if (ctx.request_id.empty()) ctx.request_id = make_request_id();
  if (ctx.traceparent.empty()) ctx.traceparent = make_traceparent();
  if (!ctx.cancel) ctx.cancel = std::make_shared<cancellation>();
  auto in = std::make_shared<const json>(std::move(input));
  auto cx = std::make_shared<const request_context>(std::move(ctx));
  // The proxy answers through the callback (no actor per call, one message
  // less than a request); a call that never reaches a live proxy is
  // answered when the callback is dropped.
  auto callback = std::make_shared<const call_answer>(service, std::move(done), cx);
  // The proxy once the megaservice's actor published it; before that, the
  // actor passes the call on (it handles messages only after spawning its
  // proxies).
  if (auto proxy = published_proxy(sh, *index))
    caf::anon_send(proxy, call_back_atom::value, std::move(in), std::move(cx), std::move(callback));
  else
    caf::anon_send(sh.actor, call_back_atom::value, service, std::move(in), std::move(cx),
                   std::move(callback));
}

}  // namespace

void megaservice::async_call(const std::string& service, json input, request_context ctx,
                             std::function<void(caf::expected<json_ptr>)> done) const {
  call_on(shared_, service, std::move(input), std::move(ctx), std::move(done));
}

service_call megaservice::caller(std::string service) const {
  return [sh = shared_, service = std::move(service)](
             json input, std::function<void(caf::expected<json_ptr>)> done) {
    call_on(sh, service, std::move(input), {}, std::move(done));
  };
}

namespace {

/// A sink that hands pieces on to the route's sink (or another wrapper): a
/// client leaving (the inner sink cancelled) cancels this sink too, so
/// producers see it.
class forwarding_sink : public stream_sink {
 public:
  explicit forwarding_sink(stream_sink_ptr inner) : inner_(std::move(inner)) {}

  /// `self`, made to follow its inner sink's cancellation.
  template <class Sink>
  static std::shared_ptr<Sink> follow(std::shared_ptr<Sink> self) {
    std::weak_ptr<Sink> weak = self;
    self->inner_->on_cancel([weak] {
      if (auto s = weak.lock()) s->cancel();
    });
    return self;
  }

 protected:
  stream_sink_ptr inner_;
};

/// Applies the align_generator hook to every streamed piece before it reaches
/// the route's sink. The hook runs on the producer's thread (the streaming
/// service's), in the producer's order; an empty result drops the piece.
/// Holds the request context weakly: the context owns this sink.
class aligning_sink final : public forwarding_sink {
 public:
  aligning_sink(stream_sink_ptr inner, decltype(align_hooks::generator) generator)
      : forwarding_sink(std::move(inner)), generator_(std::move(generator)) {}

  void bind(const std::shared_ptr<const request_context>& ctx) { ctx_ = ctx; }

  void write(std::string piece) override {
    if (cancelled()) return;
    auto ctx = ctx_.lock();
    if (!ctx) return;  // the flow is over
    auto out = generator_(std::move(piece), *ctx);
    if (!out.empty()) inner_->write(std::move(out));
  }

 private:
  decltype(align_hooks::generator) generator_;
  std::weak_ptr<const request_context> ctx_;
};

/// Observes OPEA's token latencies on the pieces handed to the route's sink:
/// the first from the request's acceptance, each next one from the one
/// before. Thread-safe (the producers of one stream write in turn, but
/// nothing here relies on it).
class timing_sink final : public forwarding_sink {
 public:
  timing_sink(stream_sink_ptr inner, clock_type::time_point started,
              const monitoring::megaservice_instruments& ins)
      : forwarding_sink(std::move(inner)),
        started_(started.time_since_epoch().count()),
        first_(ins.first_token),
        inter_(ins.inter_token),
        stats_(ins.stats) {}

  void write(std::string piece) override {
    if (cancelled()) return;
    auto now = clock_type::now().time_since_epoch().count();
    auto prev = last_.exchange(now);
    auto* histogram = prev == 0 ? first_ : inter_;
    auto seconds =
        std::chrono::duration<double>(clock_type::duration{now - (prev == 0 ? started_ : prev)})
            .count();
    if (histogram != nullptr) histogram->Observe(seconds);
    if (prev == 0 && stats_ != nullptr) stats_->record_first_token(seconds);
    inner_->write(std::move(piece));
  }

 private:
  const clock_type::rep started_;
  std::atomic<clock_type::rep> last_{0};
  prometheus::Histogram* first_;
  prometheus::Histogram* inter_;
  std::shared_ptr<monitoring::latency_statistics> stats_;
};

void schedule_on(const std::shared_ptr<megaservice::shared>& sh, json input, request_context ctx,
                 std::function<void(caf::expected<flow_result>)> done) {
  if (sh->stopped) {
    sh->instruments.count_request(503);
    sh->instruments.count_rejection("service_unavailable");
    done(make_error(errc::service_unavailable, sh->options.name, "the megaservice was stopped"));
    return;
  }
  // Every flow is cancellable: by the route's own cancellation (its client
  // left), else by the stream's reader leaving; the executor trips it when
  // the flow fails, so calls still in flight for it stop.
  auto cancel = std::make_shared<cancellation>();
  if (ctx.cancel) ctx.cancel->on_cancel([cancel] { cancel->cancel(); });
  if (ctx.sink) ctx.sink->on_cancel([cancel] { cancel->cancel(); });
  ctx.cancel = std::move(cancel);
  auto started = clock_type::now();
  // The pieces the client gets are timed: the timing sink sits under the
  // generator hook, which may drop pieces.
  if (ctx.sink)
    ctx.sink = forwarding_sink::follow(
        std::make_shared<timing_sink>(std::move(ctx.sink), started, sh->instruments));
  std::shared_ptr<aligning_sink> aligner;
  if (sh->generator && ctx.sink) {
    aligner = forwarding_sink::follow(std::make_shared<aligning_sink>(ctx.sink, sh->generator));
    ctx.sink = aligner;
  }
  // Deadlines follow the actor system's clock: real time, or a test's
  // deterministic one (caf::scheduler::test_coordinator).
  if (ctx.deadline == clock_type::time_point::max())
    ctx.deadline = sh->system->clock().now() + sh->options.deadline;
  if (ctx.request_id.empty()) ctx.request_id = make_request_id();
  if (ctx.traceparent.empty()) ctx.traceparent = make_traceparent();
  auto job = std::make_shared<flow_job>();
  job->megaservice = sh->options.name;
  job->input = std::make_shared<const json>(std::move(input));
  job->ctx = std::make_shared<const request_context>(std::move(ctx));
  if (aligner) aligner->bind(job->ctx);
  sh->instruments.pending->Increment();
  job->done = [sh, started, ctx = job->ctx,
               done = std::move(done)](caf::expected<flow_result> res) {
    const auto& ins = sh->instruments;
    ins.pending->Decrement();
    auto status = res ? 200 : http_status_of(res.error());
    // A request whose client left got no answer: counted (499), not timed.
    if (res || code_of(res.error()) != errc::cancelled) {
      auto seconds = std::chrono::duration<double>(clock_type::now() - started).count();
      ins.duration->Observe(seconds);
      if (ins.stats != nullptr) ins.stats->record(seconds);
    }
    ins.count_request(status);
    if (!res) {
      if (code_of(res.error()) == errc::deadline_exceeded) ins.count_rejection("deadline_exceeded");
      if (code_of(res.error()) == errc::service_unavailable)
        ins.count_rejection("service_unavailable");
    }
    // After the metrics: a reader of this line (integration tests wait for
    // it) sees the request counted and no longer pending.
    monitoring::log(monitoring::log_component::megaservice)
        .debug("megaservice '{}': request done: {} request_id={} trace_id={}", sh->options.name,
               status, ctx->request_id, monitoring::trace_id_of(ctx->traceparent));
    done(std::move(res));
  };
  // Pick the executor here, on the caller's thread: one message less per
  // request and no single mailbox that every request goes through. Until the
  // supervisor published its first environment, it picks one itself.
  if (auto env = sh->env_slot->load()) {
    auto target = env->next_executor();
    caf::anon_send(target, run_atom::value, std::move(env), std::move(job));
  } else
    caf::anon_send(sh->actor, run_atom::value, std::move(job));
}

}  // namespace

caf::expected<flow_result> megaservice::schedule(json input, request_context ctx) const {
  auto promise = std::make_shared<std::promise<caf::expected<flow_result>>>();
  auto future = promise->get_future();
  async_schedule(std::move(input), std::move(ctx),
                 [promise](caf::expected<flow_result> res) { promise->set_value(std::move(res)); });
  return future.get();
}

json megaservice::describe_services() const {
  const auto& sh = *shared_;
  json services = json::object();
  for (size_t i = 0; i < sh.specs.size(); ++i) {
    const auto& s = sh.specs[i];
    json entry = {
        {"name", s.name},
        {"service_type", std::string{to_string(s.type)}},
        {"kind", !s.local()       ? std::string{"cluster"}
                 : s.in_process() ? std::string{"in-process"}
                                  : s.adapter->kind},
        {"status", std::string{to_string(sh.board->status(i))}},
        {"restarts", sh.board->restarts(i)},
    };
    if (s.local() && !s.in_process()) entry["endpoint"] = s.endpoint_url();
    json successors = json::array();
    for (auto j : sh.graph->successors[i]) successors.push_back(sh.graph->names[j]);
    entry["flows_to"] = std::move(successors);
    services[s.name] = std::move(entry);
  }
  return services;
}

}  // namespace opea::runtime
