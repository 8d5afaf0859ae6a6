#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

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
  /// The endpoints of the services this member hosts (service -> actor).
  std::map<std::string, caf::actor> local_endpoints;
  /// Called with the name a peer that dialled us claims in its hello; false
  /// refuses it (TLS: the name must match a certificate just accepted).
  /// Null: every member name is accepted.
  std::function<bool(const std::string&)> accept_peer;
  std::shared_ptr<cluster_view> view;
  /// opea_cluster_member_up (null: not exported).
  prometheus::Family<prometheus::Gauge>* member_up = nullptr;
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
caf::behavior membership_actor(caf::stateful_actor<membership_state>* self, membership_config cfg);

}  // namespace opea::nodes
