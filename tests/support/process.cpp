#include "tests/support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace opea::test {

namespace {

std::vector<char*> to_argv(std::vector<std::string>& strings) {
  std::vector<char*> result;
  result.reserve(strings.size() + 1);
  for (auto& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

child_process::child_process(std::string binary, std::vector<std::string> args, env_list env) {
  // Everything the child needs is built before fork: only async-signal-safe
  // calls happen between fork and exec.
  std::vector<std::string> argv_strings;
  argv_strings.push_back(binary);
  for (auto& a : args) argv_strings.push_back(std::move(a));
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry{*e};
    auto name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (auto& [key, value] : env) overridden = overridden || key == name;
    if (!overridden) env_strings.emplace_back(entry);
  }
  for (auto& [key, value] : env) env_strings.push_back(key + "=" + value);
  auto argv = to_argv(argv_strings);
  auto envp = to_argv(env_strings);

  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe2 failed: " + std::string{strerror(errno)});
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    throw std::runtime_error("pipe2 failed: " + std::string{strerror(errno)});
  }
  auto parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
    throw std::runtime_error("fork failed: " + std::string{strerror(errno)});
  }
  if (pid_ == 0) {
    // Child.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(out[1], STDOUT_FILENO);  // dup2 clears O_CLOEXEC on the copy.
    ::execve(argv[0], argv.data(), envp.data());
    int code = errno;
    auto ignored = ::write(err[1], &code, sizeof(code));
    (void)ignored;
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  int code = 0;
  ssize_t n;
  do {
    n = ::read(err[0], &code, sizeof(code));
  } while (n < 0 && errno == EINTR);
  ::close(err[0]);
  if (n == sizeof(code)) {
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exit_code_ = decode_status(status);
    throw std::runtime_error("cannot execute " + binary + ": " + std::string{strerror(code)});
  }
  out_fd_ = out[0];
  reader_ = std::thread{[this] { read_loop(); }};
}

child_process::~child_process() {
  if (!exit_code_) {
    kill(SIGTERM);
    if (!wait_for(std::chrono::seconds{2})) {
      kill(SIGKILL);
      wait();
    }
  }
  if (reader_.joinable()) reader_.join();
  if (out_fd_ >= 0) ::close(out_fd_);
}

void child_process::read_loop() {
  std::string partial;
  char buf[4096];
  for (;;) {
    auto n = ::read(out_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    partial.append(buf, static_cast<size_t>(n));
    std::vector<std::string> complete;
    size_t start = 0;
    for (auto pos = partial.find('\n'); pos != std::string::npos; pos = partial.find('\n', start)) {
      auto line = partial.substr(start, pos - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      complete.push_back(std::move(line));
      start = pos + 1;
    }
    partial.erase(0, start);
    if (!complete.empty()) {
      std::lock_guard<std::mutex> guard{mtx_};
      for (auto& l : complete) lines_.push_back(std::move(l));
      cv_.notify_all();
    }
  }
  std::lock_guard<std::mutex> guard{mtx_};
  if (!partial.empty()) lines_.push_back(std::move(partial));
  eof_ = true;
  cv_.notify_all();
}

template <class Pred>
std::optional<std::string> child_process::wait_line(Pred pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> guard{mtx_};
  for (;;) {
    while (cursor_ < lines_.size()) {
      auto& line = lines_[cursor_++];
      if (pred(line)) return line;
    }
    if (eof_) return std::nullopt;
    if (cv_.wait_until(guard, deadline) == std::cv_status::timeout && cursor_ == lines_.size())
      return std::nullopt;
  }
}

std::optional<std::string> child_process::wait_for_line(const std::regex& pattern,
                                                        std::chrono::milliseconds timeout) {
  return wait_line([&](const std::string& line) { return std::regex_search(line, pattern); },
                   timeout);
}

std::optional<std::string> child_process::wait_for_line(std::string_view prefix,
                                                        std::chrono::milliseconds timeout) {
  return wait_line(
      [&](const std::string& line) {
        return std::string_view{line}.substr(0, prefix.size()) == prefix;
      },
      timeout);
}

bool child_process::wait_until(const std::function<bool(const std::vector<std::string>&)>& holds,
                               std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> guard{mtx_};
  size_t seen = lines_.size();
  if (holds(lines_)) return true;
  for (;;) {
    if (!cv_.wait_until(guard, deadline, [&] { return lines_.size() > seen || eof_; }))
      return false;
    if (lines_.size() == seen) return false;  // stdout closed
    seen = lines_.size();
    if (holds(lines_)) return true;
  }
}

std::string child_process::describe() {
  std::string out;
  auto code = exit_code_ ? exit_code_ : try_reap();
  out += "pid " + std::to_string(pid_) +
         (code ? " exited with " + std::to_string(*code) : std::string{" still runs"}) + "\n";
  out += "it printed:\n";
  for (const auto& l : lines()) out += "  " + l + "\n";
  if (!code && ::access("/usr/bin/gdb", X_OK) == 0) {
    auto cmd = "/usr/bin/gdb -batch -nx -p " + std::to_string(pid_) +
               " -ex 'thread apply all bt' 2>/dev/null | grep -E '^(Thread|#)'";
    if (auto* pipe = ::popen(cmd.c_str(), "r")) {
      out += "its threads:\n";
      char buf[512];
      while (std::fgets(buf, sizeof buf, pipe) != nullptr) out += buf;
      ::pclose(pipe);
    }
  }
  return out;
}

std::vector<std::string> child_process::lines() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return lines_;
}

bool child_process::kill(int sig) {
  if (exit_code_ || pid_ <= 0) return false;
  return ::kill(pid_, sig) == 0;
}

std::optional<int> child_process::try_reap() {
  if (exit_code_) return exit_code_;
  int status = 0;
  auto r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) exit_code_ = decode_status(status);
  return exit_code_;
}

int child_process::wait() {
  if (exit_code_) return *exit_code_;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  exit_code_ = r == pid_ ? decode_status(status) : -1;
  return *exit_code_;
}

std::optional<int> child_process::wait_for(std::chrono::milliseconds timeout) {
  if (auto code = try_reap()) return code;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // pidfd (Linux >= 5.3) becomes readable when the child exits: a bounded
  // poll without sleeping.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd >= 0) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() < 0) left = std::chrono::milliseconds{0};
      pollfd pfd{pidfd, POLLIN, 0};
      int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (r < 0 && errno == EINTR) continue;
      break;
    }
    ::close(pidfd);
    return try_reap();
  }
  // Fallback for old kernels: poll waitpid.
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto code = try_reap()) return code;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  return try_reap();
}

}  // namespace opea::test
