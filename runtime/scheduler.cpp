#include "runtime/scheduler.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <caf/atom.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/scheduler/coordinator.hpp>

#include "monitoring/log.hpp"

namespace opea::runtime {

namespace {

/// The event loop of the worker running on this thread (null elsewhere).
thread_local boost::asio::io_context* this_thread_io = nullptr;

/// CAF's work-sharing policy with two changes, both aimed at the chains of
/// messages one request makes (executor -> proxy -> service -> proxy ->
/// executor), where each message would otherwise wake a sleeping worker:
///
/// - A message sent from a worker to an idle actor goes to that worker's
///   `next` slot (the "LIFO slot" of Go's and Tokio's schedulers) when the
///   sender has nothing else queued (or is not an actor: a BASP worker that
///   deserialized one message from another node and hands it over): the
///   worker runs it as soon as the sender's turn ends, on a warm cache,
///   without locking the shared queue or waking another thread. A second
///   such message displaces the first to the shared queue. A sender with
///   more messages in its mailbox keeps running, so its sends go to the
///   shared queue.
/// - An idle worker polls the shared queue for `spin_before_sleep` and,
///   before it sleeps, takes a job left in another worker's slot; a
///   sleeping worker wakes every 2 ms (backing off to 10 ms while it finds
///   nothing) to do the same, which bounds how long a job can wait behind
///   a sender whose handler keeps running after it sent.
/// - At most `max_slot_streak` jobs in a row come from a worker's slot.
/// - The shared queue is CAF's, minus two costs seen under load: a spinning
///   worker watches an atomic count and try-locks the queue's mutex only
///   when the count says there is a job (each try made an enqueueing
///   thread that found the mutex taken sleep on its futex), and an enqueue
///   notifies the condition variable only when a worker sleeps on it,
///   after unlocking (no list node allocated per job either: a deque).
/// - With event loops (`loops`), worker i runs loops[i] where it would
///   otherwise wait: spinning, it polls it; asleep, it blocks in it, and an
///   enqueue wakes it by posting to it. An I/O handler's sends go to its
///   worker's slot, so an HTTP request's parse, its hops and its reply run
///   on one thread when that thread has nothing else to do. Any idle worker
///   serves a loop no thread has been inside for `io_takeover_after`.
class spinning_sharing : public caf::policy::work_sharing {
 public:
  /// One event loop and who attends it.
  struct io_loop {
    explicit io_loop(boost::asio::io_context* loop) : io(loop), work(loop->get_executor()) {}
    boost::asio::io_context* io;
    /// Keeps `io` from running out of work (run_one_for would then return
    /// at once) while the workers drive it.
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
    /// Threads inside `io` right now, and when one last left it (steady
    /// clock, ns).
    std::atomic<int> inside{0};
    std::atomic<int64_t> left_at{0};
    /// Threads blocked in `io`; guarded by the coordinator's `lock`.
    size_t sleepers = 0;
  };

  struct coordinator_data {
    explicit coordinator_data(caf::scheduler::abstract_coordinator*) {}
    /// The event loops the workers run between jobs: worker i runs loops[i];
    /// workers past the last loop run none (they take one over only while it
    /// is unattended, see `unattended_loop`). Set before the scheduler
    /// starts; the loops outlive it.
    std::vector<std::unique_ptr<io_loop>> loops;
    std::mutex lock;
    std::condition_variable cv;
    /// Guarded by `lock`.
    std::deque<caf::resumable*> queue;
    /// Workers waiting on `cv`; guarded by `lock`.
    size_t sleepers = 0;
    /// Workers blocked in a loop (woken by a post to it); guarded by `lock`.
    size_t io_sleepers = 0;
    /// queue.size(), written under `lock`, read without it.
    std::atomic<size_t> size{0};
  };

  template <class Coordinator>
  void enqueue(Coordinator* self, caf::resumable* job) {
    auto& data = d(self);
    bool wake_cv;
    boost::asio::io_context* wake_io = nullptr;
    {
      std::lock_guard<std::mutex> guard{data.lock};
      data.queue.push_back(job);
      data.size.store(data.queue.size(), std::memory_order_release);
      // A worker that does not run an event loop first: it has nothing
      // else to do.
      wake_cv = data.sleepers > 0;
      if (!wake_cv && data.io_sleepers > 0)
        for (auto& loop : data.loops)
          if (loop->sleepers > 0) {
            wake_io = loop->io;
            break;
          }
    }
    if (wake_cv)
      data.cv.notify_one();
    else if (wake_io != nullptr)
      boost::asio::post(*wake_io, [] {});
  }

