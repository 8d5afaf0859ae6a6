#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace opea::test {

/// A child process started with fork/exec whose stdout is captured line by
/// line (stderr is inherited). Used by integration tests to run opea-node and
/// opea-test-service on loopback.
///
/// Thread-safety: a background thread reads the pipe; `mtx_` protects the
/// captured lines. All member functions may be called from one test thread.
/// The destructor sends SIGTERM, waits up to 2 s, then SIGKILLs and reaps.
class child_process {
 public:
  using env_list = std::vector<std::pair<std::string, std::string>>;

  /// Starts `binary` with `args` (argv[1..]) and the parent's environment
  /// plus `env` (overriding). Throws std::runtime_error if the binary cannot
  /// be executed.
  child_process(std::string binary, std::vector<std::string> args, env_list env = {});

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  ~child_process();

  /// Waits until a captured stdout line (not returned before) matches
  /// `pattern` (std::regex_search) and returns it; returns nullopt when
  /// `timeout` passes or stdout closes first. Lines are consumed in order:
  /// lines before the match are skipped for later calls.
  std::optional<std::string> wait_for_line(const std::regex& pattern,
                                           std::chrono::milliseconds timeout);

  /// As above, matching lines that start with `prefix`.
  std::optional<std::string> wait_for_line(std::string_view prefix,
                                           std::chrono::milliseconds timeout);

  /// Waits until `holds` is true of the captured stdout lines: it is called
  /// with every line captured so far, from the first (whatever
  /// `wait_for_line` consumed), and again each time more arrive. Returns
  /// false when `timeout` passes or stdout closes first. `holds` runs under
  /// the lock that the reader thread takes: it must not call this object.
  bool wait_until(const std::function<bool(const std::vector<std::string>&)>& holds,
                  std::chrono::milliseconds timeout);

  /// All stdout lines captured so far.
  std::vector<std::string> lines() const;

  /// What a test that gave up waiting on the child shows: whether it still
  /// runs, what it printed and, if it runs and gdb is installed, the stack
  /// of each of its threads.
  std::string describe();

  /// The child's pid.
  pid_t pid() const { return pid_; }

  /// Sends `sig`; returns false if the child was already reaped.
  bool kill(int sig = SIGTERM);

  /// Blocks until the child exits; returns its exit code, or 128 + signal
  /// number if a signal killed it. Later calls return the same value.
  int wait();

  /// Like `wait` but gives up after `timeout` (returns nullopt).
  std::optional<int> wait_for(std::chrono::milliseconds timeout);

 private:
  void read_loop();
  std::optional<int> try_reap();
  template <class Pred>
  std::optional<std::string> wait_line(Pred pred, std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::optional<int> exit_code_;
  std::thread reader_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  size_t cursor_ = 0;
  bool eof_ = false;
};

}  // namespace opea::test
