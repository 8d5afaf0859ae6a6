#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "runtime/service/stream_sink.hpp"

namespace opea::test {

/// A stream sink that keeps every piece written to it, in order. Thread-safe.
class collecting_sink : public runtime::stream_sink {
 public:
  void write(std::string piece) override {
    std::lock_guard<std::mutex> guard{mtx_};
    pieces_.push_back(std::move(piece));
  }
  std::vector<std::string> pieces() {
    std::lock_guard<std::mutex> guard{mtx_};
    return pieces_;
  }

 private:
  std::mutex mtx_;
  std::vector<std::string> pieces_;
};

}  // namespace opea::test
