// A randomized test of supervision trees in the style of Akka's
// SupervisorHierarchySpec: for each seed, a random tree (depth >= 3, random
// strategies, restart types, intensities, periods and backoffs) of workers
// that answer requests, driven through a random schedule of crashes,
// requests and time steps on CAF's test_coordinator, and checked against a
// small model of OTP's rules. Replay one seed with OPEA_SUPERVISION_SEED=<n>;
// OPEA_SUPERVISION_SEEDS=<n> changes how many seeds run (default 2000).

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <random>
#include <set>

#include <spdlog/spdlog.h>

#include "tests/runtime/supervision/supervision_fixture.hpp"

using namespace supervision_test;
using namespace std::chrono_literals;
using time_point = caf::actor_clock::time_point;

namespace {

/// One node of the random tree; nodes[0] is the root supervisor.
struct node {
  std::string id;  // its path, unique in the tree
  int parent = -1;
  bool supervisor = false;
  restart_type restart = restart_type::permanent;
  supervisor_flags flags;
  std::vector<int> children;
};

/// One started instance of a node.
struct incarnation {
  int node = 0;
  caf::actor_id id = 0;
  caf::actor_id parent_id = 0;
  std::optional<time_point> end;
  caf::error reason;
};

/// Everything the actors of one seed report to the test. Touched only on the
/// test thread.
struct world {
  std::vector<node> nodes;
  caf::actor_system* sys = nullptr;
  /// The live instance of each node.
  std::map<int, caf::actor> current;
  /// Incremented in start, decremented in an attach_functor.
  int live = 0;
  std::vector<incarnation> incs;
  /// Nodes whose instance exited with restart_intensity, in order.
  std::vector<int> escalated;
  /// Answers per request (must end at exactly 1) and whether it was a ping reply.
  std::vector<int> answers;
  std::vector<bool> ok;
  /// child_up / child_down must alternate per child.
  std::map<std::string, bool> open;
  std::vector<std::string> pairing_errors;
  child_watcher checker;
};

using world_ptr = std::shared_ptr<world>;

void on_start(const world_ptr& w, int n, const caf::actor& a, caf::actor_id parent) {
  auto k = w->incs.size();
  w->incs.push_back(incarnation{n, a.id(), parent, std::nullopt, caf::error{}});
  ++w->live;
  w->current[n] = a;
  a->attach_functor([w, k, n, id = a.id()](const caf::error& reason) {
    w->incs[k].end = w->sys->clock().now();
    w->incs[k].reason = reason;
    --w->live;
    if (code_of(reason) == errc::restart_intensity) w->escalated.push_back(n);
    auto i = w->current.find(n);
    if (i != w->current.end() && i->second.id() == id) w->current.erase(i);
  });
}

std::vector<child_spec> make_children(const world_ptr& w, int n);

child_spec make_spec(const world_ptr& w, int n) {
  const auto& nd = w->nodes[n];
  child_spec c;
  c.id = nd.id;
  c.restart = nd.restart;
  if (!nd.supervisor) {
    c.start = [w, n](caf::local_actor& parent) {
      auto a = parent.spawn(test_worker, w->nodes[n].id, false);
      on_start(w, n, a, parent.id());
      return a;
    };
    return c;
  }
  c.shutdown.timeout = shutdown_spec::infinity;
  auto kids = std::make_shared<const std::vector<child_spec>>(make_children(w, n));
  c.start = [w, n, kids](caf::local_actor& parent) -> caf::actor {
    auto s = spawn_supervisor(parent.system(), w->nodes[n].id, w->nodes[n].flags, *kids);
    if (!s) return {};
    on_start(w, n, caf::actor_cast<caf::actor>(*s), parent.id());
    caf::anon_send(*s, watch_children_atom::value, w->checker);
    return caf::actor_cast<caf::actor>(*s);
  };
  return c;
}

std::vector<child_spec> make_children(const world_ptr& w, int n) {
  std::vector<child_spec> out;
  for (int c : w->nodes[n].children) out.push_back(make_spec(w, c));
  return out;
}

caf::behavior pair_checker(caf::event_based_actor*, world_ptr w) {
  return {
      [w](child_up_atom, const std::string& id, const caf::actor&) {
        if (w->open[id]) w->pairing_errors.push_back("two child_up for " + id);
        w->open[id] = true;
      },
      [w](child_down_atom, const std::string& id, const caf::error&) {
        if (!w->open[id]) w->pairing_errors.push_back("child_down without child_up for " + id);
        w->open[id] = false;
      },
      [w](child_stopped_atom, const std::string& id, const caf::error&) {
        if (w->open[id]) w->pairing_errors.push_back("child_stopped while up for " + id);
      },
  };
}

template <class T>
const T& pick(std::mt19937_64& rng, const std::vector<T>& xs) {
  return xs[rng() % xs.size()];
}

/// Builds a random tree: supervisors on levels 0..2 (the first child of the
/// root and of the first mid-level supervisor are supervisors, so the depth
/// is at least 3 supervisors plus workers), 1-3 children each.
std::vector<node> random_tree(std::mt19937_64& rng) {
  std::vector<node> nodes;
  auto add = [&](int parent, bool supervisor, int level, auto& self) -> int {
    auto n = static_cast<int>(nodes.size());
    nodes.push_back(node{});
    auto& nd = nodes.back();
    nd.parent = parent;
    nd.supervisor = supervisor;
    nd.id =
        parent < 0 ? "r" : nodes[parent].id + "." + std::to_string(nodes[parent].children.size());
    if (parent >= 0) nodes[parent].children.push_back(n);
    nd.restart =
        pick(rng, std::vector<restart_type>{restart_type::permanent, restart_type::permanent,
                                            restart_type::transient, restart_type::temporary});
    if (!supervisor) return n;
    supervisor_flags f;
    f.strategy = pick(rng, std::vector<supervision_strategy>{supervision_strategy::one_for_one,
                                                             supervision_strategy::one_for_all,
                                                             supervision_strategy::rest_for_one});
    f.intensity = parent < 0 ? 1 + rng() % 4 : pick(rng, std::vector<uint32_t>{0, 1, 1, 2, 3});
    f.period = pick(rng, std::vector<std::chrono::milliseconds>{100ms, 500ms, 2000ms, 10000ms});
    if (rng() % 2 == 0) {
      f.backoff_min = pick(rng, std::vector<std::chrono::milliseconds>{10ms, 20ms, 50ms});
      f.backoff_max = f.backoff_min * (1 + rng() % 4);
      f.backoff_random_factor = rng() % 2 == 0 ? 0.0 : 0.3;
      f.seed = rng() | 1;
    }
    nodes[n].flags = f;
    auto count = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < count; ++i) {
      bool sub = level < 2 && ((i == 0 && (level == 0 || nodes[parent].children.front() == n)) ||
                               rng() % 2 == 0);
      self(n, sub, level + 1, self);
    }
    return n;
  };
  add(-1, true, 0, add);
  return nodes;
}

