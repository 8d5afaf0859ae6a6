#include "runtime/cluster/service_endpoint.hpp"

#include <map>
#include <mutex>
#include <utility>

#include <caf/all.hpp>

#include "runtime/cluster/remote_protocol.hpp"
#include "runtime/errors.hpp"
#include "runtime/service/messages.hpp"

namespace opea::runtime {

namespace {

/// Sends each piece to the caller's proxy, in order.
class remote_sink final : public stream_sink {
 public:
  remote_sink(remote_caller_actor reply_to, uint64_t call)
      : reply_to_(std::move(reply_to)), call_(call) {}
  void write(std::string piece) override {
    if (!cancelled()) caf::anon_send(reply_to_, rpiece_atom::value, call_, std::move(piece));
  }

 private:
  remote_caller_actor reply_to_;
  uint64_t call_;
};

/// The calls in flight, to cancel them (rcancel_atom); touched by the
/// endpoint and by the completion callbacks (CAF threads of the host), so
/// `mtx` guards it.
struct call_table {
  std::mutex mtx;
  std::map<std::pair<caf::actor_addr, uint64_t>, std::weak_ptr<cancellation>> calls;
};

void fail(const remote_caller_actor& reply_to, uint64_t call, const caf::error& err) {
  caf::anon_send(reply_to, rfail_atom::value, call, static_cast<uint8_t>(code_of(err)),
                 subject_of(err), code_of(err) == errc{} ? describe(err) : detail_of(err));
}

}  // namespace

endpoint_actor::behavior_type service_endpoint(endpoint_actor::pointer self, std::string service,
                                               std::shared_ptr<const megaservice> host,
                                               monitoring::metrics_registry* metrics) {
  auto calls = std::make_shared<call_table>();
  std::shared_ptr<monitoring::megaservice_instruments> ins;
  if (metrics != nullptr)
    ins = std::make_shared<monitoring::megaservice_instruments>(*metrics, host->name());
  return {
      [self, service, host, calls, ins](rinvoke_atom, uint64_t call, const std::string& bytes,
                                        bool stream) {
        // The caller is the sender (a proxy, on another node); a call
        // without one cannot be answered.
        auto reply_to = caf::actor_cast<remote_caller_actor>(self->current_sender());
        if (!reply_to) return;
        auto received = decode_call(bytes);
        if (!received) {
          fail(reply_to, call, received.error());
          return;
        }
        if (!received->envelope.service().empty() && received->envelope.service() != service) {
          fail(reply_to, call,
               make_error(errc::bad_request, "opea.v1.Envelope.service",
                          "this endpoint serves '" + service + "', not '" +
                              received->envelope.service() + "'"));
          return;
        }
        auto key = std::make_pair(reply_to.address(), call);
        // The caller may cancel (its client left): a stream's sink is its
        // cancellation, other calls get one of their own.
        cancellation_ptr cancel;
        if (stream) {
          auto sink = std::make_shared<remote_sink>(reply_to, call);
          received->ctx.sink = sink;
          cancel = sink;
        } else {
          cancel = std::make_shared<cancellation>();
        }
        received->ctx.cancel = cancel;
        {
          std::lock_guard<std::mutex> guard{calls->mtx};
          calls->calls[key] = cancel;
        }
        auto started = clock_type::now();
        if (ins) ins->pending->Increment();
        // The remote hop's server side: a child of the caller's call span;
        // the host's own call span is a child of this one.
        std::shared_ptr<monitoring::span> span;
        if (const auto* tracer = host->options().tracer; tracer != nullptr && tracer->enabled()) {
          auto parent =
              monitoring::span_context::parse(received->ctx.traceparent, received->ctx.tracestate);
          span = std::make_shared<monitoring::span>(
              tracer->start_span(service, monitoring::span_kind::server,
                                 parent ? *parent : monitoring::span_context{}));
          if (span->context().valid()) received->ctx.traceparent = span->traceparent();
          if (span->is_recording()) {
            span->set_attribute("opea.service", service);
            span->set_attribute("opea.megaservice", host->name());
            if (!received->ctx.request_id.empty())
              span->set_attribute("opea.request_id", received->ctx.request_id);
          }
        }
        // Called once: the envelope is answered with the output in it.
        auto done = [reply_to, call, envelope = std::move(received->envelope), calls, key, ins,
                     started, span](caf::expected<json_ptr> res) mutable {
          {
            std::lock_guard<std::mutex> guard{calls->mtx};
            calls->calls.erase(key);
          }
          if (span && span->is_recording()) {
            if (!res) {
              span->set_attribute("error.type", std::string{to_string(code_of(res.error()))});
              span->set_status(monitoring::status_code::error, describe(res.error()));
            }
            span->end();
          }
          if (ins) {
            ins->pending->Decrement();
            ins->duration->Observe(
                std::chrono::duration<double>(clock_type::now() - started).count());
            ins->count_request(res ? 200 : http_status_of(res.error()));
          }
          if (!res) {
            fail(reply_to, call, res.error());
            return;
          }
          caf::anon_send(reply_to, rreply_atom::value, call,
                         encode_reply(std::move(envelope), **res));
        };
        // Through the host's proxy of the service, which answers `done`
        // itself: the host's own deadline, bulkhead, breaker and restarts
        // apply to remote callers too.
        host->async_call(service, std::move(received->input), std::move(received->ctx),
                         std::move(done));
      },
      [self, calls](rcancel_atom, uint64_t call) {
        cancellation_ptr cancel;
        {
          std::lock_guard<std::mutex> guard{calls->mtx};
          auto it = calls->calls.find(
              std::make_pair(caf::actor_cast<caf::actor_addr>(self->current_sender()), call));
          if (it == calls->calls.end()) return;
          cancel = it->second.lock();
        }
        if (cancel) cancel->cancel();
      },
  };
}

}  // namespace opea::runtime
