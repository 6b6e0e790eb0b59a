// Scripting a fake node at run time through its admin API.

#include <gtest/gtest.h>

#include "fakenode_fixture.hpp"
#include "jsonrpc/jsonrpc.hpp"

namespace vixy::testing {
namespace {

using fakenodes::NodeKind;
using Clock = std::chrono::steady_clock;

std::uint64_t block_number(const RunningNode& node) {
  return *jsonrpc::from_quantity(node.rpc("eth_blockNumber")["result"].get<std::string>());
}

TEST(FakeAdmin, StateDescribesTheNode) {
  RunningNode node(NodeKind::el);
  json state = node.state();
  for (const char* key : {"head", "lag", "paused", "syncing", "healthy", "silent", "listening", "connections",
                          "subscriptions", "overrides"}) {
    EXPECT_TRUE(state.contains(key)) << key;
  }
  EXPECT_EQ(state["listening"], true);
  EXPECT_EQ(state["healthy"], true);
  EXPECT_EQ(state["lag"], 0);
}

TEST(FakeAdmin, BadInputIsRejected) {
  RunningNode node(NodeKind::el);
  auto bad = [&](const std::string& path, const std::string& body) {
    auto result = node.admin_raw(path, body);
    EXPECT_EQ(result.status, 400) << path << " " << body;
    EXPECT_EQ(json::parse(result.body)["ok"], false);
  };
  bad("/lag", R"({"blocks":-3})");
  bad("/lag", R"({})");
  bad("/lag", "not json");
  bad("/method", R"({"delay_ms":5})");
  bad("/method", R"({"method":"eth_chainId"})");
  bad("/method", R"({"method":"eth_chainId","error":{"message":"no code"}})");
  bad("/syncing", R"({"syncing":"yes"})");
  EXPECT_EQ(node.admin_raw("/no-such-thing").status, 404);
  EXPECT_EQ(chaos::get("127.0.0.1", node.admin_port(), "/lag").status, 405);
}

TEST(FakeAdmin, LagHoldsTheHeadBack) {
  RunningNode node(NodeKind::el, 7, 60'000);  // slow blocks: the clock height stays put during the test
  json state = node.admin("/lag", {{"blocks", 5}})["state"];
  EXPECT_EQ(state["lag"], 5);
  EXPECT_EQ(state["head"].get<std::uint64_t>() + 5, state["chain_height"].get<std::uint64_t>());
  std::uint64_t expected = expected_height(60'000) - 5;
  std::uint64_t head = block_number(node);
  EXPECT_TRUE(head == expected || head + 1 == expected) << head << " vs " << expected;
  node.admin("/lag", {{"blocks", 0}});
  EXPECT_GE(block_number(node), head + 5);
}

TEST(FakeAdmin, PauseStopsTheHeadAndResumeCatchesUp) {
  RunningNode node(NodeKind::el, 7, kFastBlocks);
  node.admin("/pause");
  std::uint64_t paused = block_number(node);
  // Wait until the clock moved at least three blocks on, then check the head did not.
  ASSERT_TRUE(eventually([&] { return node.state()["chain_height"].get<std::uint64_t>() >= paused + 3; }));
  EXPECT_EQ(block_number(node), paused);
  EXPECT_EQ(node.state()["paused"], true);

  node.admin("/resume");
  std::uint64_t resumed = block_number(node);
  EXPECT_GE(resumed, paused + 3);
}

TEST(FakeAdmin, ResumeNotifiesEveryMissedHeadInOrder) {
  RunningNode node(NodeKind::el, 7, kFastBlocks);
  chaos::WsClient ws;
  ASSERT_FALSE(ws.connect("127.0.0.1", node.rpc_port()));
  ASSERT_FALSE(ws.send(R"({"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]})"));
  auto answer = ws.receive(3s);
  ASSERT_TRUE(answer);
  node.admin("/pause");
  std::uint64_t paused = block_number(node);
  ASSERT_TRUE(eventually([&] { return node.state()["chain_height"].get<std::uint64_t>() >= paused + 5; }));
  node.admin("/resume");

  std::vector<std::uint64_t> numbers;
  auto deadline = Clock::now() + 5s;
  while (Clock::now() < deadline && (numbers.empty() || numbers.back() < paused + 5)) {
    auto text = ws.receive(1s);
    if (!text) break;
    json message = json::parse(*text);
    numbers.push_back(*jsonrpc::from_quantity(message["params"]["result"]["number"].get<std::string>()));
  }
  ASSERT_FALSE(numbers.empty());
  for (std::size_t i = 1; i < numbers.size(); ++i) EXPECT_EQ(numbers[i], numbers[i - 1] + 1);
  EXPECT_GE(numbers.back(), paused + 5);
}

TEST(FakeAdmin, MethodErrorAppliesToHttpAndWebSocketUntilCleared) {
  RunningNode node(NodeKind::el);
  node.admin("/method", {{"method", "eth_getBalance"}, {"error", {{"code", -32000}, {"message", "boom"}}}});
  json answer = node.rpc("eth_getBalance", {"0x00000000000000000000000000000000000000aa", "latest"});
  EXPECT_EQ(answer["error"]["code"], -32000);
  EXPECT_EQ(answer["error"]["message"], "boom");
  EXPECT_TRUE(node.rpc("eth_chainId").contains("result")) << "other methods are untouched";

  chaos::WsClient ws;
  ASSERT_FALSE(ws.connect("127.0.0.1", node.rpc_port()));
  ASSERT_FALSE(ws.send(R"({"jsonrpc":"2.0","id":4,"method":"eth_getBalance","params":["0x01","latest"]})"));
  auto text = ws.receive(3s);
  ASSERT_TRUE(text);
  EXPECT_EQ(json::parse(*text)["error"]["message"], "boom");

  EXPECT_EQ(node.state()["overrides"]["eth_getBalance"]["error"]["code"], -32000);
  node.admin("/method/clear", {{"method", "eth_getBalance"}});
  EXPECT_TRUE(node.rpc("eth_getBalance", {"0x01", "latest"}).contains("result"));
}

TEST(FakeAdmin, MethodDelayHoldsTheAnswer) {
  RunningNode node(NodeKind::el);
  node.admin("/method", {{"method", "eth_blockNumber"}, {"delay_ms", 400}});
  auto impatient = node.rpc_raw(R"({"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"})", 100ms);
  EXPECT_EQ(impatient.ec, boost::asio::error::timed_out);

  auto start = Clock::now();
  auto patient = node.rpc_raw(R"({"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"})", 5s);
  ASSERT_TRUE(patient.ok());
  EXPECT_GE(Clock::now() - start, 400ms);
  EXPECT_TRUE(json::parse(patient.body).contains("result"));

  // On a WebSocket a delayed answer does not hold up the next request.
  chaos::WsClient ws;
  ASSERT_FALSE(ws.connect("127.0.0.1", node.rpc_port()));
  ASSERT_FALSE(ws.send(R"({"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"})"));
  ASSERT_FALSE(ws.send(R"({"jsonrpc":"2.0","id":2,"method":"eth_chainId"})"));
  auto first = ws.receive(3s);
  auto second = ws.receive(3s);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(json::parse(*first)["id"], 2);
  EXPECT_EQ(json::parse(*second)["id"], 1);

  node.admin("/method/clear");
  EXPECT_TRUE(node.state()["overrides"].empty());
}

TEST(FakeAdmin, KillRefusesConnectionsAndRestartServesAgain) {
  RunningNode node(NodeKind::el);
  chaos::WsClient ws;
  ASSERT_FALSE(ws.connect("127.0.0.1", node.rpc_port()));

  json state = node.admin("/kill")["state"];
  EXPECT_EQ(state["listening"], false);
  auto refused = node.rpc_raw(R"({"jsonrpc":"2.0","id":1,"method":"eth_chainId"})", 1s);
  EXPECT_EQ(refused.ec, boost::asio::error::connection_refused);
  EXPECT_FALSE(ws.receive(2s)) << "open connections were closed too";
  EXPECT_TRUE(ws.closed());

  EXPECT_EQ(node.admin_raw("/restart").status, 200);
  EXPECT_TRUE(node.rpc("eth_chainId").contains("result"));
  EXPECT_EQ(node.admin_raw("/restart").status, 409);
}

TEST(FakeAdmin, CloseConnectionsKeepsTheListener) {
  RunningNode node(NodeKind::el);
  chaos::WsClient ws;
  ASSERT_FALSE(ws.connect("127.0.0.1", node.rpc_port()));
  ASSERT_TRUE(eventually([&] { return node.state()["connections"].get<int>() == 1; }));
  node.admin("/close-connections");
  EXPECT_FALSE(ws.receive(2s));
  EXPECT_TRUE(ws.closed());
  EXPECT_TRUE(eventually([&] { return node.state()["connections"].get<int>() == 0; }));
  EXPECT_TRUE(node.rpc("eth_chainId").contains("result"));
}

TEST(FakeAdmin, SilentNodeReadsButNeverAnswers) {
  RunningNode node(NodeKind::el, 7, kFastBlocks);
  chaos::WsClient ws;
  ASSERT_FALSE(ws.connect("127.0.0.1", node.rpc_port()));
  ASSERT_TRUE(ws.ping(2s)) << "a pong comes back before the node goes silent";

  node.admin("/silent", {{"silent", true}});
  auto http = node.rpc_raw(R"({"jsonrpc":"2.0","id":1,"method":"eth_chainId"})", 300ms);
  EXPECT_EQ(http.ec, boost::asio::error::timed_out) << "connected, but no answer";

  EXPECT_FALSE(ws.send(R"({"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]})"));
  EXPECT_FALSE(ws.receive(6 * std::chrono::milliseconds(kFastBlocks))) << "no answer, no notification";
  EXPECT_FALSE(ws.ping(300ms)) << "not even a pong";
  EXPECT_FALSE(ws.closed()) << "the connection stays open";

  node.admin("/silent", {{"silent", false}});
  EXPECT_TRUE(node.rpc("eth_chainId").contains("result"));
  // The WebSocket whose read was cut off by the silence cannot be resumed: the node closes it.
  EXPECT_FALSE(ws.receive(2s));
  EXPECT_TRUE(ws.closed());
}

TEST(FakeAdmin, UnhealthyElAnswers503) {
  RunningNode node(NodeKind::el);
  node.admin("/healthy", {{"healthy", false}});
  auto result = node.rpc_raw(R"({"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"})");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.status, 503);
  node.admin("/healthy", {{"healthy", true}});
  EXPECT_EQ(node.rpc_raw(R"({"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"})").status, 200);
}

TEST(FakeAdmin, SyncingShowsInEthSyncing) {
  RunningNode node(NodeKind::el);
  node.admin("/syncing", {{"syncing", true}});
  json syncing = node.rpc("eth_syncing")["result"];
  ASSERT_TRUE(syncing.is_object());
  EXPECT_TRUE(syncing.contains("currentBlock"));
  EXPECT_TRUE(syncing.contains("highestBlock"));
  node.admin("/syncing", {{"syncing", false}});
  EXPECT_EQ(node.rpc("eth_syncing")["result"], false);
}

TEST(FakeAdmin, DropSubscriptionsEndsNotificationsButNotTheConnection) {
  RunningNode node(NodeKind::el, 7, kFastBlocks);
  chaos::WsClient ws;
  ASSERT_FALSE(ws.connect("127.0.0.1", node.rpc_port()));
  ASSERT_FALSE(ws.send(R"({"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]})"));
  ASSERT_TRUE(ws.receive(3s));
  ASSERT_TRUE(ws.receive(3s)) << "a first notification";
  EXPECT_EQ(node.admin("/drop-subscriptions")["state"]["subscriptions"], 0);
  // Drain what was queued before the drop, then expect silence for several blocks.
  while (ws.receive(std::chrono::milliseconds(3 * kFastBlocks))) {
  }
  EXPECT_FALSE(ws.receive(std::chrono::milliseconds(6 * kFastBlocks)));
  ASSERT_FALSE(ws.send(R"({"jsonrpc":"2.0","id":2,"method":"eth_chainId"})"));
  auto answer = ws.receive(3s);
  ASSERT_TRUE(answer);
  EXPECT_EQ(json::parse(*answer)["id"], 2);
}