/// OTP's rules applied to the tree, to predict which supervisors escalate
/// and which nodes are up once every pending restart is done.
struct model {
  explicit model(const std::vector<node>& xs)
      : nodes(xs), up(xs.size(), true), windows(xs.size()) {}

  void fresh(int n) {
    up[n] = true;
    windows[n].clear();
    for (int c : nodes[n].children) fresh(c);
  }

  void down(int n) {
    up[n] = false;
    for (int c : nodes[n].children) down(c);
  }

  /// Node `n` exited at `now`; appends the supervisors that escalate.
  void exit(int n, bool abnormal, time_point now, std::vector<int>& escalated) {
    down(n);
    auto p = nodes[n].parent;
    if (p < 0) {
      tree_dead = true;
      return;
    }
    auto rt = nodes[n].restart;
    if (!(rt == restart_type::permanent || (rt == restart_type::transient && abnormal))) return;
    const auto& f = nodes[p].flags;
    auto& w = windows[p];
    while (!w.empty() && now - w.front() >= f.period) w.pop_front();
    if (w.size() >= f.intensity) {
      escalated.push_back(p);
      exit(p, true, now, escalated);
      return;
    }
    w.push_back(now);
    const auto& sib = nodes[p].children;
    auto pos = static_cast<size_t>(std::find(sib.begin(), sib.end(), n) - sib.begin());
    size_t from = f.strategy == supervision_strategy::one_for_all ? 0 : pos;
    size_t to = f.strategy == supervision_strategy::one_for_one ? pos + 1 : sib.size();
    for (auto k = from; k < to; ++k) {
      auto c = sib[k];
      if (c != n && nodes[c].restart == restart_type::temporary)
        down(c);
      else
        fresh(c);
    }
  }

