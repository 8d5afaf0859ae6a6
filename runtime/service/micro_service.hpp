#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "runtime/service/request_context.hpp"
#include "runtime/service/service_type.hpp"
#include "runtime/supervision/restart_window.hpp"
#include "runtime/supervision/service_guard.hpp"

namespace opea::runtime {

using json = nlohmann::json;

/// Immutable JSON shared between actors without copies.
using json_ptr = std::shared_ptr<const json>;

/// The body of an in-process microservice: takes the node's input document and
/// returns its output document, or an error (e.g. errc::bad_request). Runs on a
/// CAF scheduler thread: it must not block (blocking work belongs in an
/// external service or a bounded worker pool). A handler that throws crashes
/// its actor; the megaservice restarts it and the request gets an error.
using service_handler =
    std::function<caf::expected<json>(const json& input, const request_context& ctx)>;

/// The behavior of an in-process microservice written as a whole actor, for
/// services that answer asynchronously (an HTTP backend, a worker pool) or
/// keep state. It must answer (invoke_atom, json_ptr, request_context_ptr)
/// with a json_ptr or an error, typically through a response promise. An
/// exception that escapes a handler answers errc::service_crashed to the
/// request being handled and crashes the actor, as with `service_handler`.
using actor_body = std::function<caf::behavior(caf::event_based_actor* self)>;

/// Retries of a call that failed transiently (see `is_transient`): up to
/// `attempts` calls in all, the k-th retry after `backoff * 2^(k-1)` (at
/// most 1 s), never past the request's deadline. Only for services whose
/// calls may be repeated (idempotent). Default: 1 attempt (no retry).
struct retry_policy {
  uint32_t attempts = 1;
  std::chrono::milliseconds backoff{50};
  /// The wait before retry number `k` (1-based).
  std::chrono::milliseconds backoff_before(uint32_t k) const;
  /// Failures worth another attempt: the service could not be reached or
  /// timed out (http_connect, http_timeout), its actor crashed
  /// (service_crashed) or its node left (node_down). Not errors the service
  /// answered with, nor the deadline.
  static bool is_transient(const caf::error& err);
};

/// One microservice of a graph, as OPEA's `MicroService`: a name, where it
/// lives (host, port, endpoint) and its type. It is either in-process (a
/// `handler` is set) or an external HTTP service at `endpoint_url()` (any OPEA
/// Python microservice, TEI, TGI, vLLM) called with POST and a JSON body.
struct micro_service {
  std::string name;
  std::string host = "0.0.0.0";
  uint16_t port = 80;
  /// Path of the HTTP endpoint, e.g. "/v1/add". Default: "/".
  std::string endpoint = "/";
  service_type type = service_type::undefined;
  service_role role = service_role::microservice;
  /// When set, the service runs in-process as an actor around this handler.
  service_handler handler;
  /// When set (and `handler` is not), the service runs in-process as this actor.
  actor_body body;
  /// `body` only: the actor answers every call by the request's deadline on
  /// its own (the built-ins with in-process backends, the LLM, which honours
  /// the deadline, and cluster proxies do). When every actor-bodied service
  /// of a graph says so, flows arm no deadline timer: in CAF 0.17 a timer
  /// cannot be cancelled and keeps its flow's memory until it fires.
  /// Default: false (the flow enforces the deadline with a timer).
  bool answers_by_deadline = false;
  /// Timeout of one call to an external service. Default: 30 s.
  std::chrono::milliseconds timeout{30000};
  /// Restart intensity of the service's actor. Default: 5 in 10 s.
  restart_policy restart;
  /// Circuit breaker of calls to the service. Default: off.
  breaker_policy breaker;
  /// Limit of calls in flight to the service. Default: off.
  bulkhead_policy bulkhead;
  /// Retries of calls that failed transiently. Default: none (1 attempt).
  retry_policy retry;

  /// An in-process service.
  static micro_service local(std::string name, service_handler handler,
                             service_type type = service_type::undefined);

  /// An external HTTP service at `url` ("http://host:port/path").
  /// Throws std::invalid_argument if the URL is not http://host[:port][/path].
  static micro_service remote(std::string name, const std::string& url,
                              service_type type = service_type::undefined);

  /// An in-process service written as a whole actor.
  static micro_service actor(std::string name, actor_body body,
                             service_type type = service_type::undefined);

  bool in_process() const { return static_cast<bool>(handler) || static_cast<bool>(body); }

  /// "http://host:port/endpoint", OPEA's `endpoint_path`.
  std::string endpoint_url() const;
};

}  // namespace opea::runtime
