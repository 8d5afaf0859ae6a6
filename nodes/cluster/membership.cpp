#include "nodes/cluster/membership.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "monitoring/log.hpp"
#include "runtime/cluster/remote_protocol.hpp"
#include "runtime/errors.hpp"
#include "runtime/service/service_proxy.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace opea::nodes {

namespace rt = runtime;
using nlohmann::json;

void cluster_view::set(json snapshot) {
  std::lock_guard<std::mutex> guard{mtx_};
  snapshot_ = std::move(snapshot);
}

json cluster_view::get() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return snapshot_;
}

std::map<std::string, caf::actor> directory_memory::endpoints() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return endpoints_;
}

void directory_memory::set_endpoint(const std::string& service, caf::actor endpoint) {
  std::lock_guard<std::mutex> guard{mtx_};
  endpoints_[service] = std::move(endpoint);
}

std::map<std::string, std::vector<caf::actor>> directory_memory::subscribers() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::map<std::string, std::vector<caf::actor>> out;
  for (const auto& [service, addrs] : subscribers_)
    for (const auto& addr : addrs)
      if (auto proxy = caf::actor_cast<caf::actor>(addr)) out[service].push_back(std::move(proxy));
  return out;
}

void directory_memory::add_subscriber(const std::string& service, const caf::actor& proxy) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& list = subscribers_[service];
  if (std::find(list.begin(), list.end(), proxy.address()) == list.end())
    list.push_back(proxy.address());
}

void directory_memory::remove_subscriber(const caf::actor_addr& proxy) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& kv : subscribers_)
    kv.second.erase(std::remove(kv.second.begin(), kv.second.end(), proxy), kv.second.end());
}

void directory_memory::clear() {
  std::lock_guard<std::mutex> guard{mtx_};
  endpoints_.clear();
  subscribers_.clear();
}