TEST(FakeAdmin, StopUnwindsEverything) {
  RunningNode node(NodeKind::el, 7, kFastBlocks);
  chaos::WsClient ws;
  ASSERT_FALSE(ws.connect("127.0.0.1", node.rpc_port()));
  ASSERT_FALSE(ws.send(R"({"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]})"));
  ASSERT_TRUE(ws.receive(3s));
  node.admin("/method", {{"method", "eth_chainId"}, {"delay_ms", 200}});
  EXPECT_TRUE(node.stop()) << "every coroutine ended and io_context::run returned by itself";
}

// ---- reorg ----

constexpr std::uint64_t kStillBlocks = 600'000;  // no new block during a test

TEST(FakeAdmin, ReorgReplacesTheLastBlocksAndEveryAnswerFollowsTheFork) {
  RunningNode node(NodeKind::el, 7, kStillBlocks);
  std::uint64_t head = block_number(node);
  json below = block_at(node, head - 2), old_parent = block_at(node, head - 1), old_head = block_at(node, head);

  json state = node.admin("/reorg", {{"depth", 2}, {"fork_seed", 9}})["state"];
  EXPECT_EQ(state["forks"], json::parse(R"([{"from_height":)" + std::to_string(head - 1) + R"(,"fork_seed":9}])"));
  EXPECT_EQ(block_number(node), head) << "same heights";
  EXPECT_EQ(block_at(node, head - 2), below);
  json parent = block_at(node, head - 1), top = block_at(node, head);
  EXPECT_NE(parent["hash"], old_parent["hash"]);
  EXPECT_NE(top["hash"], old_head["hash"]);
  EXPECT_EQ(parent["parentHash"], below["hash"]) << "the fork starts on the old chain";
  EXPECT_EQ(top["parentHash"], parent["hash"]);
  EXPECT_EQ(node.rpc("eth_getBlockByHash", {top["hash"], false})["result"], top);
  EXPECT_EQ(node.rpc("eth_getBlockByHash", {old_head["hash"], false})["result"], old_head)
      << "a replaced block is still found by hash, as on geth";

  json logs = node.rpc("eth_getLogs", {{{"fromBlock", jsonrpc::to_quantity(head - 2)},
                                        {"toBlock", jsonrpc::to_quantity(head)}}})["result"];
  ASSERT_EQ(logs.size(), 9u);
  for (std::size_t i = 0; i < 9; ++i) {
    EXPECT_EQ(logs[i]["blockHash"], (i < 3 ? below : i < 6 ? parent : top)["hash"]) << i;
  }
  json old_logs = node.rpc("eth_getLogs", {{{"blockHash", old_head["hash"]}}})["result"];
  ASSERT_EQ(old_logs.size(), 3u);
  EXPECT_EQ(old_logs[0]["blockHash"], old_head["hash"]);
}

