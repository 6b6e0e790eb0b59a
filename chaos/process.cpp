#include "chaos/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace vixy::chaos {
namespace {

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, std::string log_path) : log_path_(std::move(log_path)) {
  if (argv.empty()) throw std::invalid_argument("ChildProcess: empty argv");
  int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) throw std::runtime_error("cannot open " + log_path_ + ": " + std::strerror(errno));
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    // Nothing else of the parent may live on in the child: an inherited listening socket (a fault
    // injector's, say) would keep accepting after the parent closed it and block its restart.
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    ::execv(args[0], args.data());
    const char msg[] = "exec failed\n";
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(127);
  }
  ::close(log_fd);
  pid_ = pid;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_), status_(other.status_), log_path_(std::move(other.log_path_)) {
  other.pid_ = -1;
}

ChildProcess::~ChildProcess() { kill(); }

bool ChildProcess::running() {
  if (pid_ < 0 || status_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = decode_status(status);
    return false;
  }
  return r == 0;
}

std::optional<int> ChildProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  if (pid_ < 0) return status_;
  wait_until([&] { return !running(); }, timeout, std::chrono::milliseconds(5));
  return status_;
}

std::optional<int> ChildProcess::terminate(std::chrono::milliseconds timeout) {
  if (!running()) return status_;
  ::kill(pid_, SIGTERM);
  if (auto status = wait_for_exit(timeout)) return status;
  kill();
  return std::nullopt;
}

void ChildProcess::kill() {
  if (pid_ < 0 || !running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  if (::waitpid(pid_, &status, 0) == pid_) status_ = decode_status(status);
}

std::optional<std::uint64_t> ChildProcess::resident_kb() const {
  if (pid_ < 0 || status_) return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return std::nullopt;
}

std::string ChildProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string ChildProcess::log_tail(std::size_t lines) const {
  std::string text = log();
  std::size_t pos = text.size();
  for (std::size_t n = 0; n <= lines && pos > 0; ++n) pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos ? text : text.substr(pos + 1);
}

std::optional<std::uint16_t> ChildProcess::wait_for_listening(std::string_view what,
                                                               std::chrono::milliseconds timeout) {
  std::string needle = "msg=listening what=" + std::string(what) + " addr=";
  std::optional<std::uint16_t> port;
  wait_until(
      [&] {
        std::string text = log();
        auto at = text.find(needle);
        if (at != std::string::npos) {
          auto end = text.find_first_of(" \n", at + needle.size());
          std::string addr = text.substr(at + needle.size(), end - at - needle.size());
          auto colon = addr.rfind(':');
          if (colon != std::string::npos && end != std::string::npos) {
            port = static_cast<std::uint16_t>(std::stoul(addr.substr(colon + 1)));
            return true;
          }
        }
        return !running();
      },
      timeout, std::chrono::milliseconds(5));
  return port;
}

TempDir::TempDir(std::string_view prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + std::string(prefix) +
                        "-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::write(std::string_view name, std::string_view content) const {
  std::string p = file(name);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + p);
  return p;
}

}  // namespace vixy::chaos
