#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace opea::actors {

/// One server-sent event.
struct sse_event {
  /// The `event:` field; empty means the default type "message".
  std::string event;
  /// The `data:` lines joined with '\n'.
  std::string data;
  /// The last `id:` field seen in the event, if any.
  std::string id;
};

/// Incremental parser of a `text/event-stream` body (WHATWG HTML, "Server-sent
/// events"), fed bytes as they arrive in arbitrary pieces: an event, a line or
/// even a CR LF pair may be split across two `feed` calls.
///
/// Lines end with LF, CR LF or CR; lines starting with ':' are comments
/// (keep-alives) and are skipped; a line without ':' is a field with an empty
/// value; one space after the colon is removed; a blank line dispatches the
/// event if it has data (events without data are dropped, as browsers do);
/// unknown fields (`retry`, ...) are ignored. A UTF-8 BOM at the very start is
/// skipped.
///
/// Not thread-safe: one stream, fed from one thread at a time.
class sse_parser {
 public:
  using event_handler = std::function<void(const sse_event&)>;

  /// Longest line accepted. Default: 8 MiB.
  explicit sse_parser(size_t max_line_bytes = 8 << 20) : max_line_(max_line_bytes) {}

  /// Parses `bytes`, calling `on_event` for each event completed by them.
  /// Returns false (and ignores the rest of the stream) once a line grows past
  /// the limit.
  bool feed(std::string_view bytes, const event_handler& on_event);

  /// End of the stream: completes a last line that had no line ending and
  /// dispatches a last event that had no blank line after it. (The standard
  /// discards such an event; servers that close right after `data: [DONE]`
  /// exist, so it is kept.)
  void finish(const event_handler& on_event);

  /// Number of events dispatched so far.
  size_t events() const { return events_; }

 private:
  void on_line(std::string_view line, const event_handler& on_event);
  void dispatch(const event_handler& on_event);

  size_t max_line_;
  std::string line_;
  bool after_cr_ = false;
  bool started_ = false;
  bool failed_ = false;
  bool has_data_ = false;
  sse_event current_;
  size_t events_ = 0;
};

}  // namespace opea::actors