namespace {

enum class member_state { self, unknown, joining, up, down };

const char* to_string(member_state s) {
  switch (s) {
    case member_state::self:
      return "self";
    case member_state::unknown:
      return "unknown";
    case member_state::joining:
      return "joining";
    case member_state::up:
      return "up";
    case member_state::down:
      return "down";
  }
  return "unknown";
}

struct peer {
  member_address address;
  member_state state = member_state::unknown;
  caf::actor directory;
  std::map<std::string, caf::actor> endpoints;
  int64_t since_unix_ms = 0;
  uint64_t joins = 0;
  std::string last_error;
};

struct directory_state {
  membership_config cfg;
  std::map<std::string, peer> peers;                           // by name, this member excluded
  std::map<std::string, std::vector<caf::actor>> subscribers;  // service -> proxies
};

using state_ptr = std::shared_ptr<directory_state>;

std::vector<std::string> keys_of(const std::map<std::string, caf::actor>& m) {
  std::vector<std::string> out;
  for (const auto& kv : m) out.push_back(kv.first);
  return out;
}

/// "a, b" for the log ("none" for an empty map).
std::string names_of(const std::map<std::string, caf::actor>& m) {
  std::string out;
  for (const auto& kv : m) out += (out.empty() ? "" : ", ") + kv.first;
  return out.empty() ? "none" : out;
}

std::vector<caf::actor> values_of(const std::map<std::string, caf::actor>& m) {
  std::vector<caf::actor> out;
  for (const auto& kv : m) out.push_back(kv.second);
  return out;
}

/// Counts a link to `member` coming up or going down.
void count_transition(directory_state& st, const std::string& member, const char* state) {
  if (st.cfg.link_transitions)
    st.cfg.link_transitions->Add({{"member", member}, {"state", state}}).Increment();
}

void publish_view(directory_state& st) {
  if (st.cfg.member_up)
    for (const auto& m : st.cfg.members) {
      bool up = m.name == st.cfg.self || st.peers.at(m.name).state == member_state::up;
      st.cfg.member_up->Add({{"member", m.name}}).Set(up ? 1 : 0);
    }
  if (st.cfg.members_by_state) {
    // This member counts as up; every state has a series (0 when empty).
    std::map<std::string, int> by_state{{"up", 1}, {"joining", 0}, {"down", 0}, {"unknown", 0}};
    for (const auto& [name, p] : st.peers) ++by_state[to_string(p.state)];
    for (const auto& [state, n] : by_state) st.cfg.members_by_state->Add({{"state", state}}).Set(n);
  }
  if (!st.cfg.view) return;
  json members = json::array();
  for (const auto& m : st.cfg.members) {
    json entry{{"name", m.name}, {"host", m.host}, {"port", m.port}};
    if (m.name == st.cfg.self) {
      entry["state"] = "self";
      entry["services"] = keys_of(st.cfg.local_endpoints);
    } else {
      const auto& p = st.peers.at(m.name);
      entry["state"] = to_string(p.state);
      entry["services"] = keys_of(p.endpoints);
      entry["since_unix_ms"] = p.since_unix_ms;
      entry["joins"] = p.joins;
      if (!p.last_error.empty()) entry["last_error"] = p.last_error;
    }
    members.push_back(std::move(entry));
  }
  st.cfg.view->set(json{
      {"cluster", st.cfg.cluster_name}, {"self", st.cfg.self}, {"members", std::move(members)}});
}

void notify_up(directory_state& st, const std::string& node,
               const std::map<std::string, caf::actor>& endpoints) {
  for (const auto& [service, endpoint] : endpoints) {
    auto it = st.subscribers.find(service);
    if (it == st.subscribers.end()) continue;
    for (const auto& proxy : it->second)
      caf::anon_send(proxy, rt::replica_up_atom::value, node, endpoint);
  }
}

void notify_down(directory_state& st, const std::string& node,
                 const std::map<std::string, caf::actor>& endpoints) {
  for (const auto& kv : endpoints) {
    auto it = st.subscribers.find(kv.first);
    if (it == st.subscribers.end()) continue;
    for (const auto& proxy : it->second) caf::anon_send(proxy, rt::replica_down_atom::value, node);
  }
}

bool i_dial(const directory_state& st, const std::string& other) {
  return st.cfg.self < other;
}

void mark_down(caf::event_based_actor* self, directory_state& st, peer& p, std::string why) {
  bool was_up = p.state == member_state::up;
  if (was_up) notify_down(st, p.address.name, p.endpoints);
  if (p.directory) self->demonitor(p.directory);
  p.directory = nullptr;
  p.endpoints.clear();
  p.state = member_state::down;
  p.since_unix_ms = rt::unix_now_ms();
  p.last_error = std::move(why);
  if (was_up) count_transition(st, p.address.name, "down");
  publish_view(st);
  // Logged once the view shows it (a stable line, see nodes/README.md).
  if (was_up)
    monitoring::log(monitoring::log_component::cluster)
        .warn("cluster {}: member {} left: {}", st.cfg.self, p.address.name, p.last_error);
  if (i_dial(st, p.address.name))
    self->delayed_send(self, st.cfg.reconnect, dial_atom::value, p.address.name);
}

void join(caf::event_based_actor* self, directory_state& st, peer& p, caf::actor directory,
          const std::vector<std::string>& services, const std::vector<caf::actor>& endpoints) {
  if (p.state == member_state::up && p.directory != directory) {
    // It restarted before its old link was noticed as gone.
    notify_down(st, p.address.name, p.endpoints);
    if (p.directory) self->demonitor(p.directory);
  }
  p.directory = std::move(directory);
  p.endpoints.clear();
  for (size_t i = 0; i < services.size() && i < endpoints.size(); ++i)
    if (endpoints[i]) p.endpoints[services[i]] = endpoints[i];
  p.state = member_state::up;
  p.since_unix_ms = rt::unix_now_ms();
  p.last_error.clear();
  ++p.joins;
  count_transition(st, p.address.name, "up");
  self->monitor(p.directory);
  notify_up(st, p.address.name, p.endpoints);
  publish_view(st);
  // Logged once the view shows it (a stable line, see nodes/README.md).
  monitoring::log(monitoring::log_component::cluster)
      .info("cluster {}: member {} joined (services: {})", st.cfg.self, p.address.name,
            names_of(p.endpoints));
}

/// Registers `proxy` for `service` and tells it the replicas known now.
void subscribe(caf::event_based_actor* self, directory_state& st, const std::string& service,
               const caf::actor& proxy) {
  auto& list = st.subscribers[service];
  if (std::find(list.begin(), list.end(), proxy) != list.end()) return;
  list.push_back(proxy);
  self->monitor(proxy);
  if (st.cfg.memory) st.cfg.memory->add_subscriber(service, proxy);
  auto local = st.cfg.local_endpoints.find(service);
  if (local != st.cfg.local_endpoints.end())
    self->send(proxy, rt::replica_up_atom::value, st.cfg.self, local->second);
  for (const auto& [name, p] : st.peers) {
    if (p.state != member_state::up) continue;
    auto ep = p.endpoints.find(service);
    if (ep != p.endpoints.end()) self->send(proxy, rt::replica_up_atom::value, name, ep->second);
  }
}

/// A hosted service's endpoint (re)started: subscribers here and the
/// members that are up learn its new handle.
void local_endpoint_up(caf::event_based_actor* self, directory_state& st,
                       const std::string& service, const caf::actor& endpoint) {
  auto& current = st.cfg.local_endpoints[service];
  if (current == endpoint) return;
  current = endpoint;
  if (st.cfg.memory) st.cfg.memory->set_endpoint(service, endpoint);
  notify_up(st, st.cfg.self, {{service, endpoint}});
  for (const auto& [name, p] : st.peers)
    if (p.state == member_state::up && p.directory)
      self->send(p.directory, endpoints_atom::value, st.cfg.self, std::vector<std::string>{service},
                 std::vector<caf::actor>{endpoint});
  publish_view(st);
}

/// A restarted directory publishes itself where its predecessor was.
void publish_self(caf::event_based_actor* self, const state_ptr& st) {
  auto port = st->cfg.publish_port;
  auto publish = [self, st, port] {
    self->request(st->cfg.connector, caf::infinite, caf::publish_atom::value, port,
                  caf::actor_cast<caf::strong_actor_ptr>(self), std::set<std::string>{},
                  std::string{}, true)
        .then(
            [st](uint16_t) {
              monitoring::log(monitoring::log_component::cluster)
                  .info("cluster {}: directory published again on port {}", st->cfg.self,
                        st->cfg.publish_port);
            },
            [self, st](caf::error& err) {
              monitoring::log(monitoring::log_component::cluster)
                  .error("cluster {}: cannot publish the directory on port {}: {}", st->cfg.self,
                         st->cfg.publish_port, rt::describe(err));
              self->quit(std::move(err));
            });
  };
  // What the previous instance left on the port (it is dead: nothing more
  // reaches it) goes first; an error only means nothing was there.
  self->request(st->cfg.connector, caf::infinite, caf::close_atom::value, port)
      .then([publish] { publish(); }, [publish](caf::error&) { publish(); });
}

}  // namespace

