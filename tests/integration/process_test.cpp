// The vixy process as an operator meets it: CLI, configuration errors, TLS upstreams, a separate
// metrics port, and graceful shutdown on SIGTERM.
#include <array>
#include <atomic>
#include <csignal>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include "support/harness.hpp"
#include "support/ws_rpc.hpp"

namespace vixy::testing {
namespace {

using chaos::ChildProcess;
using chaos::Cluster;
using chaos::ClusterOptions;
using chaos::TempDir;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(Process, HelpAndVersionExitZero) {
  TempDir dir;
  ChildProcess help({proxy_bin(), "--help"}, dir.file("help.log"));
  EXPECT_EQ(help.wait_for_exit(seconds(10)), 0);
  EXPECT_NE(help.log().find("--config"), std::string::npos);
  ChildProcess version({proxy_bin(), "--version"}, dir.file("version.log"));
  EXPECT_EQ(version.wait_for_exit(seconds(10)), 0);
  EXPECT_NE(version.log().find("vixy " VIXY_VERSION), std::string::npos) << version.log();
}

TEST(Process, InvalidConfigStopsStartUpNamingFileLineAndKey) {
  TempDir dir;
  auto path = dir.write("bad.toml", "[global]\nmax_retries = \"two\"\n\n[el]\n[[el.primary]]\nname = \"a\"\n"
                                    "http_url = \"http://127.0.0.1:1\"\nws_url = \"ws://127.0.0.1:1\"\n");
  ChildProcess vixy({proxy_bin(), "--config", path, "--listen", "127.0.0.1:0"}, dir.file("vixy.log"));
  EXPECT_EQ(vixy.wait_for_exit(seconds(10)), 2);
  auto log = vixy.log();
  EXPECT_NE(log.find(path + ":2"), std::string::npos) << log;
  EXPECT_NE(log.find("global.max_retries"), std::string::npos) << log;
}

// `vixy --check-config FILE`, as `nginx -t`: a deploy step (or ExecReload's guard) that never starts
// a server. Exit 0 for a file vixy would start with, 2 with every reason it would not.
TEST(Process, CheckConfigValidatesWithoutStarting) {
  TempDir dir;
  std::string nodes = "[el]\n[[el.primary]]\nname = \"a\"\nhttp_url = \"http://127.0.0.1:1\"\nws_url = \"ws://127.0.0.1:1\"\n";
  // A check that started the server would not exit.
  auto good = dir.write("good.toml", "[server]\nlisten = \"127.0.0.1:0\"\n" + nodes);
  ChildProcess ok({proxy_bin(), "--check-config", good}, dir.file("ok.log"));
  EXPECT_EQ(ok.wait_for_exit(seconds(10)), 0) << ok.log();
  EXPECT_NE(ok.log().find(good + ": configuration OK"), std::string::npos) << ok.log();
  EXPECT_EQ(ok.log().find("listening"), std::string::npos) << ok.log();

  auto bad = dir.write("bad.toml", "[global]\nmax_retries = -1\n" + nodes);
  ChildProcess refused({proxy_bin(), "--check-config", bad}, dir.file("refused.log"));
  EXPECT_EQ(refused.wait_for_exit(seconds(10)), 2) << refused.log();
  EXPECT_NE(refused.log().find(bad + ":2: global.max_retries: must not be negative"), std::string::npos)
      << refused.log();

  // What only start-up used to find: a CA file that cannot be read.
  auto no_ca = dir.write("no_ca.toml", "[tls]\nca_file = \"" + dir.file("missing.pem") + "\"\n" + nodes);
  ChildProcess missing({proxy_bin(), "--check-config", no_ca}, dir.file("missing.log"));
  EXPECT_EQ(missing.wait_for_exit(seconds(10)), 2) << missing.log();
  EXPECT_NE(missing.log().find("missing.pem"), std::string::npos) << missing.log();

  ChildProcess absent({proxy_bin(), "--check-config", dir.file("absent.toml")}, dir.file("absent.log"));
  EXPECT_EQ(absent.wait_for_exit(seconds(10)), 2) << absent.log();
  EXPECT_NE(absent.log().find("absent.toml"), std::string::npos) << absent.log();
}

TEST(Process, ListenComesFromTheFileUnlessTheCommandLineSaysOtherwise) {
  TempDir dir;
  std::string nodes = "[el]\n[[el.primary]]\nname = \"a\"\nhttp_url = \"http://127.0.0.1:1\"\nws_url = \"ws://127.0.0.1:1\"\n";
  auto from_file = dir.write("file.toml", "[server]\nlisten = \"127.0.0.1:0\"\n" + nodes);
  ChildProcess file_only({proxy_bin(), "--config", from_file}, dir.file("file.log"));
  ASSERT_TRUE(file_only.wait_for_listening("proxy", seconds(10))) << file_only.log();
  EXPECT_NE(file_only.log().find("what=proxy addr=127.0.0.1:"), std::string::npos);
  EXPECT_EQ(file_only.log().find("addr=127.0.0.1:8080"), std::string::npos);
  EXPECT_EQ(file_only.terminate(seconds(10)), 0);

  auto other = dir.write("other.toml", "[server]\nlisten = \"[::1]:0\"\n" + nodes);
  ChildProcess flag_wins({proxy_bin(), "--config", other, "--listen", "127.0.0.1:0"}, dir.file("flag.log"));
  ASSERT_TRUE(flag_wins.wait_for_listening("proxy", seconds(10))) << flag_wins.log();
  EXPECT_NE(flag_wins.log().find("what=proxy addr=127.0.0.1:"), std::string::npos) << flag_wins.log();
  ::kill(flag_wins.pid(), SIGINT);  // Ctrl-C ends it as cleanly as SIGTERM
  EXPECT_EQ(flag_wins.wait_for_exit(seconds(10)), 0) << flag_wins.log();
}

// SIGTERM as soon as the port is announced, before the threads have started: each start ends with
// a graceful shutdown, whichever thread the kernel hands the signal to. (A handler-based wait lost
// about one such signal in 75 under ThreadSanitizer, which CI runs this against.)
TEST(Process, ATerminationSignalAtStartUpIsNeverLost) {
  TempDir dir;
  auto config = dir.write("vixy.toml", "[server]\nthreads = 4\n[el]\n[[el.primary]]\nname = \"a\"\n"
                                       "http_url = \"http://127.0.0.1:1\"\nws_url = \"ws://127.0.0.1:1\"\n");
  for (int start = 0; start < 10; ++start) {
    ChildProcess vixy({proxy_bin(), "--config", config, "--listen", "127.0.0.1:0"}, dir.file("vixy.log"));
    ASSERT_TRUE(vixy.wait_for_listening("proxy", seconds(10))) << vixy.log();
    ::kill(vixy.pid(), start % 2 == 0 ? SIGTERM : SIGINT);
    ASSERT_EQ(vixy.wait_for_exit(seconds(10)), 0) << "start " << start << "\n" << vixy.log();
    EXPECT_NE(vixy.log().find("msg=\"shutting down\""), std::string::npos) << vixy.log();
  }
}

// Each of vixy's threads listens on the port with SO_REUSEPORT, which would let a second vixy (same
// user, threads too) silently join the first one's port and take half its connections. A port in
// use is a start-up error, whatever the thread count.
TEST(Process, APortInUseIsAStartUpErrorEvenWithSeveralThreads) {
  TempDir dir;
  auto config = dir.write("vixy.toml", "[server]\nthreads = 2\n[el]\n[[el.primary]]\nname = \"a\"\n"
                                       "http_url = \"http://127.0.0.1:1\"\nws_url = \"ws://127.0.0.1:1\"\n");
  ChildProcess first({proxy_bin(), "--config", config, "--listen", "127.0.0.1:0"}, dir.file("first.log"));
  auto port = first.wait_for_listening("proxy", seconds(10));
  ASSERT_TRUE(port) << first.log();
  ChildProcess second({proxy_bin(), "--config", config, "--listen", "127.0.0.1:" + std::to_string(*port)},
                      dir.file("second.log"));
  EXPECT_EQ(second.wait_for_exit(seconds(10)), 1) << second.log();
  EXPECT_NE(second.log().find("cannot listen on 127.0.0.1:" + std::to_string(*port)), std::string::npos)
      << second.log();
  EXPECT_EQ(first.terminate(seconds(10)), 0);
}

TEST(Process, UnknownArgumentIsAUsageError) {
  TempDir dir;
  ChildProcess vixy({proxy_bin(), "--frobnicate"}, dir.file("vixy.log"));
  EXPECT_EQ(vixy.wait_for_exit(seconds(10)), 2);
  EXPECT_NE(vixy.log().find("--frobnicate"), std::string::npos);
}

TEST(Process, TlsUpstreamsAreVerifiedAgainstTheConfiguredCa) {
  ClusterOptions options;
  options.tls = true;
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(wait_ready(cluster)) << cluster.proxy().log();
  EXPECT_EQ(answering_node(cluster), "el-primary");
  auto version = cluster.proxy_get("/cl/eth/v1/node/version");
  EXPECT_EQ(version.status, 200) << version.body;
}

TEST(Process, TlsUpstreamWithAnUntrustedCertificateIsUnhealthy) {
  ClusterOptions options;
  options.tls = true;
  options.start_proxy = false;
  Cluster cluster(binaries(), options);
  // Trust a different CA than the one that signed the nodes' certificate.
  TempDir other;
  ASSERT_EQ(chaos::run_shell("cd '" + other.path() +
                                 "' && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj '/CN=other' "
                                 "-keyout k.pem -out ca.pem",
                             other.file("openssl.log")),
            0);
  std::string config = "[global]\nhealth_check_interval_ms = 100\n[tls]\nca_file = \"" + other.file("ca.pem") +
                       "\"\n[el]\n[[el.primary]]\nname = \"tls-node\"\nhttp_url = \"https://127.0.0.1:" +
                       std::to_string(cluster.node("el-primary").tls_port) + "\"\nws_url = \"wss://127.0.0.1:1\"\n";
  auto path = cluster.dir().write("untrusted.toml", config);
  ChildProcess vixy({proxy_bin(), "--config", path, "--listen", "127.0.0.1:0"}, cluster.dir().file("untrusted.log"));
  auto port = vixy.wait_for_listening("proxy", seconds(10));
  ASSERT_TRUE(port);
  ASSERT_TRUE(chaos::wait_until(
      [&] {
        auto r = chaos::http_request("127.0.0.1", *port, boost::beast::http::verb::get, "/status");
        auto s = json::parse(r.body, nullptr, false);
        return r.status == 200 && s.is_object() && s["health_round"].get<int>() >= 3;
      },
      seconds(10)));
  auto r = chaos::http_request("127.0.0.1", *port, boost::beast::http::verb::get, "/status");
  auto node = json::parse(r.body)["el_nodes"][0];
  EXPECT_FALSE(node["is_healthy"].get<bool>()) << node;
  EXPECT_EQ(node["check_result"], "failed") << node;
  EXPECT_EQ(vixy.terminate(seconds(10)), 0);
}

TEST(Process, MetricsOnTheirOwnPortWhenConfigured) {
  ClusterOptions options;
  options.start_proxy = false;
  Cluster cluster(binaries(), options);
  TempDir dir;
  // The metrics port must be a fixed one: a free port is found by binding one and letting it go,
  // and another test's process may take it in between. Such a start-up error is tried again.
  std::optional<ChildProcess> vixy;
  std::optional<std::uint16_t> port, metrics_port, free_port;
  for (int attempt = 0; attempt < 5 && !metrics_port; ++attempt) {
    ChildProcess probe({VIXY_FAKENODE_BIN, "el", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"},
                       dir.file("probe.log"));
    free_port = probe.wait_for_listening("rpc", seconds(10));
    ASSERT_TRUE(free_port);
    probe.terminate(seconds(5));
    // The addresses written as Vixy's Kurtosis config writes them ([server] and [metrics] host).
    std::string config = "[server]\nhost = \"127.0.0.1\"\nport = 0\n[metrics]\nhost = \"127.0.0.1\"\nport = " +
                         std::to_string(*free_port) +
                         "\n[el]\n[[el.primary]]\nname = \"p\"\nhttp_url = \"http://127.0.0.1:" +
                         std::to_string(cluster.node("el-primary").rpc_port) + "\"\nws_url = \"ws://127.0.0.1:1\"\n";
    auto path = dir.write("metrics.toml", config);
    vixy.emplace(std::vector<std::string>{proxy_bin(), "--config", path}, dir.file("vixy.log"));
    port = vixy->wait_for_listening("proxy", seconds(10));
    metrics_port = vixy->wait_for_listening("metrics", seconds(10));
    if (!metrics_port) {
      ASSERT_EQ(vixy->wait_for_exit(seconds(10)), 1) << vixy->log();
      ASSERT_NE(vixy->log().find("(metrics): Address already in use"), std::string::npos) << vixy->log();
    }
  }
  ASSERT_TRUE(port && metrics_port) << vixy->log();
  EXPECT_EQ(*metrics_port, *free_port);
  auto on_metrics_port = chaos::http_request("127.0.0.1", *metrics_port, boost::beast::http::verb::get, "/metrics");
  EXPECT_EQ(on_metrics_port.status, 200);
  EXPECT_NE(on_metrics_port.body.find("vixy_el_chain_head"), std::string::npos);
  auto on_main_port = chaos::http_request("127.0.0.1", *port, boost::beast::http::verb::get, "/metrics");
  EXPECT_EQ(on_main_port.status, 404);
  EXPECT_EQ(vixy->terminate(seconds(10)), 0);
}

// An eth_getBalance the primary answers after `delay_ms`, sent from a thread of its own.
class SlowRequest {
 public:
  SlowRequest(Cluster& cluster, int delay_ms) : cluster_(cluster) {
    auto set = cluster.admin("el-primary", "/method",
                             R"({"method":"eth_getBalance","delay_ms":)" + std::to_string(delay_ms) + "}");
    EXPECT_EQ(set.status, 200) << set.body;
    thread_ = std::thread([this] {
      result_ = cluster_.proxy_post("/el", rpc(5, "eth_getBalance", {"0x00000000000000000000000000000000000000aa", "latest"}));
    });
  }
  ~SlowRequest() {
    if (thread_.joinable()) thread_.join();
  }
  SlowRequest(const SlowRequest&) = delete;
  SlowRequest& operator=(const SlowRequest&) = delete;

  // The request has reached the node (the fake node counts what it is answering).
  ::testing::AssertionResult in_flight() {
    bool reached = chaos::wait_until(
        [&] {
          auto state = parse_body(cluster_.admin("el-primary", "/state"));
          return state.is_object() && state["state"].value("in_flight", 0) == 1;
        },
        seconds(5));
    if (reached) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "not in flight at the node: " << cluster_.admin("el-primary", "/state").body;
  }
  const chaos::HttpResult& answer() {
    if (thread_.joinable()) thread_.join();
    return result_;
  }

 private:
  Cluster& cluster_;
  chaos::HttpResult result_;
  std::thread thread_;
};

TEST(Process, SigtermLetsInFlightRequestsFinishThenExitsZero) {
  ClusterOptions options;
  options.el_backups = {};
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(wait_ready(cluster));
  SlowRequest slow(cluster, 700);
  ASSERT_TRUE(slow.in_flight());  // before the signal
  ::kill(cluster.proxy().pid(), SIGTERM);
  EXPECT_EQ(slow.answer().status, 200) << slow.answer().body;
  EXPECT_EQ(cluster.proxy().wait_for_exit(seconds(10)), 0);
  // After shutdown nothing listens any more.
  auto after = chaos::http_request("127.0.0.1", cluster.proxy_port(), boost::beast::http::verb::get, "/health", "",
                                   {}, milliseconds(500));
  EXPECT_TRUE(after.ec);
}

// What the shutdown deadline cuts off (a request the node answers too late, a WebSocket client that
// never answers the closing handshake) unwinds while vixy's parts are still there: the exit is
// clean, and under the sanitizers any use of a part already destroyed fails the exit status.
TEST(Process, ConnectionsCutAtTheShutdownDeadlineUnwindCleanly) {
  ClusterOptions options;
  options.el_backups = {};
  options.extra_toml = "[server]\nshutdown_timeout_ms = 300\n";
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(wait_ready(cluster));
  RpcWs deaf;  // reads nothing after its subscription: vixy's close frame goes unanswered
  ASSERT_TRUE(deaf.connect(cluster.proxy_port()));
  ASSERT_FALSE(deaf.subscribe("1", {"newHeads"}).empty());
  SlowRequest slow(cluster, 5000);
  ASSERT_TRUE(slow.in_flight());

  EXPECT_EQ(cluster.proxy().terminate(seconds(10)), 0) << cluster.proxy().log();
  EXPECT_NE(slow.answer().status, 200) << "the deadline (300 ms) passed long before the node's answer (5 s)";
  std::string log = cluster.proxy().log();
  EXPECT_NE(log.find("msg=\"shutdown deadline passed\" cut_connections=2"), std::string::npos) << log;
  // The cut connections were wound up before vixy's parts went away, not by ~io_context after.
  EXPECT_NE(log.find("msg=stopped connections_left=0 sessions_left=0"), std::string::npos) << log;
}

// Clients opening WebSocket sessions while SIGTERM arrives: a session whose handshake answer is
// still being written when the shutdown closes every session must not start its closing handshake
// beside that write (two writes on one socket stopped vixy with Beast's assertion, exit 134). Each
// client gets an answer or a closed connection, and vixy exits 0.
TEST(Process, WebSocketHandshakesUnderWayAtShutdownEndCleanly) {
  namespace asio = boost::asio;
  ClusterOptions options;
  options.el_backups = {};
  options.cl_nodes = {};
  for (int round = 0; round < 3; ++round) {
    Cluster cluster(binaries(), options);
    ASSERT_TRUE(wait_ready(cluster));
    const auto port = cluster.proxy_port();
    std::atomic<bool> done{false};
    std::atomic<int> upgraded{0};
    std::vector<std::thread> clients;
    for (int i = 0; i < 4; ++i) {
      clients.emplace_back([&] {
        const std::string upgrade =
            "GET /el/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        asio::io_context io;
        while (!done) {
          asio::ip::tcp::socket socket(io);
          boost::system::error_code ec;
          socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
          if (ec) return;  // vixy has stopped listening
          asio::write(socket, asio::buffer(upgrade), ec);
          std::array<char, 512> answer{};
          auto got = socket.read_some(asio::buffer(answer), ec);
          if (!ec && std::string_view(answer.data(), got).starts_with("HTTP/1.1 101")) ++upgraded;
        }
      });
    }
    // The signal lands while handshakes keep arriving.
    EXPECT_TRUE(chaos::wait_until([&] { return upgraded >= 20; }, seconds(10)));
    ::kill(cluster.proxy().pid(), SIGTERM);
    auto status = cluster.proxy().wait_for_exit(seconds(15));
    if (!status) cluster.proxy().kill();  // hung: its clients' reads end with it
    done = true;
    for (auto& client : clients) client.join();
    ASSERT_EQ(status, 0) << "round " << round << ": " << cluster.proxy().log();
  }
}

}  // namespace
}  // namespace vixy::testing
