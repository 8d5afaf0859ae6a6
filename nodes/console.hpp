#pragma once

// The node's standard output: its log lines (spdlog) and its announcements
// ("listening on HOST:PORT") come out whole, never one inside another.
// spdlog's stdout sinks lock a mutex of their own and write a line in several
// pieces, so a line printed beside them from another thread could land in
// the middle of a log line, and a program reading "listening on" at the start
// of a line would miss it.

#include <string_view>

namespace opea::nodes {

/// Makes spdlog's default logger and every component logger
/// (monitoring/log.hpp) write to standard output through the console's lock
/// (same pattern and level as before). Call once, early in main, before
/// other threads log.
void install_console_logger();

/// Writes `text` to standard output in one piece under the console's lock
/// and flushes it (`text` should end with a newline). With JSON logs, each
/// of its lines is written as a JSON log line at level info instead.
void console_print(std::string_view text);

/// Switches the console between spdlog's text lines (the default) and JSON
/// lines: one object per line, {"time": RFC 3339 UTC with microseconds,
/// "level", "component" (the logger's name; "node" for the default logger
/// and the announcements), "thread", "message"}, plus "request_id" and
/// "trace_id" when the message ends with ` request_id=ID` / ` trace_id=ID`
/// (lifted out of "message"; "-" means none), so a log shipper reads every
/// line and finds a request's lines by field.
void use_json_logs(bool on);

}  // namespace opea::nodes
