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
  remote_sink(caf::actor reply_to, uint64_t call) : reply_to_(std::move(reply_to)), call_(call) {}
  void write(std::string piece) override {
    if (!cancelled()) caf::anon_send(reply_to_, rpiece_atom::value, call_, std::move(piece));
  }

 private:
  caf::actor reply_to_;
  uint64_t call_;
};

/// The streams in flight, to cancel them; touched by the endpoint and by the
/// completion callbacks (CAF threads of the host megaservice).
struct stream_table {
  std::mutex mtx;
  std::map<std::pair<caf::actor_addr, uint64_t>, std::weak_ptr<stream_sink>> sinks;
};

void fail(const caf::actor& reply_to, uint64_t call, const caf::error& err) {
  caf::anon_send(reply_to, rfail_atom::value, call, static_cast<uint8_t>(code_of(err)),
                 subject_of(err), code_of(err) == errc{} ? describe(err) : detail_of(err));
}

}  // namespace

caf::behavior service_endpoint(caf::event_based_actor* self, std::string service,
                               std::shared_ptr<const megaservice> host,
                               monitoring::metrics_registry* metrics) {
  auto streams = std::make_shared<stream_table>();
  std::shared_ptr<monitoring::megaservice_instruments> ins;
  if (metrics != nullptr)
    ins = std::make_shared<monitoring::megaservice_instruments>(*metrics, host->name());
  return {
      [self, service, host, streams, ins](rinvoke_atom, uint64_t call, const std::string& bytes,
                                          bool stream, const caf::actor& reply_to) {
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
        if (stream) {
          auto sink = std::make_shared<remote_sink>(reply_to, call);
          received->ctx.sink = sink;
          std::lock_guard<std::mutex> guard{streams->mtx};
          streams->sinks[key] = sink;
        }
        auto envelope = std::make_shared<v1::Envelope>(std::move(received->envelope));
        auto finish = [reply_to, call, envelope, streams, stream,
                       key](caf::expected<json_ptr> res) {
          if (stream) {
            std::lock_guard<std::mutex> guard{streams->mtx};
            streams->sinks.erase(key);
          }
          if (!res) {
            fail(reply_to, call, res.error());
            return;
          }
          caf::anon_send(reply_to, rreply_atom::value, call, encode_reply(*envelope, **res));
        };
        auto input = std::make_shared<const json>(std::move(received->input));
        auto ctx = std::make_shared<const request_context>(std::move(received->ctx));
        // Through a flow of the host: waits for a restarting service.
        auto via_flow = [host, input, ctx, finish] {
          host->async_schedule(*input, *ctx, [finish](caf::expected<flow_result> res) {
            if (!res)
              finish(std::move(res.error()));
            else
              finish(res->output);
          });
        };
        auto actor = host->service_actor(service);
        if (!actor) {
          via_flow();
          return;
        }
        auto started = clock_type::now();
        if (ins) ins->pending->Increment();
        auto done = [ins, started, finish](caf::expected<json_ptr> res) {
          if (ins) {
            ins->pending->Decrement();
            ins->duration->Observe(
                std::chrono::duration<double>(clock_type::now() - started).count());
            ins->count_request(res ? 200 : http_status_of(res.error()));
          }
          finish(std::move(res));
        };
        self->request(actor, caf::infinite, invoke_atom::value, json_ptr{input},
                      request_context_ptr{ctx})
            .then([done](json_ptr out) { done(std::move(out)); },
                  [done, via_flow, ins](caf::error& err) {
                    if (err == caf::sec::request_receiver_down) {
                      // The actor died before it took the call (a restart):
                      // the call never ran, so run it as a flow instead.
                      if (ins) ins->pending->Decrement();
                      via_flow();
                      return;
                    }
                    done(std::move(err));
                  });
      },
      [streams](rcancel_atom, uint64_t call, const caf::actor& reply_to) {
        std::shared_ptr<stream_sink> sink;
        {
          std::lock_guard<std::mutex> guard{streams->mtx};
          auto it = streams->sinks.find(std::make_pair(reply_to.address(), call));
          if (it == streams->sinks.end()) return;
          sink = it->second.lock();
        }
        if (sink) sink->cancel();
      },
  };
}

}  // namespace opea::runtime