  template <class Worker>
  void external_enqueue(Worker* self, caf::resumable* job) {
    enqueue(self->parent(), job);
  }

  template <class Worker>
  void resume_job_later(Worker* self, caf::resumable* job) {
    enqueue(self->parent(), job);
  }

  template <class Coordinator, class UnaryFunction>
  void foreach_central_resumable(Coordinator* self, UnaryFunction f) {
    auto& data = d(self);
    std::lock_guard<std::mutex> guard{data.lock};
    while (auto* job = pop_shared(data)) f(job);
  }

  struct worker_data {
    explicit worker_data(caf::scheduler::abstract_coordinator*) {}
    // Workers are built from a copy of one initial value.
    worker_data(const worker_data&) {}
    std::atomic<caf::resumable*> next{nullptr};
  };

  /// A job enqueued without an execution unit (`anon_send`, a response
  /// promise delivered outside a handler) from one of this scheduler's
  /// workers is that worker's own send.
  template <class Coordinator>
  void central_enqueue(Coordinator* self, caf::resumable* job) {
    if (current_coordinator == self) {
      static_cast<typename Coordinator::worker_type*>(current_worker)->exec_later(job);
      return;
    }
    enqueue(self, job);
  }

  template <class Worker>
  void before_resume(Worker* self, caf::resumable* job) {
    current_coordinator = self->parent();
    current_worker = self;
    resuming_ = true;
    running_ = dynamic_cast<caf::scheduled_actor*>(job);
  }

  template <class Worker>
  void after_resume(Worker*, caf::resumable*) {
    resuming_ = false;
    running_ = nullptr;
  }

  template <class Worker>
  void internal_enqueue(Worker* self, caf::resumable* job) {
    if (!sender_idle_after_this()) {
      enqueue(self->parent(), job);
      return;
    }
    if (auto* old = d(self).next.exchange(job, std::memory_order_acq_rel))
      enqueue(self->parent(), old);
  }

  template <class Worker>
  caf::resumable* dequeue(Worker* self) {
    auto* parent = self->parent();
    auto& data = d(parent);
    current_coordinator = parent;
    current_worker = self;
    io_loop* own = self->id() < data.loops.size() ? data.loops[self->id()].get() : nullptr;
    this_thread_io = own != nullptr ? own->io : nullptr;
    if (own != nullptr && ++jobs_since_io_ >= max_jobs_between_io) {
      // A busy worker still serves I/O now and then, so that a node whose
      // queue never empties keeps accepting and answering.
      jobs_since_io_ = 0;
      run_io(*own, [&] { return own->io->poll(); });
    }
    if (auto* job = d(self).next.exchange(nullptr, std::memory_order_acq_rel)) {
      if (++slot_streak_ <= max_slot_streak) return job;
      // Actors that keep sending to each other must not starve the shared
      // queue (with one worker nothing else would run it): after a streak,
      // the slot's job waits its turn there.
      enqueue(parent, job);
    }
    slot_streak_ = 0;
    auto until = std::chrono::steady_clock::now() + spin_before_sleep;
    for (uint32_t i = 1;; ++i) {
      // Only try the lock, and only when there is something to take: a
      // poller blocking on the mutex would sleep in the kernel, and one
      // locking it in a loop would make enqueuers sleep.
      if (data.size.load(std::memory_order_acquire) != 0) {
        std::unique_lock<std::mutex> guard{data.lock, std::try_to_lock};
        if (guard.owns_lock())
          if (auto* job = pop_shared(data)) return job;
      }
      if (own != nullptr && i % 8 == 1) {
        // Ready I/O handlers run here; what they send lands in the slot.
        if (run_io(*own, [&] { return own->io->poll(); }) > 0)
          if (auto* job = d(self).next.exchange(nullptr, std::memory_order_acq_rel)) return job;
      }
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if (i % 64 == 0 && std::chrono::steady_clock::now() >= until) break;
    }
    // Asleep, a worker wakes to look at the other workers' slots: every
    // 2 ms at first, backing off to every 10 ms while it finds nothing (an
    // idle node's workers wake about 100 times a second, as CAF's own
    // stealing policy does).
    for (auto wait = slot_rescue_min;; wait = std::min(wait * 2, slot_rescue_max)) {
      if (auto* job = take_other_slot(self)) return job;
      if (auto* loop = unattended_loop(data, own)) {
        // A loop's worker is busy with a long job: serve its loop
        // meanwhile, so that a slow service never stalls the gateway.
        size_t ran = 0;
        if (auto* job = sleep_in_io(self, data, *loop, io_takeover_after, ran)) return job;
        if (ran > 0) wait = slot_rescue_min / 2;
        continue;
      }
      if (own == nullptr) {
        std::unique_lock<std::mutex> guard{data.lock};
        ++data.sleepers;
        // While no thread is inside the event loop, look at it again soon
        // enough to take it over (an idle node's loop has its worker inside).
        auto nap = any_loop_left(data)
                       ? std::min(wait, std::chrono::milliseconds{io_takeover_after * 2})
                       : wait;
        bool got = data.cv.wait_for(guard, nap, [&] { return !data.queue.empty(); });
        --data.sleepers;
        if (got) return pop_shared(data);
        continue;
      }
      size_t ran = 0;
      if (auto* job = sleep_in_io(self, data, *own, wait, ran)) return job;
      if (ran > 0) wait = slot_rescue_min / 2;
    }
  }