TEST(FakeAdmin, TwoNodesGivenTheSameReorgAgreeAndOthersKeepTheOldChain) {
  RunningNode a(NodeKind::el, 7, kStillBlocks);
  RunningNode b(NodeKind::el, 7, kStillBlocks);
  RunningNode untouched(NodeKind::el, 7, kStillBlocks);
  std::uint64_t head = block_number(a);
  json old_head = block_at(a, head);
  json fork = a.admin("/reorg", {{"depth", 3}, {"fork_seed", 4}})["state"]["forks"][0];
  EXPECT_EQ(fork["from_height"], head - 2);
  b.admin("/reorg", {{"from_height", fork["from_height"]}, {"fork_seed", 4}});
  for (std::uint64_t h = head - 3; h <= head; ++h) EXPECT_EQ(block_at(a, h), block_at(b, h)) << h;
  EXPECT_NE(block_at(a, head)["hash"], old_head["hash"]);
  EXPECT_EQ(block_at(untouched, head), old_head);

  // The default fork seed counts the node's forks, so the same admin calls agree too.
  a.admin("/reorg", {{"depth", 1}});
  b.admin("/reorg", {{"depth", 1}});
  EXPECT_EQ(a.state()["forks"][1]["fork_seed"], 2);
  EXPECT_EQ(block_at(a, head), block_at(b, head));
}

