#include "runtime/service/messages.hpp"

#include "monitoring/log.hpp"
#include "runtime/errors.hpp"

namespace opea::runtime {

flow_job::~flow_job() {
  if (done)
    complete(make_error(errc::service_unavailable,
                        megaservice.empty() ? std::string{"megaservice"} : megaservice,
                        "the megaservice stopped before the request ran"));
}

void flow_job::complete(caf::expected<flow_result> result) {
  auto callback = std::exchange(done, nullptr);
  if (!callback) return;
  try {
    callback(std::move(result));
  } catch (const std::exception& e) {
    monitoring::log(monitoring::log_component::megaservice)
        .error("a megaservice request's completion callback threw: {} request_id={} trace_id={}",
               e.what(), ctx ? ctx->request_id : "-",
               monitoring::trace_id_of(ctx ? ctx->traceparent : ""));
  } catch (...) {
    monitoring::log(monitoring::log_component::megaservice)
        .error(
            "a megaservice request's completion callback threw a non-exception request_id={} "
            "trace_id={}",
            ctx ? ctx->request_id : "-", monitoring::trace_id_of(ctx ? ctx->traceparent : ""));
  }
}

}  // namespace opea::runtime
