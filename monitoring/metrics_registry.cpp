#include "monitoring/metrics_registry.hpp"

#include <chrono>
#include <sstream>

#include <prometheus/text_serializer.h>

namespace opea::monitoring {

namespace {

prometheus::Family<prometheus::Counter>& counter(prometheus::Registry& reg, const char* name,
                                                 const char* help, const std::string& node) {
  return prometheus::BuildCounter().Name(name).Help(help).Labels({{"node", node}}).Register(reg);
}

prometheus::Family<prometheus::Gauge>& gauge(prometheus::Registry& reg, const char* name,
                                             const char* help, const std::string& node) {
  return prometheus::BuildGauge().Name(name).Help(help).Labels({{"node", node}}).Register(reg);
}

prometheus::Family<prometheus::Histogram>& histogram(prometheus::Registry& reg, const char* name,
                                                     const char* help, const std::string& node) {
  return prometheus::BuildHistogram().Name(name).Help(help).Labels({{"node", node}}).Register(reg);
}

}  // namespace

metrics_registry::metrics_registry(std::string node)
    : node_(std::move(node)),
      registry_(std::make_shared<prometheus::Registry>()),
      service_requests(counter(*registry_, "opea_service_requests_total",
                               "Calls dispatched to a service.", node_)),
      service_errors(counter(*registry_, "opea_service_errors_total",
                             "Failed service calls, by reason.", node_)),
      service_duration(histogram(*registry_, "opea_service_request_duration_seconds",
                                 "Time from dispatch to a service until its reply.", node_)),
      service_restarts(counter(*registry_, "opea_service_restarts_total",
                               "Restarts of a service actor by its supervisor.", node_)),
      service_up(gauge(*registry_, "opea_service_up",
                       "1 while the service actor runs, 0 once it failed for good.", node_)),
      service_circuit_state(gauge(
          *registry_, "opea_service_circuit_state",
          "Circuit breaker of a service: 0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled.",
          node_)),
      service_retries(counter(*registry_, "opea_service_retries_total",
                              "Calls to a service sent again after a failure.", node_)),
      service_bulkhead_in_flight(gauge(*registry_, "opea_service_bulkhead_in_flight",
                                       "Calls holding a slot of a service's bulkhead.", node_)),
      service_bulkhead_queued(gauge(*registry_, "opea_service_bulkhead_queued",
                                    "Calls waiting for a slot of a service's bulkhead.", node_)),
      service_late_replies(counter(*registry_, "opea_service_late_replies_total",
                                   "Replies dropped because their call was already answered.",
                                   node_)),
      megaservice_requests(counter(*registry_, "opea_megaservice_requests_total",
                                   "Finished megaservice requests, by status code.", node_)),
      megaservice_duration(histogram(*registry_, "megaservice_request_latency",
                                     "Whole request/reply latency of a megaservice request, in "
                                     "seconds (OPEA's name).",
                                     node_)),
      megaservice_pending(gauge(*registry_, "megaservice_request_pending",
                                "Megaservice requests accepted and not yet answered (OPEA's name).",
                                node_)),
      megaservice_first_token(histogram(*registry_, "megaservice_first_token_latency",
                                        "Time to the first streamed piece of a megaservice "
                                        "request, in seconds (OPEA's name).",
                                        node_)),
      megaservice_inter_token(histogram(*registry_, "megaservice_inter_token_latency",
                                        "Time between two streamed pieces of a megaservice "
                                        "request, in seconds (OPEA's name).",
                                        node_)),
      megaservice_rejections(counter(*registry_, "opea_megaservice_rejections_total",
                                     "Requests refused or cut short, by reason.", node_)),
      http_requests(counter(*registry_, "opea_http_requests_total",
                            "HTTP responses of the gateway, by route and status code.", node_)),
      http_duration(histogram(*registry_, "opea_http_request_duration_seconds",
                              "HTTP request latency at the gateway, by route.", node_)),
      cluster_member_up(gauge(*registry_, "opea_cluster_member_up",
                              "1 while a cluster member is linked to this node (this node: 1).",
                              node_)),
      cluster_replicas(gauge(*registry_, "opea_cluster_replicas",
                             "Live replicas a service proxy can call, by service.", node_)),
      cluster_retries(counter(*registry_, "opea_cluster_retries_total",
                              "Calls resent to another replica after a member was lost.", node_)),
      cluster_node_down(counter(*registry_, "opea_cluster_node_down_errors_total",
                                "Calls failed because the member running them was lost.", node_)),
      cluster_link_transitions(counter(*registry_, "opea_cluster_link_transitions_total",
                                       "Links to cluster members that came up or went down.",
                                       node_)),
      cluster_members(
          gauge(*registry_, "opea_cluster_members", "Cluster members by state.", node_)),
      cluster_remote_call_duration(histogram(
          *registry_, "opea_cluster_remote_call_duration_seconds",
          "Time from dispatch of a call to a replica on another member until its reply.", node_)),
      actor_messages(
          counter(*registry_, "opea_actor_messages_total", "Messages an actor handled.", node_)),
      actor_handling(histogram(*registry_, "opea_actor_message_handling_seconds",
                               "Time an actor spent handling one message.", node_)),
      actor_mailbox(gauge(*registry_, "opea_actor_mailbox_depth",
                          "Messages waiting in an actor's mailbox.", node_)),
      actor_restarts(counter(*registry_, "opea_actor_restarts_total",
                             "Actor instances started to replace one that exited.", node_)),
      actor_failures(counter(*registry_, "opea_actor_failures_total",
                             "Actor instances that exited abnormally, by reason.", node_)),
      tracing_exported(counter(*registry_, "opea_tracing_spans_exported_total",
                               "Spans exported to the OTLP collector.", node_)),
      tracing_dropped(counter(*registry_, "opea_tracing_spans_dropped_total",
                              "Spans dropped because the export queue was full.", node_)),
      tracing_failures(counter(*registry_, "opea_tracing_export_failures_total",
                               "Export requests the OTLP collector did not accept.", node_)),
      build_info(
          gauge(*registry_, "opea_build_info", "1, labelled with opea-cpp's version.", node_)),
      start_time(gauge(*registry_, "process_start_time_seconds",
                       "Start time of the process since the Unix epoch, in seconds.", node_)),
      dataprep_documents(counter(*registry_, "opea_dataprep_documents_total",
                                 "Documents ingested into an index.", node_)),
      dataprep_chunks(counter(*registry_, "opea_dataprep_chunks_total",
                              "Chunks ingested into an index.", node_)),
      index_chunks(gauge(*registry_, "opea_index_chunks", "Chunks an index holds.", node_)),
      index_sources(gauge(*registry_, "opea_index_sources",
                          "Sources (files) an index holds chunks of.", node_)),
      index_search_duration(histogram(*registry_, "opea_index_search_duration_seconds",
                                      "Time of one retriever search of an index.", node_)) {
  build_info.Add({{"version", version()}}).Set(1);
  start_time.Add({}).Set(
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
}

const char* metrics_registry::version() {
  return OPEA_VERSION;
}

latency_statistics& metrics_registry::statistics(const std::string& name) {
  return *statistics_ptr(name);
}

std::shared_ptr<latency_statistics> metrics_registry::statistics_ptr(const std::string& name) {
  std::lock_guard<std::mutex> lock{extras_mutex_};
  auto& slot = statistics_[name];
  if (!slot) slot = std::make_shared<latency_statistics>();
  return slot;
}

std::vector<std::pair<std::string, const latency_statistics*>> metrics_registry::all_statistics()
    const {
  std::lock_guard<std::mutex> lock{extras_mutex_};
  std::vector<std::pair<std::string, const latency_statistics*>> out;
  out.reserve(statistics_.size());
  for (const auto& [name, stats] : statistics_) out.emplace_back(name, stats.get());
  return out;
}

void metrics_registry::on_collect(std::function<void()> refresh) {
  std::lock_guard<std::mutex> lock{extras_mutex_};
  refreshers_.push_back(std::move(refresh));
}

std::string metrics_registry::serialize() const {
  {
    std::lock_guard<std::mutex> lock{extras_mutex_};
    for (const auto& refresh : refreshers_) refresh();
  }
  std::ostringstream out;
  prometheus::TextSerializer{}.Serialize(out, registry_->Collect());
  return out.str();
}

const prometheus::Histogram::BucketBoundaries& metrics_registry::latency_buckets() {
  static const prometheus::Histogram::BucketBoundaries buckets{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30};
  return buckets;
}

const prometheus::Histogram::BucketBoundaries& metrics_registry::handling_buckets() {
  static const prometheus::Histogram::BucketBoundaries buckets{
      0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001,
      0.0025,   0.005,     0.01,     0.025,   0.05,     0.1,     0.5,    1,       10};
  return buckets;
}

service_instruments::service_instruments(metrics_registry& reg, const std::string& megaservice,
                                         const std::string& service)
    : labels{{"megaservice", megaservice}, {"service", service}}, owner(reg.registry()) {
  requests = &reg.service_requests.Add(labels);
  duration = &reg.service_duration.Add(labels, metrics_registry::latency_buckets());
  restarts = &reg.service_restarts.Add(labels);
  up = &reg.service_up.Add(labels);
  late_replies = &reg.service_late_replies.Add(labels);
  errors = &reg.service_errors;
  stats = reg.statistics_ptr(megaservice + "/" + service);
}

void service_instruments::count_error(const std::string& reason) const {
  if (errors == nullptr) return;
  auto with_reason = labels;
  with_reason.emplace("reason", reason);
  errors->Add(with_reason).Increment();
}

megaservice_instruments::megaservice_instruments(metrics_registry& reg,
                                                 const std::string& megaservice)
    : labels{{"megaservice", megaservice}}, owner(reg.registry()) {
  duration = &reg.megaservice_duration.Add(labels, metrics_registry::latency_buckets());
  pending = &reg.megaservice_pending.Add(labels);
  first_token = &reg.megaservice_first_token.Add(labels, metrics_registry::latency_buckets());
  inter_token = &reg.megaservice_inter_token.Add(labels, metrics_registry::latency_buckets());
  requests = &reg.megaservice_requests;
  rejections = &reg.megaservice_rejections;
  stats = reg.statistics_ptr(megaservice);
  auto with_ok = labels;
  with_ok.emplace("code", "200");
  ok = &requests->Add(with_ok);
}

void megaservice_instruments::count_request(int code) const {
  if (requests == nullptr) return;
  if (code == 200) {
    ok->Increment();
    return;
  }
  auto with_code = labels;
  with_code.emplace("code", std::to_string(code));
  requests->Add(with_code).Increment();
}

void megaservice_instruments::count_rejection(const std::string& reason) const {
  if (rejections == nullptr) return;
  auto with_reason = labels;
  with_reason.emplace("reason", reason);
  rejections->Add(with_reason).Increment();
}

}  // namespace opea::monitoring
