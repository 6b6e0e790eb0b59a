// The real vixy-fakenode binary: command line, the "listening" lines the harness reads, SIGTERM.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

#include "fakenode_fixture.hpp"

extern char** environ;

namespace vixy::testing {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A child process with stdout and stderr captured in files.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    static int counter = 0;
    auto base = std::filesystem::temp_directory_path() /
                ("vixy-fakenode-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    out_ = base.string() + ".out";
    err_ = base.string() + ".err";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    args.insert(args.begin(), VIXY_FAKENODE_BIN);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, VIXY_FAKENODE_BIN, &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove(out_);
    std::filesystem::remove(err_);
  }

  bool started() const { return pid_ > 0; }
  void signal(int sig) const { ::kill(pid_, sig); }
  // The exit code once the process ended within the timeout; -1 for death by signal.
  std::optional<int> wait(std::chrono::milliseconds timeout = 5s) {
    eventually(
        [&] {
          int status = 0;
          if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
          return status_.has_value();
        },
        timeout);
    if (!status_) return std::nullopt;
    return WIFEXITED(*status_) ? WEXITSTATUS(*status_) : -1;
  }
  std::string out() const { return read_file(out_); }
  std::string err() const { return read_file(err_); }
  // The port of a "listening what=<what> addr=127.0.0.1:PORT" line, once it was logged.
  std::optional<std::uint16_t> port(const std::string& what) const {
    std::smatch match;
    std::string text = err();
    if (!std::regex_search(text, match,
                           std::regex("msg=listening what=" + what + " addr=127\\.0\\.0\\.1:(\\d+)"))) {
      return std::nullopt;
    }
    return static_cast<std::uint16_t>(std::stoi(match[1]));
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string out_, err_;
};

TEST(FakeNodeBinary, HelpExitsZero) {
  Child child({"--help"});
  ASSERT_TRUE(child.started());
  EXPECT_EQ(child.wait(), 0);
  EXPECT_NE(child.out().find("usage: vixy-fakenode"), std::string::npos);
}

TEST(FakeNodeBinary, BadArgumentExitsTwoNamingIt) {
  Child child({"el", "--listen", "127.0.0.1:0", "--block-time-ms", "fast"});
  ASSERT_TRUE(child.started());
  EXPECT_EQ(child.wait(), 2);
  EXPECT_NE(child.err().find("--block-time-ms"), std::string::npos) << child.err();
}

TEST(FakeNodeBinary, UnreadableCertificateIsABadArgument) {
  Child child({"el", "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--tls-cert",
               "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"});
  ASSERT_TRUE(child.started());
  EXPECT_EQ(child.wait(), 2);
  EXPECT_NE(child.err().find("--tls-cert"), std::string::npos) << child.err();
}

TEST(FakeNodeBinary, LogsItsPortsServesAndStopsOnSigterm) {
  Child child(
      {"el", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--chain-seed", "3", "--name", "bin"});
  ASSERT_TRUE(child.started());
  ASSERT_TRUE(eventually([&] { return child.port("rpc") && child.port("admin"); })) << child.err();
  auto answer = chaos::post_json("127.0.0.1", *child.port("rpc"), "/",
                                 R"({"jsonrpc":"2.0","id":1,"method":"web3_clientVersion"})");
  ASSERT_TRUE(answer.ok()) << answer.ec.message();
  EXPECT_NE(answer.body.find("/bin"), std::string::npos);
  auto state = chaos::get("127.0.0.1", *child.port("admin"), "/state");
  EXPECT_EQ(state.status, 200);

  child.signal(SIGTERM);
  EXPECT_EQ(child.wait(), 0);
}

TEST(FakeNodeBinary, ClKindStartsToo) {
  Child child({"cl", "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(child.started());
  ASSERT_TRUE(eventually([&] { return child.port("rpc").has_value(); })) << child.err();
  EXPECT_EQ(chaos::get("127.0.0.1", *child.port("rpc"), "/eth/v1/node/health").status, 200);
  child.signal(SIGINT);
  EXPECT_EQ(child.wait(), 0);
}

}  // namespace
}  // namespace vixy::testing
