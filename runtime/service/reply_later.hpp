#pragma once

#include <utility>

#include <caf/actor_control_block.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/local_actor.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>
#include <caf/message_id.hpp>

namespace opea::runtime {

/// The one way an actor answers a request from a foreign thread (an HTTP
/// client's callback, a backend's worker): made in the request's handler, it
/// holds the requester and the request's id, and `deliver` enqueues the
/// response message straight to the requester, as `anon_send` does (no
/// execution unit), so it is safe from any thread and never touches the
/// actor's state; the call is answered even if the actor died meanwhile.
///
///     runtime::reply_later reply{self};
///     backend->run(input, [reply](caf::expected<json_ptr> res) { reply.deliver(std::move(res));
///     }); return caf::delegated<json_ptr>{};
///
/// Thread-safe: copies may travel to any thread; deliver once (a second
/// answer to the same request is dropped by the requester). A reply_later
/// never delivered leaves the requester to its own timeout.
class reply_later {
 public:
  /// Takes over the current request of `self` (its sender and message id):
  /// the handler must then return `caf::delegated<T>{}`.
  explicit reply_later(caf::local_actor* self);

  /// Answers with `msg` (the response's content, e.g. a value or an error).
  void deliver(caf::message msg) const;

  /// Answers with the value, or the error.
  template <class T>
  void deliver(caf::expected<T> res) const {
    if (res)
      deliver(caf::make_message(std::move(*res)));
    else
      deliver(caf::make_message(std::move(res.error())));
  }

 private:
  caf::strong_actor_ptr requester_;
  caf::message_id id_;
};

}  // namespace opea::runtime
