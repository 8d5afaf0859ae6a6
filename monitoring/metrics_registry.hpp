#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "monitoring/latency_statistics.hpp"

namespace opea::monitoring {

/// The metrics of one process (or one test): a prometheus-cpp registry plus
/// the families opea-cpp exports. It is an object passed by reference, never a
/// global, so tests build an isolated one and assert exact values.
///
/// Thread-safe: prometheus-cpp guards family creation and `Add` with its own
/// mutexes; counters and gauges are atomics. Families are created once, in the
/// constructor, so the hot path never takes the registry lock.
///
/// Names follow `opea_<component>_<what>_<unit>`, except OPEA's own
/// megaservice names (`megaservice_request_latency`, `..._pending`,
/// `megaservice_first_token_latency`, `megaservice_inter_token_latency`), kept
/// as OPEA's Python megaservice exports them so that its dashboards work;
/// every series carries the constant label `node`. Labels are bounded: service and megaservice
/// names come from configuration, `code`/`reason` from small fixed sets.
class metrics_registry {
  // Declared first: the families below are built from them.
  std::string node_;
  std::shared_ptr<prometheus::Registry> registry_;

 public:
  /// `node` becomes a constant label on every series. Default: "local".
  explicit metrics_registry(std::string node = "local");

  metrics_registry(const metrics_registry&) = delete;
  metrics_registry& operator=(const metrics_registry&) = delete;

  /// The underlying registry, e.g. to register it with an exposer.
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  /// All series in Prometheus text exposition format 0.0.4.
  std::string serialize() const;

  const std::string& node() const { return node_; }

  /// opea-cpp's version (CMake's project version), as in opea_build_info.
  static const char* version();

  /// Buckets of every latency histogram, in seconds: 100 us .. 30 s.
  static const prometheus::Histogram::BucketBoundaries& latency_buckets();

  // -- service instruments (label set: megaservice, service) -----------------
  /// opea_service_requests_total: calls dispatched to a service (each retry
  /// counts; a send that reached an actor already down and went to its
  /// restarted successor counts once).
  prometheus::Family<prometheus::Counter>& service_requests;
  /// opea_service_errors_total: failed calls, by `reason` (an errc name).
  prometheus::Family<prometheus::Counter>& service_errors;
  /// opea_service_request_duration_seconds: time from dispatch to reply.
  prometheus::Family<prometheus::Histogram>& service_duration;
  /// opea_service_restarts_total: restarts of a service actor by its supervisor.
  prometheus::Family<prometheus::Counter>& service_restarts;
  /// opea_service_up: 1 while the service actor is running, 0 once it failed
  /// for good (restart intensity exceeded).
  prometheus::Family<prometheus::Gauge>& service_up;
  /// opea_service_circuit_state: a service's circuit breaker, 0 closed, 1
  /// open, 2 half-open (only services with a breaker configured).
  prometheus::Family<prometheus::Gauge>& service_circuit_state;
  /// opea_service_retries_total: calls sent again after a failure (only
  /// services with a retry policy).
  prometheus::Family<prometheus::Counter>& service_retries;
  /// opea_service_bulkhead_in_flight: calls holding a slot of a service's
  /// bulkhead (only services with a bulkhead).
  prometheus::Family<prometheus::Gauge>& service_bulkhead_in_flight;
  /// opea_service_bulkhead_queued: calls waiting for a slot of it.
  prometheus::Family<prometheus::Gauge>& service_bulkhead_queued;
  /// opea_service_late_replies_total: replies that arrived after their call
  /// had already been answered (deadline passed, call cancelled): dropped.
  prometheus::Family<prometheus::Counter>& service_late_replies;

  // -- megaservice instruments (label set: megaservice) ----------------------
  /// opea_megaservice_requests_total: finished requests, by HTTP-like `code`.
  prometheus::Family<prometheus::Counter>& megaservice_requests;
  /// megaservice_request_latency (OPEA's name, seconds): whole request/reply
  /// latency of every answered request, JSON or streamed, errors included; a
  /// request whose client left (499) is not observed.
  prometheus::Family<prometheus::Histogram>& megaservice_duration;
  /// megaservice_request_pending (OPEA's name): requests accepted and not yet
  /// finished (answered, failed or cancelled).
  prometheus::Family<prometheus::Gauge>& megaservice_pending;
  /// megaservice_first_token_latency (OPEA's name, seconds): from a streamed
  /// request's acceptance to its first piece handed to the client.
  prometheus::Family<prometheus::Histogram>& megaservice_first_token;
  /// megaservice_inter_token_latency (OPEA's name, seconds): between two
  /// consecutive pieces of a streamed answer.
  prometheus::Family<prometheus::Histogram>& megaservice_inter_token;
  /// opea_megaservice_rejections_total: requests refused or cut short, by
  /// `reason` (deadline_exceeded, service_unavailable, ...).
  prometheus::Family<prometheus::Counter>& megaservice_rejections;