  const std::vector<node>& nodes;
  std::vector<bool> up;
  std::vector<std::deque<time_point>> windows;
  bool tree_dead = false;
};

/// Sends get_child to the worker's supervisor, then a ping to the worker.
void request(sim& s, const world_ptr& w, int n) {
  auto k = w->answers.size();
  w->answers.push_back(0);
  w->ok.push_back(false);
  auto sup = caf::actor_cast<supervisor_handle>(w->current.at(w->nodes[n].parent));
  auto id = w->nodes[n].id;
  s.sys().spawn([w, k, sup, id](caf::event_based_actor* self) {
    self->request(sup, caf::infinite, get_child_atom::value, id)
        .then(
            [w, k, self, id](const caf::actor& a) {
              self->request(a, caf::infinite, ping_atom::value)
                  .then(
                      [w, k, id](const std::string& reply) {
                        ++w->answers[k];
                        w->ok[k] = reply == id;
                      },
                      [w, k](caf::error&) { ++w->answers[k]; });
            },
            [w, k](caf::error&) { ++w->answers[k]; });
  });
}

/// Every restart decision of a supervisor instance (an exit of a child that
/// its restart type restarts, not caused by a supervisor stopping it) stays
/// within intensity per period; the (intensity + 1)-th within a period is
/// its last and ends it with restart_intensity at that moment, and an
/// instance ends with restart_intensity only that way.
void check_windows(const world& w) {
  std::map<caf::actor_id, const incarnation*> sups;
  for (const auto& x : w.incs)
    if (w.nodes[x.node].supervisor) sups[x.id] = &x;
  std::map<caf::actor_id, std::vector<time_point>> decisions;
  for (const auto& x : w.incs) {
    if (!x.end || x.parent_id == 0) continue;
    const auto& r = x.reason;
    if (r == caf::exit_reason::user_shutdown || r == caf::exit_reason::kill) continue;
    auto rt = w.nodes[x.node].restart;
    if (rt == restart_type::permanent || (rt == restart_type::transient && r))
      decisions[x.parent_id].push_back(*x.end);
  }
  for (const auto& kv : sups) {
    const auto& sup = *kv.second;
    const auto& f = w.nodes[sup.node].flags;
    auto ts = decisions[kv.first];
    std::sort(ts.begin(), ts.end());
    CAPTURE(w.nodes[sup.node].id, f.intensity, f.period.count(), ts.size());
    bool exceeded = false;
    for (size_t k = 0; k < ts.size(); ++k) {
      size_t in_window = 0;
      for (size_t j = 0; j <= k; ++j)
        if (ts[k] - ts[j] < f.period) ++in_window;
      REQUIRE(in_window <= f.intensity + 1);
      if (in_window == f.intensity + 1) {
        REQUIRE(k + 1 == ts.size());
        REQUIRE(sup.end);
        REQUIRE(*sup.end == ts[k]);
        exceeded = true;
      }
    }
    REQUIRE(exceeded == (code_of(sup.reason) == errc::restart_intensity));
  }
}

