#include "runtime/service/messages.hpp"

#include <spdlog/spdlog.h>

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
    spdlog::error("a megaservice request's completion callback threw: {}", e.what());
  } catch (...) {
    spdlog::error("a megaservice request's completion callback threw a non-exception");
  }
}

}  // namespace opea::runtime