  template <class Worker, class UnaryFunction>
  void foreach_resumable(Worker* self, UnaryFunction f) {
    if (auto* job = d(self).next.exchange(nullptr, std::memory_order_acq_rel)) f(job);
  }

 private:
  /// Jobs a worker runs from its slot in a row before it serves the shared
  /// queue (a request's chain through ten services is 41 messages; a limit
  /// of 16 cost it about 1 us per hop at one request in flight).
  static constexpr uint32_t max_slot_streak = 64;

  /// Jobs a worker runs at most before it polls the event loop, even with
  /// more jobs waiting.
  static constexpr uint32_t max_jobs_between_io = 32;

  /// How long the event loop may go unattended (its workers busy with jobs)
  /// before a worker that does not run it takes it over; such a worker, when
  /// asleep, looks every 2 * this at most.
  static constexpr std::chrono::milliseconds io_takeover_after{1};

  /// How often a sleeping worker looks for a job stuck in a busy worker's
  /// slot: at first, and at most.
  static constexpr std::chrono::milliseconds slot_rescue_min{2};
  static constexpr std::chrono::milliseconds slot_rescue_max{10};

  /// Whether the job running on this worker ends when the current handler
  /// returns: an actor with no further messages, or a job that is not an
  /// actor (a BASP worker that deserialized one incoming message and hands
  /// it to its receiver).
  bool sender_idle_after_this() const {
    return in_io_ || (resuming_ && (running_ == nullptr || running_->mailbox().empty()));
  }

  /// The shared queue's first job (the caller holds its lock), or null.
  static caf::resumable* pop_shared(coordinator_data& data) {
    if (data.queue.empty()) return nullptr;
    auto* job = data.queue.front();
    data.queue.pop_front();
    data.size.store(data.queue.size(), std::memory_order_release);
    return job;
  }

  /// Blocks in the event loop until an I/O event, an enqueue's wake-up
  /// post or `wait` passed, as a sleeper that an enqueue wakes; then returns
  /// the job a handler left in the slot or the shared queue's first, or null.
  /// `ran`: how many handlers ran.
  template <class Worker>
  caf::resumable* sleep_in_io(Worker* self, coordinator_data& data, io_loop& loop,
                              std::chrono::milliseconds wait, size_t& ran) {
    {
      std::lock_guard<std::mutex> guard{data.lock};
      if (auto* job = pop_shared(data)) return job;
      ++data.io_sleepers;
      ++loop.sleepers;
    }
    ran = run_io(loop, [&] { return loop.io->run_one_for(wait); });
    {
      std::lock_guard<std::mutex> guard{data.lock};
      --data.io_sleepers;
      --loop.sleepers;
    }
    if (auto* job = d(self).next.exchange(nullptr, std::memory_order_acq_rel)) return job;
    std::lock_guard<std::mutex> guard{data.lock};
    return pop_shared(data);
  }

