#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace opea::actors {

/// CRC-32 (IEEE 802.3, as zlib's crc32) of `data`.
uint32_t crc32(std::string_view data);

/// Appends little-endian integers, length-prefixed strings and float arrays
/// to a byte string: the encoding of the vector store's log and snapshots.
class wal_writer {
 public:
  explicit wal_writer(std::string& out) : out_(out) {}
  void u8(uint8_t x) { out_.push_back(static_cast<char>(x)); }
  void u32(uint32_t x);
  void u64(uint64_t x);
  /// u32 length, then the bytes.
  void str(std::string_view s);
  void floats(const float* xs, size_t n);

 private:
  std::string& out_;
};

/// Reads what `wal_writer` wrote; every read returns false (and leaves the
/// output alone) when the input is too short.
class wal_reader {
 public:
  explicit wal_reader(std::string_view in) : in_(in) {}
  bool u8(uint8_t& x);
  bool u32(uint32_t& x);
  bool u64(uint64_t& x);
  bool str(std::string& s);
  bool floats(float* xs, size_t n);
  size_t remaining() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace opea::actors
