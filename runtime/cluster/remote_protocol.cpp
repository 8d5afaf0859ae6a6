#include "runtime/cluster/remote_protocol.hpp"

#include <chrono>

#include "runtime/errors.hpp"
#include "runtime/message/envelope.hpp"

namespace opea::runtime {

int64_t unix_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

v1::Envelope make_call_envelope(const nlohmann::json& input, const request_context& ctx,
                                const std::string& service) {
  v1::Envelope env;
  env.set_request_id(ctx.request_id);
  env.mutable_trace()->set_traceparent(ctx.traceparent);
  env.mutable_trace()->set_tracestate(ctx.tracestate);
  if (ctx.deadline != clock_type::time_point::max()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.remaining()).count();
    env.set_deadline_budget_ms(left);
    env.set_deadline_unix_ms(unix_now_ms() + left);  // for nodes older than the budget field
  }
  if (!ctx.principal.empty()) env.mutable_caller()->set_subject(ctx.principal);
  env.set_service(service);
  env.set_json_text(input.dump());
  return env;
}

caf::expected<received_call> decode_call(const std::string& bytes) {
  received_call call;
  if (!call.envelope.ParseFromString(bytes))
    return make_error(errc::bad_request, "opea.v1.Envelope",
                      "the call's bytes are not a valid envelope");
  auto input = payload_json(call.envelope);
  if (!input) return std::move(input.error());
  call.input = std::move(*input);
  const auto& env = call.envelope;
  call.ctx.request_id = env.request_id();
  call.ctx.traceparent = env.trace().traceparent();
  call.ctx.tracestate = env.trace().tracestate();
  call.ctx.principal = env.caller().subject();
  if (env.has_deadline_budget_ms()) {
    auto left = std::chrono::milliseconds{std::max<int64_t>(env.deadline_budget_ms(), 0)};
    call.ctx.deadline = clock_type::now() + left;
  } else if (env.deadline_unix_ms() != 0) {
    auto left = std::chrono::milliseconds{env.deadline_unix_ms() - unix_now_ms()};
    call.ctx.deadline = clock_type::now() + std::max(left, std::chrono::milliseconds{0});
  }
  call.envelope.clear_payload();
  return call;
}

std::string encode_reply(v1::Envelope&& request, const nlohmann::json& output) {
  request.set_json_text(output.dump());
  return request.SerializeAsString();
}

caf::expected<nlohmann::json> decode_reply(const std::string& bytes, const std::string& service) {
  v1::Envelope env;
  if (!env.ParseFromString(bytes))
    return make_error(errc::bad_response, service, "the reply is not a valid envelope");
  auto out = payload_json(env);
  if (!out) return make_error(errc::bad_response, service, detail_of(out.error()));
  return out;
}

}  // namespace opea::runtime