  /// Runs `f` (a poll of the event loop) as an I/O handler context; an
  /// exception that escapes a handler is logged, not thrown into CAF.
  template <class F>
  size_t run_io(io_loop& loop, F f) {
    in_io_ = true;
    jobs_since_io_ = 0;
    loop.inside.fetch_add(1, std::memory_order_relaxed);
    size_t n = 0;
    try {
      n = f();
    } catch (const std::exception& e) {
      monitoring::log(monitoring::log_component::scheduler)
          .error("scheduler: exception escaped an I/O handler: {}", e.what());
      n = 1;
    } catch (...) {
      monitoring::log(monitoring::log_component::scheduler)
          .error("scheduler: exception escaped an I/O handler");
      n = 1;
    }
    loop.left_at.store(now_ns(), std::memory_order_relaxed);
    loop.inside.fetch_sub(1, std::memory_order_release);
    in_io_ = false;
    return n;
  }

  static int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  /// A loop other than `own` that no thread has been inside for
  /// `io_takeover_after` (its worker runs a job), or null.
  static io_loop* unattended_loop(coordinator_data& data, io_loop* own) {
    for (auto& loop : data.loops) {
      if (loop.get() == own || loop->inside.load(std::memory_order_acquire) > 0) continue;
      auto idle = now_ns() - loop->left_at.load(std::memory_order_relaxed);
      if (idle > std::chrono::nanoseconds{io_takeover_after}.count()) return loop.get();
    }
    return nullptr;
  }

  /// Whether some loop has no thread inside it right now.
  static bool any_loop_left(coordinator_data& data) {
    for (auto& loop : data.loops)
      if (loop->inside.load(std::memory_order_acquire) == 0) return true;
    return false;
  }

  template <class Worker>
  caf::resumable* take_other_slot(Worker* self) {
    auto* parent = self->parent();
    for (size_t w = 0; w < parent->num_workers(); ++w) {
      auto* other = parent->worker_by_id(w);
      if (other == self) continue;
      if (d(other).next.load(std::memory_order_relaxed) == nullptr) continue;
      if (auto* job = d(other).next.exchange(nullptr, std::memory_order_acq_rel)) return job;
    }
    return nullptr;
  }

  /// Whether this worker is running a job, and the actor it is running
  /// (null between resumes, or when the job is not an actor).
  bool resuming_ = false;
  caf::scheduled_actor* running_ = nullptr;
  /// Whether this worker runs an I/O handler (whose sends are the handler's
  /// only work, as an idle sender's are).
  bool in_io_ = false;
  /// Jobs this worker dequeued since it last ran the event loop.
  uint32_t jobs_since_io_ = 0;
  uint32_t slot_streak_ = 0;

  /// The worker running on this thread, if it is one of a `spinning`
  /// scheduler's.
  static inline thread_local void* current_coordinator = nullptr;
  static inline thread_local void* current_worker = nullptr;
};

}  // namespace

std::string_view to_string(scheduler_policy policy) {
  return scheduler_policy_names.at(static_cast<size_t>(policy));
}

std::optional<scheduler_policy> parse_scheduler_policy(std::string_view name) {
  for (size_t i = 0; i < scheduler_policy_names.size(); ++i)
    if (scheduler_policy_names[i] == name) return static_cast<scheduler_policy>(i);
  return std::nullopt;
}

boost::asio::io_context* current_io() {
  return this_thread_io;
}

void configure_scheduler(caf::actor_system_config& cfg, scheduler_policy policy,
                         std::size_t max_threads, std::vector<boost::asio::io_context*> loops) {
  if (max_threads > 0) cfg.set("scheduler.max-threads", max_threads);
  switch (policy) {
    case scheduler_policy::sharing:
      cfg.set("scheduler.policy", caf::atom("sharing"));
      break;
    case scheduler_policy::stealing:
      cfg.set("scheduler.policy", caf::atom("stealing"));
      break;
    case scheduler_policy::spinning:
      // A scheduler module loaded by the user replaces CAF's choice.
      using coordinator = caf::scheduler::coordinator<spinning_sharing>;
      cfg.module_factories.push_back([loops](caf::actor_system& sys) -> caf::actor_system::module* {
        auto* result = new coordinator(sys);
        for (auto* io : loops)
          result->data().loops.push_back(std::make_unique<spinning_sharing::io_loop>(io));
        return result;
      });
      break;
  }
}

bool drives_io(scheduler_policy policy) {
  return policy == scheduler_policy::spinning;
}

}  // namespace opea::runtime
