#pragma once

#include <memory>

#include <nlohmann/json_fwd.hpp>

/// Forward declarations of `runtime/service`'s main types and their shared
/// handles, for headers that only name them; include the type's own header
/// where it is used.

namespace opea::runtime {

struct micro_service;
struct service_adapter;
class service_catalog;
struct request_context;
class cancellation;
class stream_sink;
struct url;

using json_ptr = std::shared_ptr<const nlohmann::json>;
using request_context_ptr = std::shared_ptr<const request_context>;
using cancellation_ptr = std::shared_ptr<cancellation>;
using stream_sink_ptr = std::shared_ptr<stream_sink>;

}  // namespace opea::runtime