  // -- gateway instruments ---------------------------------------------------
  /// opea_http_requests_total: HTTP responses by `route` (configured route or
  /// "other") and `code`.
  prometheus::Family<prometheus::Counter>& http_requests;
  /// opea_http_request_duration_seconds: by `route`.
  prometheus::Family<prometheus::Histogram>& http_duration;

  // -- cluster instruments ---------------------------------------------------
  /// opea_cluster_member_up: 1 while a member (`member` label) is linked to
  /// this node, 0 while it is not; this node's own series is 1.
  prometheus::Family<prometheus::Gauge>& cluster_member_up;
  /// opea_cluster_replicas: live replicas a service proxy can call, by `service`.
  prometheus::Family<prometheus::Gauge>& cluster_replicas;
  /// opea_cluster_retries_total: calls resent to another replica after the
  /// member running them was lost, by `service`.
  prometheus::Family<prometheus::Counter>& cluster_retries;
  /// opea_cluster_node_down_errors_total: calls that failed with node_down
  /// (the member was lost and the call could not be retried), by `service`.
  prometheus::Family<prometheus::Counter>& cluster_node_down;

  /// opea_cluster_link_transitions_total: a member's link to this node came
  /// up or went down, by `member` and `state` ("up", "down").
  prometheus::Family<prometheus::Counter>& cluster_link_transitions;
  /// opea_cluster_members: members this node knows, by `state` ("up": linked,
  /// "down": lost and not yet back; this node counts as up).
  prometheus::Family<prometheus::Gauge>& cluster_members;
  /// opea_cluster_remote_call_duration_seconds: one send of a call to a
  /// service distributed over the cluster (through a member's endpoint, this
  /// one's included), from dispatch to its reply or error, by `service`.
  prometheus::Family<prometheus::Histogram>& cluster_remote_call_duration;

  // -- actors (runtime/instrumented_actor.hpp; label set: actor, and
  //    megaservice and service where the actor belongs to one) ---------------
  /// opea_actor_messages_total: messages an actor handled (requests, replies,
  /// system messages; a message an actor skips and handles later counts once).
  prometheus::Family<prometheus::Counter>& actor_messages;
  /// opea_actor_message_handling_seconds: time an actor spent in one message
  /// (the synchronous part: a handler that answers later through a promise
  /// is done when it returns).
  prometheus::Family<prometheus::Histogram>& actor_handling;
  /// opea_actor_mailbox_depth: messages waiting in the actor's mailbox (all
  /// instances sharing the name, e.g. a pool of flow executors, summed).
  prometheus::Family<prometheus::Gauge>& actor_mailbox;
  /// opea_actor_restarts_total: instances started to replace one that exited.
  prometheus::Family<prometheus::Counter>& actor_restarts;
  /// opea_actor_failures_total: instances that exited abnormally, by `reason`
  /// (CAF's exit reason or error code name, e.g. "runtime_error" for an
  /// exception that escaped a handler, "kill"; opea-cpp's errc names).
  prometheus::Family<prometheus::Counter>& actor_failures;

  /// Buckets of the actor handling-time histogram, in seconds: 1 us .. 10 s.
  static const prometheus::Histogram::BucketBoundaries& handling_buckets();

  // -- tracing (the node's tracer, monitoring/tracing) ------------------------
  /// opea_tracing_spans_exported_total / _dropped_total (queue full, or ended
  /// after shutdown) / opea_tracing_export_failures_total (export requests
  /// the collector did not accept).
  prometheus::Family<prometheus::Counter>& tracing_exported;
  prometheus::Family<prometheus::Counter>& tracing_dropped;
  prometheus::Family<prometheus::Counter>& tracing_failures;

  // -- process ----------------------------------------------------------------
  /// opea_build_info: 1, with the `version` label.
  prometheus::Family<prometheus::Gauge>& build_info;
  /// process_start_time_seconds: when this registry (the node) started, in
  /// Unix seconds (Prometheus' standard name: uptime is
  /// `time() - process_start_time_seconds`).
  prometheus::Family<prometheus::Gauge>& start_time;

