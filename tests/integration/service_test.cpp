// vixy as a systemd service sees it: readiness and shutdown told over $NOTIFY_SOCKET (Type=notify).
#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "chaos/http_client.hpp"
#include "support/harness.hpp"

namespace vixy::testing {
namespace {

using chaos::ChildProcess;
using chaos::TempDir;
using std::chrono::seconds;

// The service manager's end: a datagram socket at a path, as systemd's $NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
    ::unlink(path_.c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  bool bound() const { return bound_; }
  const std::string& path() const { return path_; }
  // The next datagram, or nothing within `timeout`.
  std::optional<std::string> next(std::chrono::milliseconds timeout) {
    pollfd ready{fd_, POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(n));
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST(Service, TellsTheServiceManagerWhenItIsReadyAndWhenItStops) {
  TempDir dir;
  NotifySocket manager(dir.file("notify.sock"));
  ASSERT_TRUE(manager.bound()) << std::strerror(errno);
  auto config = dir.write("vixy.toml", "[el]\n[[el.primary]]\nname = \"a\"\n"
                                       "http_url = \"http://127.0.0.1:1\"\nws_url = \"ws://127.0.0.1:1\"\n");
  ChildProcess vixy({"/usr/bin/env", "NOTIFY_SOCKET=" + manager.path(), proxy_bin(), "--config", config, "--listen",
                     "127.0.0.1:0"},
                    dir.file("vixy.log"));
  auto ready = manager.next(std::chrono::seconds(10));
  ASSERT_TRUE(ready) << vixy.log();
  EXPECT_NE(ready->find("READY=1"), std::string::npos) << *ready;
  // Ready means the port is open: the listening line came before the datagram.
  EXPECT_NE(vixy.log().find("msg=listening what=proxy"), std::string::npos) << vixy.log();

  ::kill(vixy.pid(), SIGTERM);
  auto stopping = manager.next(std::chrono::seconds(10));
  ASSERT_TRUE(stopping) << vixy.log();
  EXPECT_EQ(*stopping, "STOPPING=1");
  EXPECT_EQ(vixy.wait_for_exit(seconds(10)), 0) << vixy.log();
}

// SIGHUP's default action ends a process; vixy's is a reload (tests/integration/reload_test.cpp),
// whatever the file holds, so `systemctl reload` never ends a session.
TEST(Service, SighupReloadsInsteadOfStopping) {
  TempDir dir;
  const std::string nodes = "[el]\n[[el.primary]]\nname = \"a\"\nhttp_url = \"http://127.0.0.1:1\"\nws_url = \"ws://127.0.0.1:1\"\n";
  auto config = dir.write("vixy.toml", nodes);
  ChildProcess vixy({proxy_bin(), "--config", config, "--listen", "127.0.0.1:0"}, dir.file("vixy.log"));
  auto port = vixy.wait_for_listening("proxy", seconds(10));
  ASSERT_TRUE(port) << vixy.log();
  auto logged = [&](const std::string& text) {
    return chaos::wait_until([&] { return vixy.log().find(text) != std::string::npos; }, seconds(10));
  };

  dir.write("vixy.toml", "[global]\nmax_retries = \"x\"\n" + nodes);
  ::kill(vixy.pid(), SIGHUP);
  ASSERT_TRUE(logged("reload rejected")) << vixy.log();
  dir.write("vixy.toml", nodes + "[[el.backup]]\nname = \"b\"\nhttp_url = \"http://127.0.0.1:2\"\nws_url = \"ws://127.0.0.1:2\"\n");
  ::kill(vixy.pid(), SIGHUP);
  ASSERT_TRUE(logged("reload applied")) << vixy.log();

  auto health = chaos::http_request("127.0.0.1", *port, boost::beast::http::verb::get, "/health");
  EXPECT_EQ(health.status, 200) << health.body;
  auto status = chaos::http_request("127.0.0.1", *port, boost::beast::http::verb::get, "/status");
  EXPECT_NE(status.body.find("\"b\""), std::string::npos) << status.body;
  EXPECT_EQ(vixy.terminate(seconds(10)), 0) << vixy.log();
}

// Which file a running vixy read: an operator compares replicas, or checks a deploy took.
TEST(Service, MetricsNameTheSha256OfTheConfigurationFile) {
  TempDir dir;
  auto config = dir.write("vixy.toml", "[el]\n[[el.primary]]\nname = \"a\"\n"
                                       "http_url = \"http://127.0.0.1:1\"\nws_url = \"ws://127.0.0.1:1\"\n");
  std::string expected;
  if (FILE* sum = ::popen(("sha256sum " + config).c_str(), "r")) {
    char hex[65] = {};
    if (std::fread(hex, 1, 64, sum) == 64) expected = hex;
    ::pclose(sum);
  }
  ASSERT_EQ(expected.size(), 64u);
  ChildProcess vixy({proxy_bin(), "--config", config, "--listen", "127.0.0.1:0"}, dir.file("vixy.log"));
  auto port = vixy.wait_for_listening("proxy", seconds(10));
  ASSERT_TRUE(port) << vixy.log();
  auto metrics = chaos::http_request("127.0.0.1", *port, boost::beast::http::verb::get, "/metrics");
  EXPECT_NE(metrics.body.find("vixy_config_info{sha256=\"" + expected + "\"} 1"), std::string::npos) << metrics.body;
  EXPECT_EQ(vixy.terminate(seconds(10)), 0);
}

TEST(Service, WithoutANotifySocketNothingIsToldAndNothingFails) {
  TempDir dir;
  auto config = dir.write("vixy.toml", "[el]\n[[el.primary]]\nname = \"a\"\n"
                                       "http_url = \"http://127.0.0.1:1\"\nws_url = \"ws://127.0.0.1:1\"\n");
  ChildProcess vixy({"/usr/bin/env", "-u", "NOTIFY_SOCKET", proxy_bin(), "--config", config, "--listen", "127.0.0.1:0"},
                    dir.file("vixy.log"));
  ASSERT_TRUE(vixy.wait_for_listening("proxy", seconds(10))) << vixy.log();
  EXPECT_EQ(vixy.terminate(seconds(10)), 0);
  EXPECT_EQ(vixy.log().find("service manager"), std::string::npos) << vixy.log();
}

}  // namespace
}  // namespace vixy::testing