TEST(FakeAdmin, BadReorgsAreRejectedNamingTheKey) {
  RunningNode node(NodeKind::el, 7, kStillBlocks);
  std::uint64_t head = block_number(node);
  auto rejected = [&](const json& body, const std::string& key) {
    auto result = node.admin_raw("/reorg", body.dump());
    EXPECT_EQ(result.status, 400) << body.dump();
    EXPECT_NE(json::parse(result.body).value("error", "").find(key), std::string::npos) << result.body;
  };
  rejected(json::object(), "depth");
  rejected({{"depth", 0}}, "depth");
  rejected({{"depth", 5000}}, "depth");
  rejected({{"depth", "2"}}, "depth");
  rejected({{"depth", 2}, {"from_height", head}}, "from_height");
  rejected({{"from_height", 0}}, "from_height");
  rejected({{"from_height", head + 1}}, "from_height");
  rejected({{"from_height", head - 2000}}, "from_height");
  rejected({{"depth", 1}, {"fork_seed", -1}}, "fork_seed");
  EXPECT_TRUE(node.state()["forks"].empty()) << "nothing was applied";

  RunningNode cl(NodeKind::cl);
  EXPECT_EQ(cl.admin_raw("/reorg", R"({"depth":1})").status, 400);
}

}  // namespace
}  // namespace vixy::testing
