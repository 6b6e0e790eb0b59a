// The fake EL node over HTTP: JSON-RPC methods, batches, errors, and agreement between nodes.

#include <gtest/gtest.h>

#include "fakenode_fixture.hpp"
#include "jsonrpc/jsonrpc.hpp"

namespace vixy::testing {
namespace {

using fakenodes::NodeKind;

std::uint64_t quantity(const json& value) {
  auto parsed = jsonrpc::from_quantity(value.get<std::string>());
  if (!parsed) throw std::runtime_error("not a quantity: " + value.dump());
  return *parsed;
}

TEST(FakeElHttp, BlockNumberFollowsTheClock) {
  RunningNode node(NodeKind::el, 7, 1000);
  std::uint64_t before = expected_height(1000);
  json answer = node.rpc("eth_blockNumber");
  std::uint64_t after = expected_height(1000);
  EXPECT_EQ(answer["jsonrpc"], "2.0");
  EXPECT_EQ(answer["id"], 1);
  std::uint64_t head = quantity(answer["result"]);
  EXPECT_GE(head, before);
  EXPECT_LE(head, after);
}

TEST(FakeElHttp, AnyPathAndCredentialsAreAccepted) {
  RunningNode node(NodeKind::el);
  auto result =
      chaos::http_request("127.0.0.1", node.rpc_port(), boost::beast::http::verb::post, "/v3/SECRETKEY",
                          R"({"jsonrpc":"2.0","id":"a","method":"eth_chainId"})",
                          {{"Content-Type", "application/json"}, {"Authorization", "Basic dXNlcjpwYXNz"}});
  ASSERT_TRUE(result.ok()) << result.ec.message();
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(json::parse(result.body)["result"], "0x1");
}

TEST(FakeElHttp, IdentityMethods) {
  fakenodes::NodeOptions options;
  options.chain.chain_id = 17000;
  options.name = "primary";
  RunningNode node(options);
  EXPECT_EQ(node.rpc("eth_chainId")["result"], "0x4268");
  EXPECT_EQ(node.rpc("net_version")["result"], "17000");
  EXPECT_EQ(node.rpc("web3_clientVersion")["result"],
            std::string("vixy-fakenode/") + VIXY_VERSION + "/primary");
  EXPECT_EQ(node.rpc("eth_syncing")["result"], false);
}

TEST(FakeElHttp, BatchIsAnsweredAsAnArrayWithoutNotifications) {
  RunningNode node(NodeKind::el);
  auto result = node.rpc_raw(R"([{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},
                                 {"jsonrpc":"2.0","id":"two","method":"nope_nope"},
                                 {"jsonrpc":"2.0","method":"eth_chainId"},
                                 {"jsonrpc":"2.0","id":3,"method":"eth_blockNumber"}])");
  ASSERT_TRUE(result.ok());
  json answers = json::parse(result.body);
  ASSERT_TRUE(answers.is_array());
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[0]["id"], 1);
  EXPECT_EQ(answers[0]["result"], "0x1");
  EXPECT_EQ(answers[1]["id"], "two");
  EXPECT_EQ(answers[1]["error"]["code"], -32601);
  EXPECT_EQ(answers[2]["id"], 3);
  EXPECT_TRUE(answers[2].contains("result"));
}

TEST(FakeElHttp, ErrorsFollowJsonRpc) {
  RunningNode node(NodeKind::el);
  EXPECT_EQ(node.rpc("eth_doesNotExist")["error"]["code"], -32601);

  auto garbage = node.rpc_raw("{not json");
  ASSERT_TRUE(garbage.ok());
  EXPECT_EQ(garbage.status, 200);
  json parse_error = json::parse(garbage.body);
  EXPECT_EQ(parse_error["error"]["code"], -32700);
  EXPECT_TRUE(parse_error["id"].is_null());

  json empty_batch = json::parse(node.rpc_raw("[]").body);
  EXPECT_TRUE(empty_batch.is_object());
  EXPECT_EQ(empty_batch["error"]["code"], -32600);

  json invalid = json::parse(node.rpc_raw(R"({"jsonrpc":"2.0","id":9,"method":5})").body);
  EXPECT_EQ(invalid["error"]["code"], -32600);
  EXPECT_EQ(invalid["id"], 9);

  auto notification = node.rpc_raw(R"({"jsonrpc":"2.0","method":"eth_chainId"})");
  ASSERT_TRUE(notification.ok());
  EXPECT_EQ(notification.status, 200);
  EXPECT_TRUE(notification.body.empty());

  auto get = chaos::get("127.0.0.1", node.rpc_port(), "/");
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get.status, 405);

  json subscribe = node.rpc("eth_subscribe", {"newHeads"});
  EXPECT_EQ(subscribe["error"]["code"], -32601);
  EXPECT_EQ(subscribe["error"]["message"], "notifications not supported");

  EXPECT_EQ(node.rpc("eth_getBlockByNumber", {"soon"})["error"]["code"], -32602);
}

