#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <caf/actor_config.hpp>
#include <caf/actor_system.hpp>
#include <caf/behavior.hpp>
#include <caf/error.hpp>
#include <caf/execution_unit.hpp>
#include <caf/infer_handle.hpp>
#include <caf/invoke_message_result.hpp>
#include <caf/local_actor.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/spawn_options.hpp>

#include "monitoring/actor_instruments.hpp"

namespace opea::runtime {

/// The failure reason an actor's exit `err` is counted under: opea-cpp's errc
/// name, CAF's exit_reason or sec name ("kill", "runtime_error" for an
/// exception that escaped a handler, ...), "other" for anything else; ""
/// for an ordinary stop (no error, normal, user_shutdown).
std::string failure_reason(const caf::error& err);

/// An actor of implementation `Base` (caf::event_based_actor, a
/// caf::stateful_actor, a typed one) that feeds its actor_instruments: every
/// message it handles (count and handling time, measured around CAF's
/// `consume`), its mailbox depth (up on `enqueue`, down when a message is
/// handled or dropped with the mailbox), its starts (restarts past the
/// first) and abnormal exits. CAF 0.17 has no telemetry of its own; this is
/// the one place that measures actors. Spawn with spawn_instrumented.
///
/// Threading: `enqueue` runs on the sender's thread (an atomic counter and
/// the shared gauge); the rest on the actor's own.
template <class Base>
class instrumented_actor : public Base {
 public:
  using clock = std::chrono::steady_clock;

  instrumented_actor(caf::actor_config& cfg, monitoring::actor_instruments_ptr ins,
                     caf::actor_config::init_fun_type init)
      : Base(with_init(cfg, std::move(init))), ins_(std::move(ins)) {
    ins_->started();
  }

  ~instrumented_actor() override {
    // Messages enqueued after the mailbox closed were dropped by CAF.
    if (auto left = depth_.exchange(0)) ins_->mailbox_changed(-static_cast<double>(left));
  }

  using Base::consume;
  using Base::enqueue;

  void enqueue(caf::mailbox_element_ptr ptr, caf::execution_unit* eu) override {
    // CAF drops (and bounces) what is sent to a closed mailbox. A send that
    // races with the close is corrected when the actor is destroyed.
    if (!this->mailbox().closed()) {
      depth_.fetch_add(1, std::memory_order_relaxed);
      ins_->mailbox_changed(1);
    }
    Base::enqueue(std::move(ptr), eu);
  }

  caf::invoke_message_result consume(caf::mailbox_element& x) override {
    // The message being handled is out of the mailbox.
    depth_.fetch_sub(1, std::memory_order_relaxed);
    ins_->mailbox_changed(-1);
    auto t0 = clock::now();
    auto res = Base::consume(x);
    if (res == caf::invoke_message_result::skipped) {
      // It stays in the mailbox and is consumed later.
      depth_.fetch_add(1, std::memory_order_relaxed);
      ins_->mailbox_changed(1);
    } else {
      ins_->handled(std::chrono::duration<double>(clock::now() - t0).count());
    }
    return res;
  }

  /// CAF calls it once the actor terminated and its mailbox was closed and
  /// emptied, before it tells monitors and links.
  void on_cleanup(const caf::error& reason) override {
    if (auto why = failure_reason(reason); !why.empty()) ins_->failed(why);
    if (auto left = depth_.exchange(0)) ins_->mailbox_changed(-static_cast<double>(left));
    Base::on_cleanup(reason);
  }

 private:
  static caf::actor_config& with_init(caf::actor_config& cfg,
                                      caf::actor_config::init_fun_type init) {
    cfg.init_fun = std::move(init);
    return cfg;
  }

  monitoring::actor_instruments_ptr ins_;
  std::atomic<int64_t> depth_{0};
};

namespace detail {

/// The implementation type CAF would spawn for the function `F` (its first
/// argument's pointee) and the init function that calls `f(self, xs...)`.
template <class F, class... Ts>
caf::actor_config::init_fun_type instrumented_init(F f, Ts&&... xs) {
  using base = caf::infer_impl_from_fun_t<F>;
  return caf::actor_config::init_fun_type{[f = std::move(f),
                                           args = std::make_tuple(std::forward<Ts>(xs)...)](
                                              caf::local_actor* self) mutable -> caf::behavior {
    using result = decltype(std::apply(
        f, std::tuple_cat(std::make_tuple(static_cast<base*>(self)), std::move(args))));
    if constexpr (std::is_void_v<result>) {
      std::apply(f, std::tuple_cat(std::make_tuple(static_cast<base*>(self)), std::move(args)));
      return caf::behavior{};
    } else if constexpr (std::is_same_v<std::decay_t<result>, caf::behavior>) {
      return std::apply(f,
                        std::tuple_cat(std::make_tuple(static_cast<base*>(self)), std::move(args)));
    } else {  // a typed behavior
      auto res =
          std::apply(f, std::tuple_cat(std::make_tuple(static_cast<base*>(self)), std::move(args)));
      return std::move(res.unbox());
    }
  }};
}

}  // namespace detail

/// Spawns the function-based actor `f(self, xs...)` as `sys.spawn(f, xs...)`
/// would, measured by `ins` (see instrumented_actor); plainly when `ins` is
/// null. Returns the same handle type.
template <caf::spawn_options Os = caf::no_spawn_options, class F, class... Ts>
caf::infer_handle_from_fun_t<F> spawn_instrumented(caf::actor_system& sys,
                                                   const monitoring::actor_instruments_ptr& ins,
                                                   F f, Ts&&... xs) {
  if (!ins) return sys.spawn<Os>(std::move(f), std::forward<Ts>(xs)...);
  using impl = instrumented_actor<caf::infer_impl_from_fun_t<F>>;
  return sys.spawn<impl, Os>(ins, detail::instrumented_init(std::move(f), std::forward<Ts>(xs)...));
}

/// The same from inside an actor (`parent->spawn<Os>(f, xs...)`), e.g. with
/// caf::monitored.
template <caf::spawn_options Os = caf::no_spawn_options, class F, class... Ts>
caf::infer_handle_from_fun_t<F> spawn_instrumented(caf::local_actor& parent,
                                                   const monitoring::actor_instruments_ptr& ins,
                                                   F f, Ts&&... xs) {
  if (!ins) return parent.spawn<Os>(std::move(f), std::forward<Ts>(xs)...);
  using impl = instrumented_actor<caf::infer_impl_from_fun_t<F>>;
  return parent.spawn<impl, Os>(ins,
                                detail::instrumented_init(std::move(f), std::forward<Ts>(xs)...));
}

}  // namespace opea::runtime
