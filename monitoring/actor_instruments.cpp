#include "monitoring/actor_instruments.hpp"

#include "monitoring/metrics_registry.hpp"

namespace opea::monitoring {

namespace {

prometheus::Labels to_labels(const actor_labels& x) {
  prometheus::Labels out{{"actor", x.actor}};
  if (!x.megaservice.empty()) out.emplace("megaservice", x.megaservice);
  if (!x.service.empty()) out.emplace("service", x.service);
  return out;
}

}  // namespace

actor_instruments::actor_instruments(metrics_registry& reg, actor_labels labels, uint32_t instances)
    : owner_(reg.registry()),
      names_(std::move(labels)),
      labels_(to_labels(names_)),
      instances_(instances == 0 ? 1 : instances),
      messages_(&reg.actor_messages.Add(labels_)),
      handling_(&reg.actor_handling.Add(labels_, metrics_registry::handling_buckets())),
      mailbox_(&reg.actor_mailbox.Add(labels_)),
      restarts_(&reg.actor_restarts.Add(labels_)),
      failures_(&reg.actor_failures) {
  // The commonest failure, an exception that escaped a handler, has its
  // series from the start (0), so rate() and alerts see the first one.
  auto with_reason = labels_;
  with_reason.emplace("reason", "runtime_error");
  failures_->Add(with_reason);
}

void actor_instruments::started() {
  if (starts_.fetch_add(1, std::memory_order_relaxed) >= instances_) restarts_->Increment();
}

void actor_instruments::failed(const std::string& reason) {
  auto with_reason = labels_;
  with_reason.emplace("reason", reason);
  failures_->Add(with_reason).Increment();
}

actor_instruments_ptr make_actor_instruments(metrics_registry* reg, actor_labels labels,
                                             uint32_t instances) {
  if (reg == nullptr) return nullptr;
  return std::make_shared<actor_instruments>(*reg, std::move(labels), instances);
}

}  // namespace opea::monitoring
