#include "monitoring/tracing/span_context.hpp"

#include <random>

namespace opea::monitoring {

namespace {

/// xoshiro256** (Blackman and Vigna): 4 words of state, a few ns per 64
/// bits; seeded once per thread from std::random_device through splitmix64.
class id_generator {
 public:
  id_generator() {
    std::random_device rd;
    std::uint64_t seed = (std::uint64_t{rd()} << 32) ^ rd();
    for (auto& word : s_) word = splitmix64(seed);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::uint64_t s_[4];
};

id_generator& generator() {
  thread_local id_generator gen;
  return gen;
}

void store_u64(std::uint64_t v, std::uint8_t* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

template <std::size_t N>
bool all_zero(const std::array<std::uint8_t, N>& a) {
  for (auto b : a)
    if (b != 0) return false;
  return true;
}

/// Value of a lower-case hex digit, -1 for anything else (upper case too:
/// the Trace Context spec allows lower-case only).
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool read_hex(std::string_view s, std::uint8_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    int hi = hex_value(s[2 * i]);
    int lo = hex_value(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace

void write_hex(const std::uint8_t* bytes, std::size_t n, char* out) {
  static constexpr char digits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 0x0f];
  }
}

trace_id trace_id::random() {
  trace_id id;
  do {
    store_u64(generator().next(), id.bytes.data());
    store_u64(generator().next(), id.bytes.data() + 8);
  } while (!id.valid());
  return id;
}

bool trace_id::valid() const {
  return !all_zero(bytes);
}

std::string trace_id::hex() const {
  std::string s(32, '0');
  write_hex(bytes.data(), bytes.size(), s.data());
  return s;
}

span_id span_id::random() {
  span_id id;
  do {
    store_u64(generator().next(), id.bytes.data());
  } while (!id.valid());
  return id;
}

bool span_id::valid() const {
  return !all_zero(bytes);
}

std::string span_id::hex() const {
  std::string s(16, '0');
  write_hex(bytes.data(), bytes.size(), s.data());
  return s;
}

std::string span_context::traceparent() const {
  if (!valid()) return {};
  std::string s = "00-################################-################-##";
  write_hex(trace.bytes.data(), trace.bytes.size(), s.data() + 3);
  write_hex(span.bytes.data(), span.bytes.size(), s.data() + 36);
  const std::uint8_t f = flags & sampled_flag;
  write_hex(&f, 1, s.data() + 53);
  return s;
}

std::optional<span_context> span_context::parse(std::string_view tp, std::string_view tracestate) {
  // version "-" trace-id "-" parent-id "-" trace-flags: 2+1+32+1+16+1+2 = 55.
  if (tp.size() < 55) return std::nullopt;
  std::uint8_t version = 0;
  if (!read_hex(tp, &version, 1) || version == 0xff) return std::nullopt;
  if (version == 0 && tp.size() != 55) return std::nullopt;
  if (tp.size() > 55 && tp[55] != '-') return std::nullopt;
  if (tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return std::nullopt;
  span_context ctx;
  if (!read_hex(tp.substr(3), ctx.trace.bytes.data(), 16) ||
      !read_hex(tp.substr(36), ctx.span.bytes.data(), 8) ||
      !read_hex(tp.substr(53), &ctx.flags, 1) || !ctx.valid())
    return std::nullopt;
  // Version 00 defines only the sampled flag; a later version's other flags
  // mean nothing to this parser.
  if (version != 0) ctx.flags &= sampled_flag;
  ctx.state = std::string{tracestate};
  ctx.remote = true;
  return ctx;
}

}  // namespace opea::monitoring
