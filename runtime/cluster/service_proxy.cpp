#include "runtime/cluster/service_proxy.hpp"

#include <chrono>
#include <unordered_map>
#include <utility>

#include <caf/all.hpp>

#include "runtime/cluster/remote_protocol.hpp"
#include "runtime/errors.hpp"
#include "runtime/service/messages.hpp"

namespace opea::runtime {

namespace {

/// (sweep_atom): look for calls past their deadline (a replica that never
/// answers must not keep a call forever).
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;

constexpr auto sweep_interval = std::chrono::seconds{1};

struct replica {
  std::string node;
  caf::actor endpoint;
  size_t outstanding = 0;
};

struct pending_call {
  json_ptr input;
  request_context_ptr ctx;
  caf::response_promise rp;
  std::string node;
  caf::actor_addr endpoint;
  size_t attempts = 0;
  bool streaming = false;
  /// Pieces already reached the client: a retry would repeat them.
  bool streamed = false;
};

struct proxy_state {
  service_proxy_options options;
  std::shared_ptr<service_proxy_stats> stats;
  std::vector<replica> replicas;
  std::unordered_map<uint64_t, pending_call> calls;
  uint64_t next_call = 1;
  size_t next_replica = 0;
  bool sweeping = false;
};

using state_ptr = std::shared_ptr<proxy_state>;

replica* find_replica(proxy_state& st, const caf::actor_addr& endpoint) {
  for (auto& r : st.replicas)
    if (r.endpoint.address() == endpoint) return &r;
  return nullptr;
}

replica* pick(proxy_state& st) {
  if (st.replicas.empty()) return nullptr;
  if (st.options.choice == replica_choice::least_outstanding) {
    replica* best = &st.replicas.front();
    for (auto& r : st.replicas)
      if (r.outstanding < best->outstanding) best = &r;
    return best;
  }
  auto& r = st.replicas[st.next_replica % st.replicas.size()];
  ++st.next_replica;
  return &r;
}

void finish(proxy_state& st, uint64_t id, caf::expected<json_ptr> res) {
  auto it = st.calls.find(id);
  if (it == st.calls.end()) return;
  auto call = std::move(it->second);
  st.calls.erase(it);
  if (auto* r = find_replica(st, call.endpoint); r && r->outstanding > 0) --r->outstanding;
  if (res)
    call.rp.deliver(std::move(*res));
  else
    call.rp.deliver(std::move(res.error()));
}

void arm_sweep(caf::event_based_actor* self, proxy_state& st) {
  if (st.sweeping) return;
  st.sweeping = true;
  self->delayed_send(self, sweep_interval, sweep_atom::value);
}

/// Sends call `id` to a live replica, or fails it when there is none.
void dispatch(caf::event_based_actor* self, proxy_state& st, uint64_t id) {
  auto& call = st.calls.at(id);
  auto* r = pick(st);
  if (r == nullptr) {
    finish(st, id,
           make_error(errc::service_unavailable, st.options.service,
                      "no live replica (its nodes are down or not joined yet)"));
    return;
  }
  ++call.attempts;
  call.node = r->node;
  call.endpoint = r->endpoint.address();
  ++r->outstanding;
  auto bytes = make_call_envelope(*call.input, *call.ctx, st.options.service).SerializeAsString();
  self->send(r->endpoint, rinvoke_atom::value, id, std::move(bytes), call.streaming,
             caf::actor_cast<caf::actor>(self));
  arm_sweep(self, st);
}

/// The node behind `endpoint` left: retry or fail its calls in flight.
void lose(caf::event_based_actor* self, proxy_state& st, const caf::actor_addr& endpoint,
          const std::string& node) {
  std::vector<uint64_t> lost;
  for (auto& [id, call] : st.calls)
    if (call.endpoint == endpoint) lost.push_back(id);
  for (auto id : lost) {
    auto& call = st.calls.at(id);
    bool retry = st.options.idempotent && call.attempts < st.options.max_attempts &&
                 !call.ctx->expired() && !call.streamed && !st.replicas.empty();
    if (retry) {
      st.stats->retried.fetch_add(1, std::memory_order_relaxed);
      if (st.stats->retries) st.stats->retries->Increment();
      dispatch(self, st, id);
      continue;
    }
    st.stats->lost_to_node_down.fetch_add(1, std::memory_order_relaxed);
    if (st.stats->node_down) st.stats->node_down->Increment();
    std::string why = "node '" + node + "' left the cluster while the call was in flight";
    if (!st.options.idempotent)
      why += " (not retried: the service is not idempotent)";
    else if (call.streamed)
      why += " (not retried: part of the answer was already streamed)";
    else if (st.replicas.empty())
      why += " (no other replica is live)";
    else if (call.ctx->expired())
      why += " (no time left before the deadline)";
    else
      why += " (after " + std::to_string(call.attempts) + " attempts)";
    finish(st, id, make_error(errc::node_down, st.options.service, why));
  }
}

void remove_replica(caf::event_based_actor* self, proxy_state& st,
                    const caf::actor_addr& endpoint) {
  for (auto it = st.replicas.begin(); it != st.replicas.end(); ++it) {
    if (it->endpoint.address() != endpoint) continue;
    auto node = it->node;
    self->demonitor(it->endpoint);
    st.replicas.erase(it);
    if (st.stats->replicas) st.stats->replicas->Set(static_cast<double>(st.replicas.size()));
    lose(self, st, endpoint, node);
    return;
  }
}

}  // namespace

caf::behavior service_proxy(caf::event_based_actor* self, service_proxy_options options,
                            std::shared_ptr<service_proxy_stats> stats) {
  auto st = std::make_shared<proxy_state>();
  st->options = std::move(options);
  st->stats = stats ? std::move(stats) : std::make_shared<service_proxy_stats>();
  if (st->options.directory)
    self->send(st->options.directory, subscribe_atom::value, st->options.service,
               caf::actor_cast<caf::actor>(self));
  self->set_down_handler([self, st](caf::down_msg& dm) { remove_replica(self, *st, dm.source); });
  return {
      [self, st](invoke_atom, json_ptr input, request_context_ptr ctx) -> caf::result<json_ptr> {
        auto rp = self->make_response_promise<json_ptr>();
        if (!input || !ctx)
          return make_error(errc::bad_request, st->options.service, "call without input");
        st->stats->calls.fetch_add(1, std::memory_order_relaxed);
        auto id = st->next_call++;
        auto& call = st->calls[id];
        call.input = std::move(input);
        call.rp = rp;
        call.streaming = ctx->sink != nullptr;
        if (call.streaming) {
          auto me = caf::actor_cast<caf::actor>(self);
          ctx->sink->on_cancel([me, id] { caf::anon_send(me, rcancel_atom::value, id); });
        }
        call.ctx = std::move(ctx);
        dispatch(self, *st, id);
        return rp;
      },
      [st](rpiece_atom, uint64_t id, std::string& piece) {
        auto it = st->calls.find(id);
        if (it == st->calls.end() || !it->second.ctx->sink) return;
        it->second.streamed = true;
        it->second.ctx->sink->write(std::move(piece));
      },
      [st](rreply_atom, uint64_t id, const std::string& bytes) {
        auto it = st->calls.find(id);
        if (it == st->calls.end()) return;
        auto out = decode_reply(bytes, st->options.service);
        if (!out) {
          finish(*st, id, std::move(out.error()));
          return;
        }
        finish(*st, id, json_ptr{std::make_shared<const json>(std::move(*out))});
      },
      [st](rfail_atom, uint64_t id, uint8_t code, std::string& subject, std::string& detail) {
        auto ec = static_cast<errc>(code);
        if (code == 0 || code > static_cast<uint8_t>(errc::node_down)) ec = errc::service_failed;
        if (subject.empty()) subject = st->options.service;
        finish(*st, id, make_error(ec, std::move(subject), std::move(detail)));
      },
      [self, st](rcancel_atom, uint64_t id) {
        auto it = st->calls.find(id);
        if (it == st->calls.end()) return;
        auto* r = find_replica(*st, it->second.endpoint);
        if (r != nullptr)
          self->send(r->endpoint, rcancel_atom::value, id, caf::actor_cast<caf::actor>(self));
      },
      [self, st](replica_up_atom, const std::string& node, const caf::actor& endpoint) {
        if (!endpoint) return;
        for (auto& r : st->replicas) {
          if (r.endpoint == endpoint) return;
          if (r.node == node) {  // the node restarted: its old endpoint is gone
            remove_replica(self, *st, r.endpoint.address());
            break;
          }
        }
        self->monitor(endpoint);
        st->replicas.push_back({node, endpoint, 0});
        if (st->stats->replicas) st->stats->replicas->Set(static_cast<double>(st->replicas.size()));
      },
      [self, st](replica_down_atom, const std::string& node) {
        for (auto& r : st->replicas)
          if (r.node == node) {
            remove_replica(self, *st, r.endpoint.address());
            return;
          }
      },
      [self, st](sweep_atom) {
        st->sweeping = false;
        auto now = clock_type::now();
        std::vector<uint64_t> expired;
        for (auto& [id, call] : st->calls)
          if (call.ctx->expired(now)) expired.push_back(id);
        for (auto id : expired) {
          auto node = st->calls.at(id).node;
          finish(*st, id,
                 make_error(errc::deadline_exceeded, st->options.service,
                            "no answer from the replica on node '" + node + "' in time"));
        }
        if (!st->calls.empty()) arm_sweep(self, *st);
      },
  };
}

micro_service make_proxy_service(std::string name, service_type type, service_proxy_options options,
                                 std::shared_ptr<service_proxy_stats> stats) {
  if (!stats) stats = std::make_shared<service_proxy_stats>();
  auto svc = micro_service::actor(
      std::move(name),
      [options = std::move(options), stats](caf::event_based_actor* self) {
        return service_proxy(self, options, stats);
      },
      type);
  svc.answers_by_deadline = true;  // its sweep fails calls past their deadline
  return svc;
}

}  // namespace opea::runtime
