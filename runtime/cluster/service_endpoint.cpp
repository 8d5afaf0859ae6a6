#include "runtime/cluster/service_endpoint.hpp"

#include <map>
#include <mutex>
#include <utility>

#include <caf/all.hpp>

#include "runtime/cluster/remote_protocol.hpp"
#include "runtime/errors.hpp"

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
                               std::shared_ptr<const megaservice> host) {
  auto streams = std::make_shared<stream_table>();
  return {
      [self, service, host, streams](rinvoke_atom, uint64_t call, const std::string& bytes,
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
        host->async_schedule(
            std::move(received->input), std::move(received->ctx),
            [reply_to, call, envelope, streams, stream, key](caf::expected<flow_result> res) {
              if (stream) {
                std::lock_guard<std::mutex> guard{streams->mtx};
                streams->sinks.erase(key);
              }
              if (!res) {
                fail(reply_to, call, res.error());
                return;
              }
              caf::anon_send(reply_to, rreply_atom::value, call,
                             encode_reply(*envelope, *res->output));
            });
        (void)self;
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
