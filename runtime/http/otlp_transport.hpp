#pragma once

#include "monitoring/tracing/tracer.hpp"

namespace opea::runtime::http {

/// The OTLP/HTTP transport of a tracer (monitoring/tracing): POSTs each
/// export request to `settings.endpoint` with its content type and
/// `settings.headers`, on a client of its own (one I/O thread, no spans of
/// its own), and waits for the answer at most `settings.exporter_timeout`.
/// True for a 2xx answer (OTLP's success; a partial success is still one);
/// false for anything else, which the processor counts as a failed export.
/// Called on the processor's export thread only, so waiting is fine.
monitoring::span_transport otlp_http_transport(const monitoring::tracing_settings& settings);

}  // namespace opea::runtime::http
