#include "runtime/service/reply_later.hpp"

namespace opea::runtime {

reply_later::reply_later(caf::local_actor* self)
    : requester_(self->current_sender()), id_(self->take_current_message_id()) {}

void reply_later::deliver(caf::message msg) const {
  if (requester_) requester_->enqueue(nullptr, id_.response_id(), std::move(msg), nullptr);
}

}  // namespace opea::runtime
