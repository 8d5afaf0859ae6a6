#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/behavior.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

namespace opea::nodes {

/// (hello_atom, std::string name, caf::actor directory, std::vector<std::string>
/// services, std::vector<caf::actor> endpoints) -> (welcome_atom, std::string
/// name, std::vector<std::string> services, std::vector<caf::actor> endpoints):
/// a member introducing itself to the member it dialled.
using hello_atom = caf::atom_constant<caf::atom("hello")>;
using welcome_atom = caf::atom_constant<caf::atom("welcome")>;
/// (dial_atom, std::string member): (re)connect to a member.
using dial_atom = caf::atom_constant<caf::atom("dial")>;
/// (endpoints_atom, std::string member, std::vector<std::string> services,
/// std::vector<caf::actor> endpoints): sent by a member's directory to every
/// member that is up when one of its hosted services' endpoints was
/// restarted (by the member's "cluster" supervisor): the receiver replaces
/// those endpoints and tells its subscribed proxies. Accepted only from the
/// directory the receiver joined for that member.
using endpoints_atom = caf::atom_constant<caf::atom("endpoints")>;

/// One member as the directory knows it from the cluster file.
struct member_address {
  std::string name;
  std::string host;
  uint16_t port = 0;
};

/// What GET /v1/cluster shows, kept current by the directory actor and read
/// by HTTP threads. Thread-safe.
class cluster_view {
 public:
  void set(nlohmann::json snapshot);
  nlohmann::json get() const;

 private:
  mutable std::mutex mtx_;
  nlohmann::json snapshot_ = nlohmann::json::object();
};

/// The ids of the children of a member's "cluster" supervisor: one
/// "endpoint.SERVICE" per hosted service, then "directory".
inline const std::string endpoint_child_prefix = "endpoint.";
inline const std::string directory_child_id = "directory";

/// What a member's directory keeps across its own restarts (it is a child of
/// the node's "cluster" supervisor): the current endpoint of each hosted
/// service and the proxies subscribed on this node. Written by the one
/// directory instance alive at a time, read by the next one when it starts.
/// Thread-safe.
class directory_memory {
 public:
  std::map<std::string, caf::actor> endpoints() const;
  void set_endpoint(const std::string& service, caf::actor endpoint);
  /// service -> proxies still alive.
  std::map<std::string, std::vector<caf::actor>> subscribers() const;
  void add_subscriber(const std::string& service, const caf::actor& proxy);
  /// Forgets `proxy` (it terminated) under every service.
  void remove_subscriber(const caf::actor_addr& proxy);
  /// Drops every handle (the cluster is being shut down).
  void clear();

 private:
  mutable std::mutex mtx_;
  std::map<std::string, caf::actor> endpoints_;
  std::map<std::string, std::vector<caf::actor_addr>> subscribers_;
};

/// Settings of a node's directory actor.
struct membership_config {
  std::string cluster_name;
  /// This member's name.
  std::string self;
  /// Every member, this one included, in file order.
  std::vector<member_address> members;
  /// Delay between attempts to reach a member that is not up.
  std::chrono::milliseconds reconnect{250};
  /// Timeout of the hello exchange once connected.
  std::chrono::milliseconds hello_timeout{5000};
  /// The middleman actor that connects to peers: the plain one
  /// (`system.middleman().actor_handle()`) or caf::openssl's.
  caf::io::middleman_actor connector;
  /// The endpoints of the services this member hosts (service -> actor);
  /// a restarted directory takes them (and its subscribers) from `memory`.
  std::map<std::string, caf::actor> local_endpoints;
  /// Shared by every instance of this member's directory (null: a directory
  /// that is never restarted, as in tests).
  std::shared_ptr<directory_memory> memory;
  /// 0: the caller published the directory. Otherwise the directory
  /// publishes itself on this port through `connector`, closing first what
  /// the instance before it left there (a restarted directory); if that
  /// fails it exits with the error, which its supervisor sees as a crash.
  uint16_t publish_port = 0;
  /// Called with the name a peer that dialled us claims in its hello; false
  /// refuses it (TLS: the name must match a certificate just accepted).
  /// Null: every member name is accepted.
  std::function<bool(const std::string&)> accept_peer;
  std::shared_ptr<cluster_view> view;
  /// opea_cluster_member_up (null: not exported).
  prometheus::Family<prometheus::Gauge>* member_up = nullptr;
  /// opea_cluster_members{state} (null: not exported).
  prometheus::Family<prometheus::Gauge>* members_by_state = nullptr;
  /// opea_cluster_link_transitions_total{member,state} (null: not exported).
  prometheus::Family<prometheus::Counter>* link_transitions = nullptr;
};

struct membership_state {
  static inline const char* name = "opea.directory";
};

/// A member's directory: published on its cluster port. Joins the cluster
/// with one link per member pair — the member whose name sorts lower dials
/// (retrying every `reconnect` until the peer is up), so two members never
/// dial each other at the same moment (which CAF 0.17's BASP can lose).
/// Members exchange their hosted services' endpoints in the hello, watch
/// each other's directory (a crashed or silent member is noticed through
/// the link: at once when its TCP connection closes, within the middleman's
/// connection timeout when it goes silent), and tell subscribed service
/// proxies (runtime/service/service_proxy.hpp: subscribe_atom) which
/// replicas are up. A member that comes back is dialled again and its new
/// endpoints replace the old ones.
///
/// Under supervision the directory is a child of the node's "cluster"
/// supervisor next to the endpoints it announces; it follows that
/// supervisor (child_watcher messages, `watch_children`): an endpoint that
/// was restarted is announced to local subscribers (replica_up) and to the
/// members that are up (endpoints_atom). Child ids "endpoint.SERVICE" name
/// endpoints; other children are ignored.
caf::behavior membership_actor(caf::stateful_actor<membership_state>* self, membership_config cfg);

}  // namespace opea::nodes
