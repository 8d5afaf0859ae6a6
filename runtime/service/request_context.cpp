#include "runtime/service/request_context.hpp"

#include <random>

namespace opea::runtime {

namespace {

std::string random_hex(size_t digits) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(digits, '0');
  uint64_t bits = 0;
  for (size_t i = 0; i < digits; ++i) {
    if (i % 16 == 0) bits = rng();
    out[i] = hex[bits & 0xF];
    bits >>= 4;
  }
  return out;
}

bool all_hex(const std::string& s, size_t from, size_t len) {
  for (size_t i = from; i < from + len; ++i) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string make_request_id() {
  return random_hex(32);
}

std::string make_traceparent() {
  return "00-" + random_hex(32) + "-" + random_hex(16) + "-01";
}

bool is_valid_traceparent(const std::string& s) {
  // 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>
  if (s.size() != 55 || s[0] != '0' || s[1] != '0' || s[2] != '-' || s[35] != '-' || s[52] != '-')
    return false;
  return all_hex(s, 3, 32) && all_hex(s, 36, 16) && all_hex(s, 53, 2) &&
         s.compare(3, 32, std::string(32, '0')) != 0 &&
         s.compare(36, 16, std::string(16, '0')) != 0;
}

}  // namespace opea::runtime
