#pragma once
// Child processes of the harness (fake nodes, the proxy under test), started from their binaries,
// with their output in a log file, and stopped by PID. A child also dies with the thread that
// started it (PR_SET_PDEATHSIG), so a crashed test leaves nothing running.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vixy::chaos {

class ChildProcess {
 public:
  // Starts argv[0] (a path) with the rest as arguments; stdout and stderr go to `log_path`.
  // Throws std::runtime_error when the process cannot be started.
  ChildProcess(std::vector<std::string> argv, std::string log_path);
  ~ChildProcess();  // kills the process if it still runs
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // The exit status (exit code, or 128 + signal) once the process has ended, waiting up to `timeout`.
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);
  // SIGTERM, then the exit status within `timeout`; SIGKILL after it (and nullopt).
  std::optional<int> terminate(std::chrono::milliseconds timeout);
  void kill();  // SIGKILL and reap

  // The process's resident memory (VmRSS) in KiB; nullopt once it has ended.
  std::optional<std::uint64_t> resident_kb() const;

  const std::string& log_path() const { return log_path_; }
  std::string log() const;  // everything the process has written so far
  std::string log_tail(std::size_t lines) const;  // the last `lines` lines of log()
  // Waits for the line `msg=listening what=<what> addr=HOST:PORT` and returns PORT; nullopt on
  // timeout or when the process ends first.
  std::optional<std::uint16_t> wait_for_listening(std::string_view what, std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "vixy");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
  // Writes `content` to file(name) and returns its path.
  std::string write(std::string_view name, std::string_view content) const;

 private:
  std::string path_;
};

// Polls `condition` until it holds or `timeout` passes; true when it held.
template <class Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every = std::chrono::milliseconds(20));

}  // namespace vixy::chaos

#include "chaos/process_inl.hpp"
