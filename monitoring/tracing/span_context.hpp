#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace opea::monitoring {

/// A W3C / OpenTelemetry trace id: 16 bytes, all zero = invalid.
struct trace_id {
  std::array<std::uint8_t, 16> bytes{};

  /// A random id from this thread's generator (xoshiro256**, seeded once per
  /// thread from std::random_device); never all zero. Thread-safe.
  static trace_id random();

  bool valid() const;
  /// 32 lower-case hex digits.
  std::string hex() const;

  friend bool operator==(const trace_id& a, const trace_id& b) { return a.bytes == b.bytes; }
  friend bool operator!=(const trace_id& a, const trace_id& b) { return a.bytes != b.bytes; }
};

/// A span id: 8 bytes, all zero = invalid (for a parent: "no parent").
struct span_id {
  std::array<std::uint8_t, 8> bytes{};

  /// A random id from this thread's generator; never all zero. Thread-safe.
  static span_id random();

  bool valid() const;
  /// 16 lower-case hex digits.
  std::string hex() const;

  friend bool operator==(const span_id& a, const span_id& b) { return a.bytes == b.bytes; }
  friend bool operator!=(const span_id& a, const span_id& b) { return a.bytes != b.bytes; }
};

/// What propagates from a span to its children, in process or across a hop
/// as W3C Trace Context headers (`traceparent`, `tracestate`). A
/// default-constructed context is invalid and means "no parent".
struct span_context {
  /// The W3C `sampled` trace flag.
  static constexpr std::uint8_t sampled_flag = 0x01;

  trace_id trace;
  span_id span;
  /// W3C trace flags; only `sampled_flag` has a meaning here.
  std::uint8_t flags = 0;
  /// W3C `tracestate`, carried unchanged from parent to children.
  std::string state;
  /// True when the context came from another process (parsed from a header).
  bool remote = false;

  /// Both ids non-zero.
  bool valid() const { return trace.valid() && span.valid(); }
  bool sampled() const { return (flags & sampled_flag) != 0; }

  /// "00-<32 hex>-<16 hex>-<2 hex>" (version 00, lower-case); "" when invalid.
  std::string traceparent() const;

  /// Parses a W3C `traceparent` as the Trace Context spec's receivers do:
  /// lower-case hex only; version `ff` and all-zero ids are rejected; version
  /// 00 must be exactly 55 characters; a higher version is read as 00 when
  /// its first 55 characters have version 00's shape and anything after them
  /// starts with '-' (only its sampled flag is kept). `tracestate` is kept as
  /// given. The result has `remote` set; nullopt when the header is invalid
  /// (the caller then starts a new trace).
  static std::optional<span_context> parse(std::string_view traceparent,
                                           std::string_view tracestate = {});
};

/// Lower-case hex of `n` bytes into `out` (2n characters, not terminated).
void write_hex(const std::uint8_t* bytes, std::size_t n, char* out);

}  // namespace opea::monitoring
