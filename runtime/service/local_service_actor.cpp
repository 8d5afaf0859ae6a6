#include "runtime/service/local_service_actor.hpp"

#include <caf/all.hpp>

#include "runtime/errors.hpp"

namespace opea::runtime {

service_actor::behavior_type local_service_actor(service_actor::pointer self, std::string name,
                                                 service_handler handler) {
  return {
      [self, name, handler](invoke_atom, const json_ptr& input,
                            const request_context_ptr& ctx) -> caf::result<json_ptr> {
        std::string crash;
        try {
          auto out = handler(*input, *ctx);
          if (!out) {
            const auto& err = out.error();
            if (err.category() == error_category) return err;
            return make_error(errc::service_failed, name, describe(err));
          }
          return json_ptr{std::make_shared<const json>(std::move(*out))};
        } catch (const std::exception& e) {
          crash = e.what();
        } catch (...) {
          crash = "unknown exception";
        }
        auto err = make_error(errc::service_crashed, name, crash);
        self->quit(err);
        return err;
      },
  };
}

caf::behavior guarded_service_actor(caf::event_based_actor* self, std::string name,
                                    actor_body body) {
  self->set_exception_handler([name](caf::scheduled_actor* me, std::exception_ptr& eptr) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    auto err = make_error(errc::service_crashed, name, what);
    // Answer the request that hit the crash now rather than let it wait for
    // its deadline; the caller must not retry it (it did run).
    if (me->current_mailbox_element() != nullptr && me->current_message_id().is_request()) {
      auto rp = me->make_response_promise();
      rp.deliver(err);
    }
    return err;
  });
  return body(self);
}

}  // namespace opea::runtime