  // -- data ------------------------------------------------------------------
  /// opea_dataprep_documents_total / opea_dataprep_chunks_total: documents
  /// and chunks ingested into an `index` (uploads and the corpus at start).
  prometheus::Family<prometheus::Counter>& dataprep_documents;
  prometheus::Family<prometheus::Counter>& dataprep_chunks;
  /// opea_index_chunks / opea_index_sources: chunks and sources (files) an
  /// `index` holds, read from the store when /metrics is scraped.
  prometheus::Family<prometheus::Gauge>& index_chunks;
  prometheus::Family<prometheus::Gauge>& index_sources;
  /// opea_index_search_duration_seconds: one retriever search of an `index`
  /// (vector, lexical and their fusion), by `index`.
  prometheus::Family<prometheus::Histogram>& index_search_duration;

  /// Runs `refresh` before every `serialize`: it sets gauges whose value is
  /// read from elsewhere (a store's size). Register before serving.
  void on_collect(std::function<void()> refresh);

  // -- OPEA's /v1/statistics -------------------------------------------------
  /// The latency statistics named `name` (a megaservice, or
  /// "<megaservice>/<service>"), created on first use: instruments resolve
  /// theirs once, so the hot path never takes this lock.
  latency_statistics& statistics(const std::string& name);
  /// The same, shared: instruments keep theirs alive for actors that
  /// outlive the registry.
  std::shared_ptr<latency_statistics> statistics_ptr(const std::string& name);
  /// Every statistics series, by name (sorted).
  std::vector<std::pair<std::string, const latency_statistics*>> all_statistics() const;

 private:
  /// Guards the statistics map and the refreshers.
  mutable std::mutex extras_mutex_;
  std::vector<std::function<void()>> refreshers_;
  std::map<std::string, std::shared_ptr<latency_statistics>> statistics_;
};

/// The instruments of one service inside one megaservice, resolved once so
/// the hot path only touches atomics. Cheap to copy (pointers into the registry).
struct service_instruments {
  service_instruments() = default;
  service_instruments(metrics_registry& reg, const std::string& megaservice,
                      const std::string& service);

  /// Counts one failure with the given reason (takes the family lock once per
  /// new reason; reasons are a small fixed set).
  void count_error(const std::string& reason) const;

  prometheus::Counter* requests = nullptr;
  prometheus::Histogram* duration = nullptr;
  prometheus::Counter* restarts = nullptr;
  /// Null unless the service has a retry policy (the megaservice sets it).
  prometheus::Counter* retries = nullptr;
  /// Null unless the service has a circuit breaker (the megaservice sets it):
  /// 0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled.
  prometheus::Gauge* circuit_state = nullptr;
  /// Null unless the service has a bulkhead (the megaservice sets them).
  prometheus::Gauge* bulkhead_in_flight = nullptr;
  prometheus::Gauge* bulkhead_queued = nullptr;
  prometheus::Counter* late_replies = nullptr;
  prometheus::Gauge* up = nullptr;
  prometheus::Family<prometheus::Counter>* errors = nullptr;
  /// "<megaservice>/<service>" in /v1/statistics.
  std::shared_ptr<latency_statistics> stats;
  prometheus::Labels labels;
  /// Keeps the series above alive for actors that outlive the registry.
  std::shared_ptr<prometheus::Registry> owner;
};

/// The instruments of one megaservice.
struct megaservice_instruments {
  megaservice_instruments() = default;
  megaservice_instruments(metrics_registry& reg, const std::string& megaservice);

  void count_request(int code) const;
  void count_rejection(const std::string& reason) const;

  prometheus::Histogram* duration = nullptr;
  prometheus::Gauge* pending = nullptr;
  prometheus::Histogram* first_token = nullptr;
  prometheus::Histogram* inter_token = nullptr;
  /// The code="200" series, resolved once: the hot path takes no lock.
  prometheus::Counter* ok = nullptr;
  prometheus::Family<prometheus::Counter>* requests = nullptr;
  prometheus::Family<prometheus::Counter>* rejections = nullptr;
  /// "<megaservice>" in /v1/statistics.
  std::shared_ptr<latency_statistics> stats;
  prometheus::Labels labels;
  /// Keeps the series above alive for actors that outlive the registry.
  std::shared_ptr<prometheus::Registry> owner;
};

}  // namespace opea::monitoring