void run_seed(sim& s, uint64_t seed) {
  std::mt19937_64 rng{seed};
  auto w = std::make_shared<world>();
  w->sys = &s.sys();
  w->nodes = random_tree(rng);
  auto depth = [&](int n) {
    int d = 0;
    for (; w->nodes[n].parent >= 0; n = w->nodes[n].parent) ++d;
    return d;
  };
  int max_depth = 0;
  for (size_t n = 0; n < w->nodes.size(); ++n)
    max_depth = std::max(max_depth, depth(static_cast<int>(n)));
  REQUIRE(max_depth >= 3);  // root -> supervisor -> supervisor -> worker
  auto checker = s.sys().spawn(pair_checker, w);
  w->checker = caf::actor_cast<child_watcher>(checker);
  auto root = spawn_supervisor(s.sys(), w->nodes[0].id, w->nodes[0].flags, make_children(w, 0));
  REQUIRE(root);
  on_start(w, 0, caf::actor_cast<caf::actor>(*root), 0);
  caf::anon_send(*root, watch_children_atom::value, w->checker);
  s.run();
  model m{w->nodes};
  auto settled = [&] {
    std::set<int> live, expected;
    for (const auto& kv : w->current) live.insert(kv.first);
    for (size_t n = 0; n < w->nodes.size(); ++n)
      if (m.up[n]) expected.insert(static_cast<int>(n));
    REQUIRE(live == expected);
    REQUIRE(w->live == static_cast<int>(live.size()));  // no instance alive outside the tree
  };
  settled();
  std::vector<int> worker_nodes;
  for (size_t n = 0; n < w->nodes.size(); ++n)
    if (!w->nodes[n].supervisor) worker_nodes.push_back(static_cast<int>(n));
  for (int step = 0; step < 40 && !m.tree_dead; ++step) {
    CAPTURE(step);
    auto action = rng() % 20;
    if (action < 12) {
      std::vector<int> targets;
      for (const auto& kv : w->current)
        if (!w->nodes[kv.first].supervisor) targets.push_back(kv.first);
      if (targets.empty()) continue;
      auto n = pick(rng, targets);
      REQUIRE(m.up[n]);  // a live worker must be up in the model too
      auto kind = rng() % 3;
      auto target = w->current.at(n);
      if (kind == 0)
        caf::anon_send(target, crash_atom::value, boom());
      else if (kind == 1)
        caf::anon_send(target, crash_atom::value, caf::error{});
      else
        caf::anon_send(target, throw_atom::value);
      w->escalated.clear();
      s.run();
      std::vector<int> predicted;
      m.exit(n, kind != 1, s.now(), predicted);
      auto observed = w->escalated;
      std::sort(predicted.begin(), predicted.end());
      std::sort(observed.begin(), observed.end());
      CAPTURE(w->nodes[n].id, kind);
      REQUIRE(observed == predicted);
    } else if (action < 17) {
      auto count = 1 + rng() % 3;
      for (size_t i = 0; i < count; ++i) {
        auto n = pick(rng, worker_nodes);
        if (w->current.count(w->nodes[n].parent)) request(s, w, n);
      }
      s.run();
    } else {
      s.advance(
          pick(rng, std::vector<std::chrono::milliseconds>{1ms, 5ms, 50ms, 200ms, 600ms, 1500ms}));
    }
    if (rng() % 4 == 0) {
      // Longer than any backoff: every pending restart is done.
      s.advance(1000ms);
      settled();
      std::vector<int> up_workers;
      for (auto n : worker_nodes)
        if (m.up[n]) up_workers.push_back(n);
      if (!up_workers.empty()) {
        auto before = w->answers.size();
        request(s, w, pick(rng, up_workers));
        s.run();
        REQUIRE(w->answers[before] == 1);
        REQUIRE(w->ok[before]);
      }
    }
  }
  if (m.tree_dead) {
    REQUIRE(w->incs[0].end);
    REQUIRE(code_of(w->incs[0].reason) == errc::restart_intensity);
    REQUIRE(subject_of(w->incs[0].reason) == "r");
  }
  auto orderly = rng() % 4 != 0;
  caf::anon_send_exit(*root, orderly ? caf::exit_reason::user_shutdown : caf::exit_reason::kill);
  s.drain();
  REQUIRE(w->live == 0);  // no orphans
  REQUIRE(w->current.empty());
  for (size_t k = 0; k < w->answers.size(); ++k) {
    CAPTURE(k);
    REQUIRE(w->answers[k] == 1);  // every request answered exactly once
  }
  if (orderly || m.tree_dead) {
    CAPTURE(w->pairing_errors);
    REQUIRE(w->pairing_errors.empty());
    for (const auto& kv : w->open) {
      CAPTURE(kv.first);
      REQUIRE_FALSE(kv.second);
    }
  }
  check_windows(*w);
  caf::anon_send_exit(checker, caf::exit_reason::kill);
  s.drain();
  REQUIRE(s.running() == 0);
}

}  // namespace

TEST_CASE("random supervision trees under random crashes keep OTP's invariants",
          "[supervision][stress]") {
  auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::off);
  uint64_t first = 1;
  uint64_t count = 2000;
  if (const char* x = std::getenv("OPEA_SUPERVISION_SEEDS")) count = std::strtoull(x, nullptr, 10);
  if (const char* x = std::getenv("OPEA_SUPERVISION_SEED")) {
    first = std::strtoull(x, nullptr, 10);
    count = 1;
  }
  sim s;
  for (auto seed = first; seed < first + count; ++seed) {
    INFO("seed " << seed << " (replay: OPEA_SUPERVISION_SEED=" << seed << ")");
    run_seed(s, seed);
  }
  spdlog::set_level(level);
}
