#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace opea::runtime {

/// Error codes of the runtime module. They travel inside `caf::error` (category
/// `error_category`), so they cross actors and, later, nodes unchanged.
/// Context convention: `make_error(code, subject, detail)` where `subject` names
/// what failed (a service, a field, a URL) and `detail` says why.
enum class errc : uint8_t {
  /// The graph is not valid: duplicate or unknown node, cycle, empty graph.
  invalid_graph = 1,
  /// The request is malformed (bad JSON, wrong type): the caller's fault.
  bad_request,
  /// A service answered with an error of its own.
  service_failed,
  /// A service actor threw or died while handling the request.
  service_crashed,
  /// A service exceeded its restart intensity and is no longer available.
  service_unavailable,
  /// The request's deadline passed before the flow finished.
  deadline_exceeded,
  /// An external HTTP service answered with a non-2xx status.
  http_status,
  /// An external HTTP service could not be reached (refused, DNS, reset).
  http_connect,
  /// An external HTTP service did not answer in time.
  http_timeout,
  /// An external HTTP service answered with a body that is not the JSON expected.
  bad_response,
  /// A limit was hit (queue full, body too large).
  overloaded,
  /// The client went away and the work was stopped.
  cancelled,
  /// The cluster node running a replica of the service left (crashed, was
  /// stopped or went silent) while the call was in flight; subject = the
  /// service, detail names the node.
  node_down,
  /// A supervisor's children needed more than `intensity` restarts within its
  /// `period` (OTP's restart intensity): it stopped them all and exited with
  /// this error, escalating to its own supervisor. Subject = the
  /// supervisor's name, detail names the child and the numbers.
  restart_intensity,
};

/// The category atom of `errc` inside `caf::error`.
constexpr caf::atom_value error_category = caf::atom("opea");

/// Returns the enum's name, e.g. "deadline_exceeded".
const char* to_string(errc x);

/// Builds an error whose context is (subject, detail).
caf::error make_error(errc code, std::string subject, std::string detail);

/// Returns the `errc` of `err`, or 0 cast to errc if it is not a runtime error
/// (or no error at all).
errc code_of(const caf::error& err);

/// Returns the subject stored by `make_error` (e.g. the service name), or "".
std::string subject_of(const caf::error& err);

/// Returns the detail stored by `make_error`, or "".
std::string detail_of(const caf::error& err);

/// One human-readable line: "service 's2' failed: HTTP 500 ..." for runtime
/// errors, CAF's rendering for others (request_timeout, receiver down, ...).
std::string describe(const caf::error& err);

/// The HTTP status a gateway answers for `err`: 400 bad_request, 499
/// cancelled, 502 service errors, 503 unavailable/overloaded/restart
/// intensity, 504
/// deadline/timeout, 500 otherwise.
int http_status_of(const caf::error& err);

}  // namespace opea::runtime

// Lets `caf::error e = opea::runtime::errc::...` work.
CAF_ERROR_CODE_ENUM(opea::runtime::errc, "opea")
