#include "actors/retriever/wal_codec.hpp"

#include <array>
#include <cstring>

namespace opea::actors {

namespace {

std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

}  // namespace

uint32_t crc32(std::string_view data) {
  static const auto table = make_crc_table();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void wal_writer::u32(uint32_t x) {
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((x >> (8 * i)) & 0xFF));
}

void wal_writer::u64(uint64_t x) {
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((x >> (8 * i)) & 0xFF));
}

void wal_writer::str(std::string_view s) {
  u32(static_cast<uint32_t>(s.size()));
  out_.append(s.data(), s.size());
}

void wal_writer::floats(const float* xs, size_t n) {
  // IEEE 754 binary32 in the host's (little-endian) byte order.
  static_assert(sizeof(float) == 4, "float must be binary32");
  out_.append(reinterpret_cast<const char*>(xs), n * sizeof(float));
}

bool wal_reader::u8(uint8_t& x) {
  if (remaining() < 1) return false;
  x = static_cast<uint8_t>(in_[pos_++]);
  return true;
}

bool wal_reader::u32(uint32_t& x) {
  if (remaining() < 4) return false;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<unsigned char>(in_[pos_ + i])} << (8 * i);
  pos_ += 4;
  x = v;
  return true;
}

bool wal_reader::u64(uint64_t& x) {
  if (remaining() < 8) return false;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(in_[pos_ + i])} << (8 * i);
  pos_ += 8;
  x = v;
  return true;
}

bool wal_reader::str(std::string& s) {
  auto save = pos_;
  uint32_t n = 0;
  if (!u32(n)) return false;
  if (remaining() < n) {
    pos_ = save;
    return false;
  }
  s.assign(in_.data() + pos_, n);
  pos_ += n;
  return true;
}

bool wal_reader::floats(float* xs, size_t n) {
  if (remaining() / sizeof(float) < n) return false;
  std::memcpy(xs, in_.data() + pos_, n * sizeof(float));
  pos_ += n * sizeof(float);
  return true;
}

}  // namespace opea::actors