TEST(FakeElHttp, LatestBlockIsConsistentWithBlockNumber) {
  RunningNode node(NodeKind::el, 7, 1000);
  std::uint64_t number = quantity(node.rpc("eth_blockNumber")["result"]);
  json block = node.rpc("eth_getBlockByNumber", {"latest", false})["result"];
  std::uint64_t latest = quantity(block["number"]);
  EXPECT_GE(latest, number);
  EXPECT_LE(latest, number + 1) << "at most one block boundary between the two calls";

  std::string hash = block["hash"];
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(latest));
  EXPECT_EQ(hash.substr(50), suffix);

  json parent = node.rpc("eth_getBlockByNumber", {jsonrpc::to_quantity(latest - 1), false})["result"];
  EXPECT_EQ(block["parentHash"], parent["hash"]);

  json future = node.rpc("eth_getBlockByNumber", {jsonrpc::to_quantity(latest + 100), false});
  EXPECT_TRUE(future.contains("result"));
  EXPECT_TRUE(future["result"].is_null());
}

TEST(FakeElHttp, BlockByHashRoundTrips) {
  RunningNode node(NodeKind::el, 7, 1000);
  json by_number = node.rpc("eth_getBlockByNumber", {"latest", true})["result"];
  json by_hash = node.rpc("eth_getBlockByHash", {by_number["hash"], true})["result"];
  EXPECT_EQ(by_hash, by_number);
  EXPECT_TRUE(by_hash["transactions"][0].is_object());

  std::string unknown = "0x" + std::string(64, '1');
  EXPECT_TRUE(node.rpc("eth_getBlockByHash", {unknown, false})["result"].is_null());
}

TEST(FakeElHttp, NodesWithTheSameSeedAgree) {
  RunningNode primary(NodeKind::el, 99, 1000);
  RunningNode backup(NodeKind::el, 99, 1000);
  RunningNode other(NodeKind::el, 100, 1000);
  std::uint64_t head = quantity(primary.rpc("eth_blockNumber")["result"]);
  json height = jsonrpc::to_quantity(head - 3);
  json a = primary.rpc("eth_getBlockByNumber", {height, false})["result"];
  json b = backup.rpc("eth_getBlockByNumber", {height, false})["result"];
  json c = other.rpc("eth_getBlockByNumber", {height, false})["result"];
  EXPECT_EQ(a["hash"], b["hash"]);
  EXPECT_EQ(a, b);
  EXPECT_NE(a["hash"], c["hash"]);
  EXPECT_EQ(backup.rpc("eth_getBlockByHash", {a["hash"], false})["result"], a);
  EXPECT_TRUE(other.rpc("eth_getBlockByHash", {a["hash"], false})["result"].is_null());
}

TEST(FakeElHttp, GetLogsFiltersAndLimitsTheRange) {
  RunningNode node(NodeKind::el, 7, 1000);
  std::uint64_t head = quantity(node.rpc("eth_blockNumber")["result"]);
  std::string from = jsonrpc::to_quantity(head - 9);
  std::string to = jsonrpc::to_quantity(head);

  json all = node.rpc("eth_getLogs", {{{"fromBlock", from}, {"toBlock", to}}})["result"];
  ASSERT_EQ(all.size(), 30u) << "3 logs in each of 10 blocks";
  EXPECT_EQ(all.front()["blockNumber"], from);
  EXPECT_EQ(all.back()["blockNumber"], to);

  std::string address = "0x1111111111111111111111111111111111111111";
  json filtered =
      node.rpc("eth_getLogs", {{{"fromBlock", from}, {"toBlock", to}, {"address", address}}})["result"];
  EXPECT_FALSE(filtered.empty());
  EXPECT_LT(filtered.size(), all.size());
  for (const auto& log : filtered) EXPECT_EQ(log["address"], address);

  json block = node.rpc("eth_getBlockByNumber", {to, false})["result"];
  json by_hash = node.rpc("eth_getLogs", {{{"blockHash", block["hash"]}}})["result"];
  ASSERT_EQ(by_hash.size(), 3u);
  for (const auto& log : by_hash) EXPECT_EQ(log["blockHash"], block["hash"]);

  json too_wide =
      node.rpc("eth_getLogs", {{{"fromBlock", jsonrpc::to_quantity(head - 10'000)}, {"toBlock", to}}});
  EXPECT_EQ(too_wide["error"]["code"], -32005);
  json widest = node.rpc("eth_getLogs", {{{"fromBlock", jsonrpc::to_quantity(head - 9'999)},
                                          {"toBlock", to},
                                          {"address", address},
                                          {"topics", json::array({"0x" + std::string(64, '0')})}}});
  ASSERT_TRUE(widest.contains("result")) << widest.dump().substr(0, 200);
  EXPECT_TRUE(widest["result"].empty()) << "no log has an all-zero event signature";
}

TEST(FakeElHttp, BalanceIsDeterministicPerAddress) {
  RunningNode node(NodeKind::el);
  std::string a = "0x00000000000000000000000000000000000000aa";
  json first = node.rpc("eth_getBalance", {a, "latest"});
  EXPECT_EQ(first["result"], node.rpc("eth_getBalance", {a, "latest"})["result"]);
  EXPECT_NE(first["result"],
            node.rpc("eth_getBalance", {"0x00000000000000000000000000000000000000bb", "latest"})["result"]);
  EXPECT_EQ(node.rpc("eth_getBalance", json::array())["error"]["code"], -32602);
}

}  // namespace
}  // namespace vixy::testing