caf::behavior membership_actor(caf::stateful_actor<membership_state>* self, membership_config cfg) {
  auto st = std::make_shared<directory_state>();
  st->cfg = std::move(cfg);
  for (const auto& m : st->cfg.members) {
    if (m.name == st->cfg.self) continue;
    st->peers[m.name].address = m;
    // Both series of every member exist from the start (rate() sees the first).
    if (st->cfg.link_transitions)
      for (const char* state : {"up", "down"})
        st->cfg.link_transitions->Add({{"member", m.name}, {"state", state}});
  }
  if (st->cfg.memory) {
    // A restart: the endpoints and subscribers of the instance before.
    for (auto& [service, endpoint] : st->cfg.memory->endpoints())
      st->cfg.local_endpoints[service] = std::move(endpoint);
    for (const auto& [service, endpoint] : st->cfg.local_endpoints)
      st->cfg.memory->set_endpoint(service, endpoint);
    for (const auto& [service, proxies] : st->cfg.memory->subscribers())
      for (const auto& proxy : proxies) subscribe(self, *st, service, proxy);
  }
  if (st->cfg.publish_port != 0) publish_self(self, st);
  publish_view(*st);
  for (const auto& [name, p] : st->peers)
    if (i_dial(*st, name)) self->send(self, dial_atom::value, name);
  self->set_down_handler([self, st](caf::down_msg& dm) {
    for (auto& [name, p] : st->peers)
      if (p.directory && p.directory.address() == dm.source) {
        mark_down(self, *st, p, "link lost: " + caf::to_string(dm.reason));
        return;
      }
    for (auto& [service, proxies] : st->subscribers)
      proxies.erase(std::remove_if(proxies.begin(), proxies.end(),
                                   [&](const caf::actor& a) { return a.address() == dm.source; }),
                    proxies.end());
    if (st->cfg.memory) st->cfg.memory->remove_subscriber(dm.source);
  });
  return {
      [self, st](dial_atom, const std::string& name) {
        auto it = st->peers.find(name);
        if (it == st->peers.end() || it->second.state == member_state::up ||
            it->second.state == member_state::joining)
          return;
        auto& p = it->second;
        p.state = member_state::joining;
        self->request(st->cfg.connector, caf::infinite, caf::connect_atom::value, p.address.host,
                      p.address.port)
            .then(
                [self, st, name](const caf::node_id&, caf::strong_actor_ptr& ptr,
                                 const std::set<std::string>&) {
                  auto& p = st->peers.at(name);
                  auto dir = caf::actor_cast<caf::actor>(ptr);
                  if (!dir) {
                    mark_down(self, *st, p, "no directory published on the cluster port");
                    return;
                  }
                  self->request(dir, st->cfg.hello_timeout, hello_atom::value, st->cfg.self,
                                caf::actor_cast<caf::actor>(self), keys_of(st->cfg.local_endpoints),
                                values_of(st->cfg.local_endpoints))
                      .then(
                          [self, st, name, dir](welcome_atom, const std::string& who,
                                                const std::vector<std::string>& services,
                                                const std::vector<caf::actor>& endpoints) {
                            auto& p = st->peers.at(name);
                            if (who != name) {
                              monitoring::log(monitoring::log_component::cluster)
                                  .error("cluster {}: {}:{} answered as member '{}', expected '{}'",
                                         st->cfg.self, p.address.host, p.address.port, who, name);
                              mark_down(self, *st, p, "answered as '" + who + "'");
                              return;
                            }
                            join(self, *st, p, dir, services, endpoints);
                          },
                          [self, st, name](caf::error& err) {
                            mark_down(self, *st, st->peers.at(name),
                                      "hello failed: " + rt::describe(err));
                          });
                },
                [self, st, name](caf::error& err) {
                  auto& p = st->peers.at(name);
                  auto why = "cannot connect: " + rt::describe(err);
                  bool changed = why != p.last_error;
                  p.state = member_state::down;
                  p.last_error = std::move(why);
                  publish_view(*st);
                  // Once per new reason, not per redial; after the view
                  // shows it (a stable line, see nodes/README.md).
                  if (changed)
                    monitoring::log(monitoring::log_component::cluster)
                        .info("cluster {}: member {} unreachable: {}", st->cfg.self, name,
                              p.last_error);
                  self->delayed_send(self, st->cfg.reconnect, dial_atom::value, name);
                });
      },
      [self, st](hello_atom, const std::string& name, const caf::actor& directory,
                 const std::vector<std::string>& services, const std::vector<caf::actor>& endpoints)
          -> caf::result<welcome_atom, std::string, std::vector<std::string>,
                         std::vector<caf::actor>> {
        auto it = st->peers.find(name);
        std::string problem;
        if (it == st->peers.end())
          problem = "'" + name + "' is not a member of cluster '" + st->cfg.cluster_name + "'";
        else if (!directory)
          problem = "hello without a directory";
        else if (i_dial(*st, name))
          problem = "'" + name + "' must not dial '" + st->cfg.self + "' (the lower name dials)";
        else if (services.size() != endpoints.size())
          problem = "hello with " + std::to_string(services.size()) + " services but " +
                    std::to_string(endpoints.size()) + " endpoints";
        else if (st->cfg.accept_peer && !st->cfg.accept_peer(name))
          problem = "no verified certificate for '" + name + "' on this link";
        if (!problem.empty()) {
          monitoring::log(monitoring::log_component::cluster)
              .warn("cluster {}: refused a hello: {}", st->cfg.self, problem);
          return rt::make_error(rt::errc::bad_request, "hello", problem);
        }
        join(self, *st, it->second, directory, services, endpoints);
        return {welcome_atom::value, st->cfg.self, keys_of(st->cfg.local_endpoints),
                values_of(st->cfg.local_endpoints)};
      },
      [self, st](rt::subscribe_atom, const std::string& service, const caf::actor& proxy) {
        if (proxy) subscribe(self, *st, service, proxy);
      },
      [self, st](endpoints_atom, const std::string& name, const std::vector<std::string>& services,
                 const std::vector<caf::actor>& endpoints) {
        auto it = st->peers.find(name);
        if (it == st->peers.end() || it->second.state != member_state::up ||
            self->current_sender() !=
                caf::actor_cast<caf::strong_actor_ptr>(it->second.directory)) {
          monitoring::log(monitoring::log_component::cluster)
              .warn("cluster {}: ignored endpoints of '{}' from a directory not joined",
                    st->cfg.self, name);
          return;
        }
        if (services.size() != endpoints.size()) {
          monitoring::log(monitoring::log_component::cluster)
              .warn("cluster {}: ignored endpoints of '{}': {} services but {} endpoints",
                    st->cfg.self, name, services.size(), endpoints.size());
          return;
        }
        auto& p = it->second;
        std::map<std::string, caf::actor> changed;
        for (size_t i = 0; i < services.size(); ++i) {
          if (!endpoints[i]) continue;
          auto& current = p.endpoints[services[i]];
          if (current == endpoints[i]) continue;
          current = endpoints[i];
          changed[services[i]] = endpoints[i];
        }
        if (changed.empty()) return;
        monitoring::log(monitoring::log_component::cluster)
            .info("cluster {}: member {} restarted endpoints ({})", st->cfg.self, name,
                  names_of(changed));
        notify_up(*st, name, changed);
        publish_view(*st);
      },
      // The node's "cluster" supervisor, which this directory watches (its
      // messages are local: one from another node is refused, since the
      // directory is reachable from the cluster port).
      [self, st](rt::child_up_atom, const std::string& id, const caf::actor& instance) {
        const auto& sender = self->current_sender();
        if (!sender || sender->node() != self->node()) {
          monitoring::log(monitoring::log_component::cluster)
              .warn("cluster {}: ignored a child_up from another node", st->cfg.self);
          return;
        }
        if (id.rfind(endpoint_child_prefix, 0) != 0 || !instance) return;
        local_endpoint_up(self, *st, id.substr(endpoint_child_prefix.size()), instance);
      },
      [](rt::child_down_atom, const std::string&, const caf::error&) {
        // Proxies monitor endpoints themselves; the restart's child_up follows.
      },
      [](rt::child_stopped_atom, const std::string&, const caf::error&) {},
  };
}

}  // namespace opea::nodes
