// The fault injector, observed from outside: a raw TCP client talks through it to an in-process
// echo server, and every fault is checked by what the client sees (timing lower bounds, silence,
// RST, EOF, refusal).

#include "chaos/injector.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "chaos/process.hpp"
#include "echo_fixture.hpp"
#include "fakenode_fixture.hpp"

namespace vixy::testing {
namespace {

using namespace std::chrono_literals;
using chaos::Direction;
using chaos::FaultInjector;
using Clock = std::chrono::steady_clock;

std::chrono::milliseconds elapsed_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

class InjectorTest : public ::testing::Test {
 protected:
  EchoServer echo_;
  FaultInjector injector_{"127.0.0.1", echo_.port()};

  std::unique_ptr<RawClient> connected() {
    auto client = std::make_unique<RawClient>();
    EXPECT_FALSE(client->connect(injector_.port()));
    EXPECT_EQ(client->echo("hello"), "hello");
    return client;
  }
};

TEST_F(InjectorTest, RelaysLargeTransfersUnchanged) {
  auto client = connected();
  std::string payload;
  for (int i = 0; payload.size() < 300'000; ++i) payload += std::to_string(i) + ",";
  EXPECT_EQ(client->echo(payload), payload);
  EXPECT_EQ(injector_.connection_count(), 1u);
}

TEST_F(InjectorTest, JitterNeverReordersBytes) {
  injector_.set_latency(Direction::both, 5ms, 30ms);
  auto client = connected();
  std::string expected;
  for (int i = 0; i < 40; ++i) {
    std::string piece = "<" + std::to_string(i) + ">";
    expected += piece;
    client->send(piece);
    std::this_thread::sleep_for(2ms);  // pacing: separate reads, so separate jittered chunks
  }
  EXPECT_EQ(client->read(expected.size()), expected);
}

TEST_F(InjectorTest, LatencyDelaysEachDirection) {
  auto client = connected();
  injector_.set_latency(Direction::to_node, 300ms);
  auto start = Clock::now();
  ASSERT_EQ(client->echo("a"), "a");
  EXPECT_GE(elapsed_since(start), 300ms);

  injector_.set_latency(Direction::both, 250ms);
  start = Clock::now();
  ASSERT_EQ(client->echo("b"), "b");
  EXPECT_GE(elapsed_since(start), 500ms);
  EXPECT_EQ(injector_.state()["faults"]["to_client"]["latency_ms"], 250);
}

TEST_F(InjectorTest, BandwidthBoundsTransferTime) {
  auto client = connected();
  injector_.set_bandwidth(Direction::to_client, 20'000);
  std::string payload(20'000, 'x');
  auto start = Clock::now();
  ASSERT_EQ(client->echo(payload, 10s), payload);
  EXPECT_GE(elapsed_since(start), 1000ms);  // 20,000 bytes at 20,000 bytes/s
}

TEST_F(InjectorTest, BlackholeReadsButNeverAnswersNorCloses) {
  auto client = connected();
  injector_.set_blackhole(true);
  client->send("lost");
  EXPECT_EQ(client->next(700ms), RawClient::End::silence);

  RawClient late;  // accepted during the blackhole: the node never sees it
  ASSERT_FALSE(late.connect(injector_.port()));
  late.send("anyone?");
  EXPECT_EQ(late.next(300ms), RawClient::End::silence);
  EXPECT_EQ(injector_.connection_count(), 2u);

  injector_.set_blackhole(false);
  // The old connection works again, and what was sent into the hole never reached the node.
  EXPECT_EQ(client->echo("back"), "back");
  EXPECT_EQ(late.next(2s), RawClient::End::eof);
  EXPECT_GE(injector_.state()["counters"]["bytes_blackholed"].get<int>(), 11);
}

TEST_F(InjectorTest, ResetPeersGivesConnectionReset) {
  auto client = connected();
  injector_.reset_peers();
  EXPECT_EQ(client->next(2s), RawClient::End::reset);
  EXPECT_TRUE(chaos::wait_until([&] { return injector_.connection_count() == 0; }, 2s));
  auto again = connected();  // still listening
}

TEST_F(InjectorTest, CloseAllEndsConnectionsInOrder) {
  auto client = connected();
  injector_.close_all();
  EXPECT_EQ(client->next(2s), RawClient::End::eof);
  EXPECT_EQ(injector_.connection_count(), 0u);
}

TEST_F(InjectorTest, KillRefusesAndRestartServesOnTheSamePort) {
  auto client = connected();
  auto port = injector_.port();
  injector_.kill();
  EXPECT_FALSE(injector_.listening());
  EXPECT_EQ(client->next(2s), RawClient::End::eof);
  RawClient refused;
  EXPECT_EQ(refused.connect(port), asio::error::connection_refused);

  injector_.restart();
  EXPECT_TRUE(injector_.listening());
  EXPECT_EQ(injector_.port(), port);
  auto again = connected();
  EXPECT_EQ(injector_.state()["counters"]["restarts"], 1);
}

TEST_F(InjectorTest, SlowCloseDelaysTheNodesCloseToTheClient) {
  injector_.set_slow_close(600ms);
  auto client = connected();
  auto start = Clock::now();
  ASSERT_EQ(client->echo("BYE"), "BYE");  // the echo server closes after this
  EXPECT_EQ(client->next(5s), RawClient::End::eof);
  EXPECT_GE(elapsed_since(start), 600ms);
}

TEST_F(InjectorTest, NodeCloseIsPassedOnAtOnceWithoutSlowClose) {
  auto client = connected();
  ASSERT_EQ(client->echo("BYE"), "BYE");
  EXPECT_EQ(client->next(2s), RawClient::End::eof);
}

TEST_F(InjectorTest, ClearTurnsEveryFaultOff) {
  injector_.set_latency(Direction::both, 3000ms, 10ms);
  injector_.set_bandwidth(Direction::both, 1);
  injector_.set_blackhole(true);
  injector_.set_slow_close(5000ms);
  injector_.clear();
  auto faults = injector_.state()["faults"];
  for (const char* d : {"to_node", "to_client"}) {
    EXPECT_EQ(faults[d]["latency_ms"], 0) << d;
    EXPECT_EQ(faults[d]["jitter_ms"], 0) << d;
    EXPECT_EQ(faults[d]["bytes_per_second"], 0) << d;
  }
  EXPECT_EQ(faults["blackhole"], false);
  EXPECT_EQ(faults["slow_close_ms"], 0);
  RawClient client;
  ASSERT_FALSE(client.connect(injector_.port()));
  // 2 s is less than the latency that was cleared (3 s each way): only a cleared fault answers in time.
  EXPECT_EQ(client.echo(std::string(64, 'z'), 2s), std::string(64, 'z'));
}

// A real protocol through the relay: JSON-RPC over HTTP and a WebSocket subscription to a fake EL
// node; a blackhole then leaves the WebSocket open but deaf (no pong).
TEST(Injector, RelaysHttpAndWebSocketToAFakeNode) {
  RunningNode node(fakenodes::NodeKind::el, 7, 100);
  FaultInjector injector("127.0.0.1", node.rpc_port());
  auto answer = chaos::post_json("127.0.0.1", injector.port(), "/",
                                 R"({"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]})");
  ASSERT_TRUE(answer.ok()) << answer.ec.message();
  EXPECT_EQ(json::parse(answer.body)["id"], 1);

  chaos::WsClient ws;
  ASSERT_FALSE(ws.connect("127.0.0.1", injector.port(), "/"));
  ASSERT_FALSE(ws.send(R"({"jsonrpc":"2.0","id":2,"method":"eth_subscribe","params":["newHeads"]})"));
  auto subscribed = ws.receive(5s);
  ASSERT_TRUE(subscribed);
  EXPECT_EQ(json::parse(*subscribed)["id"], 2);
  auto head = ws.receive(5s);
  ASSERT_TRUE(head);
  EXPECT_EQ(json::parse(*head)["method"], "eth_subscription");

  injector.set_blackhole(true);
  EXPECT_FALSE(ws.ping(500ms));
  EXPECT_FALSE(ws.closed());
}

TEST(Injector, UnreachableTargetClosesTheClient) {
  std::uint16_t dead_port;
  {
    EchoServer gone;
    dead_port = gone.port();
  }
  FaultInjector injector("127.0.0.1", dead_port);
  RawClient client;
  ASSERT_FALSE(client.connect(injector.port()));
  EXPECT_EQ(client.next(2s), RawClient::End::eof);
  EXPECT_EQ(injector.state()["counters"]["upstream_connect_failures"], 1);
}

TEST(Injector, PortInUseIsAnError) {
  EchoServer echo;
  EXPECT_THROW(FaultInjector("127.0.0.1", echo.port(), echo.port()), std::runtime_error);
}

}  // namespace
}  // namespace vixy::testing
