// The fake EL node over WebSocket: requests, subscriptions and the notifications of each block.

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "fakenode_fixture.hpp"
#include "jsonrpc/jsonrpc.hpp"

namespace vixy::testing {
namespace {

using fakenodes::NodeKind;

json request(json id, const std::string& method, json params = json::array()) {
  return json{{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", method}, {"params", std::move(params)}};
}

// The next message that is not a notification, skipping (and collecting) notifications.
std::optional<json> next_answer(chaos::WsClient& ws, std::vector<json>* notifications = nullptr,
                                std::chrono::milliseconds timeout = 3s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto text = ws.receive(remaining);
    if (!text) return std::nullopt;
    json message = json::parse(*text);
    if (message.is_object() && message.value("method", "") == "eth_subscription") {
      if (notifications != nullptr) notifications->push_back(std::move(message));
      continue;
    }
    return message;
  }
  return std::nullopt;
}

std::string subscribe(chaos::WsClient& ws, json params, int id = 1) {
  EXPECT_FALSE(ws.send(request(id, "eth_subscribe", std::move(params)).dump()));
  auto answer = next_answer(ws);
  if (!answer || !answer->contains("result")) {
    ADD_FAILURE() << "no subscription id: " << (answer ? answer->dump() : "timeout");
    return "";
  }
  EXPECT_EQ((*answer)["id"], id);
  return (*answer)["result"].get<std::string>();
}

// Notifications for one subscription, until `count` arrived or the timeout passed.
std::vector<json> notifications_for(chaos::WsClient& ws, const std::string& id, std::size_t count,
                                    std::chrono::milliseconds timeout = 5s) {
  std::vector<json> results;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (results.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto text = ws.receive(remaining);
    if (!text) break;
    json message = json::parse(*text);
    if (message.value("method", "") != "eth_subscription") continue;
    if (message["params"]["subscription"] == id) results.push_back(message["params"]["result"]);
  }
  return results;
}

TEST(FakeElWs, RequestsAndBatchesWork) {
  RunningNode node(NodeKind::el);
  chaos::WsClient ws;
  ASSERT_FALSE(ws.connect("127.0.0.1", node.rpc_port(), "/ws/some/path"));
  ASSERT_FALSE(ws.send(request("x", "eth_chainId").dump()));
  auto answer = next_answer(ws);
  ASSERT_TRUE(answer);
  EXPECT_EQ((*answer)["id"], "x");
  EXPECT_EQ((*answer)["result"], "0x1");

  ASSERT_FALSE(ws.send(json::array({request(1, "eth_chainId"), request(2, "nope")}).dump()));
  answer = next_answer(ws);
  ASSERT_TRUE(answer);
  ASSERT_TRUE(answer->is_array());
  EXPECT_EQ((*answer)[1]["error"]["code"], -32601);

  ASSERT_FALSE(ws.send("not json"));
  answer = next_answer(ws);
  ASSERT_TRUE(answer);
  EXPECT_EQ((*answer)["error"]["code"], -32700);
  // Every request with an id counts under its method, the batch's entries each; HTTP does not.
  ASSERT_FALSE(ws.send(json{{"jsonrpc", "2.0"}, {"method", "eth_chainId"}}.dump()));  // a notification
  ASSERT_FALSE(ws.send(request(3, "eth_chainId").dump()));
  ASSERT_TRUE(next_answer(ws));  // and so the notification before it has been read too
  EXPECT_EQ(node.rpc("eth_chainId")["result"], "0x1");
  json state = node.state();
  EXPECT_EQ(state["ws_calls"], json::parse(R"({"eth_chainId": 3, "nope": 1})"));
  EXPECT_EQ(state["ws_connections"], 1);
}

TEST(FakeElWs, NewHeadsArriveInOrderWithTheSubscriptionId) {
  RunningNode node(NodeKind::el, 7, kFastBlocks);
  chaos::WsClient ws;
  ASSERT_FALSE(ws.connect("127.0.0.1", node.rpc_port()));
  std::string id = subscribe(ws, {"newHeads"});
  EXPECT_TRUE(std::regex_match(id, std::regex("0x[0-9a-f]{32}"))) << id;

  auto heads = notifications_for(ws, id, 4);
  ASSERT_EQ(heads.size(), 4u);
  for (std::size_t i = 1; i < heads.size(); ++i) {
    EXPECT_EQ(*jsonrpc::from_quantity(heads[i]["number"].get<std::string>()),
              *jsonrpc::from_quantity(heads[i - 1]["number"].get<std::string>()) + 1)
        << "no gap, no repeat";
    EXPECT_EQ(heads[i]["parentHash"], heads[i - 1]["hash"]);
  }
  EXPECT_FALSE(heads[0].contains("transactions"));
  EXPECT_EQ(node.state()["subscriptions"], 1);
}

TEST(FakeElWs, UnsubscribeStopsNotifications) {
  RunningNode node(NodeKind::el, 7, kFastBlocks);
  chaos::WsClient ws;
  ASSERT_FALSE(ws.connect("127.0.0.1", node.rpc_port()));
  std::string id = subscribe(ws, {"newHeads"});
  ASSERT_EQ(notifications_for(ws, id, 1).size(), 1u);

  ASSERT_FALSE(ws.send(request(2, "eth_unsubscribe", {id}).dump()));
  auto answer = next_answer(ws);
  ASSERT_TRUE(answer);
  EXPECT_EQ((*answer)["result"], true);
  // Nothing for the old id may follow the answer: 6 block times pass without one.
  EXPECT_TRUE(notifications_for(ws, id, 1, std::chrono::milliseconds(6 * kFastBlocks)).empty());

  ASSERT_FALSE(ws.send(request(3, "eth_unsubscribe", {id}).dump()));
  answer = next_answer(ws);
  ASSERT_TRUE(answer);
  EXPECT_EQ((*answer)["result"], false);
}

TEST(FakeElWs, LogsSubscriptionHonoursItsFilter) {
  RunningNode node(NodeKind::el, 7, kFastBlocks);
  chaos::WsClient ws;
  ASSERT_FALSE(ws.connect("127.0.0.1", node.rpc_port()));
  std::string address = "0x2222222222222222222222222222222222222222";
  std::string transfer = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
  std::string id = subscribe(ws, {"logs", {{"address", address}, {"topics", json::array({transfer})}}});
  auto logs = notifications_for(ws, id, 3);
  ASSERT_EQ(logs.size(), 3u);
  for (const auto& log : logs) {
    EXPECT_EQ(log["address"], address);
    EXPECT_EQ(log["topics"][0], transfer);
  }
}

TEST(FakeElWs, PendingTransactionsAndUnknownKinds) {
  RunningNode node(NodeKind::el, 7, kFastBlocks);
  chaos::WsClient ws;
  ASSERT_FALSE(ws.connect("127.0.0.1", node.rpc_port()));
  std::string id = subscribe(ws, {"newPendingTransactions"});
  auto hashes = notifications_for(ws, id, 4);
  ASSERT_EQ(hashes.size(), 4u);
  std::set<std::string> distinct;
  for (const auto& hash : hashes) {
    EXPECT_TRUE(std::regex_match(hash.get<std::string>(), std::regex("0x[0-9a-f]{64}")));
    distinct.insert(hash.get<std::string>());
  }
  EXPECT_EQ(distinct.size(), 4u);

  ASSERT_FALSE(ws.send(request(5, "eth_subscribe", {"syncing_forever"}).dump()));
  auto answer = next_answer(ws);
  ASSERT_TRUE(answer);
  EXPECT_EQ((*answer)["error"]["code"], -32602);
}

TEST(FakeElWs, SubscriptionIdsAreNeverShared) {
  RunningNode a(NodeKind::el, 7, kFastBlocks);
  RunningNode b(NodeKind::el, 7, kFastBlocks);
  chaos::WsClient wa, wb;
  ASSERT_FALSE(wa.connect("127.0.0.1", a.rpc_port()));
  ASSERT_FALSE(wb.connect("127.0.0.1", b.rpc_port()));
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.insert(subscribe(wa, {"newHeads"}, 10 + i));
    ids.insert(subscribe(wb, {"newHeads"}, 20 + i));
  }
  EXPECT_EQ(ids.size(), 10u);
}

TEST(FakeElWs, TwoClientsOfTwoSameSeedNodesSeeTheSameHeads) {
  RunningNode a(NodeKind::el, 31, kFastBlocks);
  RunningNode b(NodeKind::el, 31, kFastBlocks);
  chaos::WsClient wa, wb;
  ASSERT_FALSE(wa.connect("127.0.0.1", a.rpc_port()));
  ASSERT_FALSE(wb.connect("127.0.0.1", b.rpc_port()));
  std::string ia = subscribe(wa, {"newHeads"});
  std::string ib = subscribe(wb, {"newHeads"});
  auto ha = notifications_for(wa, ia, 6);
  auto hb = notifications_for(wb, ib, 6);
  ASSERT_EQ(ha.size(), 6u);
  ASSERT_EQ(hb.size(), 6u);
  std::map<std::string, std::string> by_number;
  for (const auto& h : ha) by_number[h["number"]] = h["hash"];
  int common = 0;
  for (const auto& h : hb) {
    auto it = by_number.find(h["number"]);
    if (it == by_number.end()) continue;
    ++common;
    EXPECT_EQ(it->second, h["hash"]);
  }
  EXPECT_GT(common, 0) << "the two streams overlap in height";
}

// ---- reorg ----

TEST(FakeElWs, ReorgSendsRemovedLogsOldestFirstThenTheForkLogsAndOnlyTheNewHead) {
  RunningNode node(NodeKind::el, 7, 600'000);  // no new block during the test
  chaos::WsClient ws;
  ASSERT_FALSE(ws.connect("127.0.0.1", node.rpc_port()));
  std::string logs_id = subscribe(ws, {"logs"}, 1);
  std::string address = "0x3333333333333333333333333333333333333333";
  std::string filtered_id = subscribe(ws, {"logs", {{"address", address}}}, 2);
  std::string heads_id = subscribe(ws, {"newHeads"}, 3);
  std::uint64_t head = *jsonrpc::from_quantity(node.rpc("eth_blockNumber")["result"].get<std::string>());
  std::string old_hashes[2] = {block_at(node, head - 1)["hash"], block_at(node, head)["hash"]};

  node.admin("/reorg", {{"depth", 2}, {"fork_seed", 5}});
  std::string new_hashes[2] = {block_at(node, head - 1)["hash"], block_at(node, head)["hash"]};
  // Log i of block h comes from address (h + i) % 4 + 1 (chain.hpp): the filter's share of each half.
  std::size_t selected = 0;
  for (std::uint64_t h = head - 1; h <= head; ++h) {
    for (std::uint64_t i = 0; i < 3; ++i) selected += (h + i) % 4 == 2 ? 1 : 0;
  }
  std::vector<json> logs, filtered, heads;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while ((logs.size() < 12 || filtered.size() < 2 * selected || heads.empty()) &&
         std::chrono::steady_clock::now() < deadline) {
    auto text = ws.receive(1s);
    if (!text) continue;
    json m = json::parse(*text);
    if (m.value("method", "") != "eth_subscription") continue;
    const json& sub = m["params"]["subscription"];
    (sub == logs_id ? logs : sub == filtered_id ? filtered : heads).push_back(m["params"]["result"]);
  }
  ASSERT_EQ(logs.size(), 12u) << "3 logs of each of the 2 replaced blocks, then of the 2 new ones";
  for (std::size_t i = 0; i < 12; ++i) {
    bool removed = i < 6;
    std::size_t block = (i % 6) / 3;  // older block first, in both halves
    EXPECT_EQ(logs[i]["removed"], removed) << i;
    EXPECT_EQ(logs[i]["blockHash"], removed ? old_hashes[block] : new_hashes[block]) << i;
    EXPECT_EQ(logs[i]["blockNumber"], jsonrpc::to_quantity(head - 1 + block)) << i;
    EXPECT_EQ(logs[i]["logIndex"], jsonrpc::to_quantity(i % 3)) << i;
  }
  ASSERT_GT(selected, 0u) << "one of two consecutive blocks has a log from every address";
  ASSERT_EQ(filtered.size(), 2 * selected);
  for (std::size_t i = 0; i < filtered.size(); ++i) {
    EXPECT_EQ(filtered[i]["address"], address);
    EXPECT_EQ(filtered[i]["removed"], i < selected) << i;
  }

  ASSERT_EQ(heads.size(), 1u) << "geth announces only the new head";
  EXPECT_EQ(heads[0]["number"], jsonrpc::to_quantity(head));
  EXPECT_EQ(heads[0]["hash"], new_hashes[1]);
  EXPECT_EQ(heads[0]["parentHash"], new_hashes[0]);
}

TEST(FakeElWs, HeadsContinueOnTheForkAfterAReorg) {
  RunningNode node(NodeKind::el, 7, kFastBlocks);
  chaos::WsClient ws;
  ASSERT_FALSE(ws.connect("127.0.0.1", node.rpc_port()));
  std::string id = subscribe(ws, {"newHeads"});
  auto before = notifications_for(ws, id, 2);
  ASSERT_EQ(before.size(), 2u);
  node.admin("/reorg", {{"depth", 3}, {"fork_seed", 8}});
  auto after = notifications_for(ws, id, 12);
  ASSERT_EQ(after.size(), 12u);
  // Somewhere in the stream a head comes at a height already seen: the fork's new head. Every head
  // from there on links to the one before it and is the node's block at its height.
  std::vector<json> heads = before;
  heads.insert(heads.end(), after.begin(), after.end());
  std::size_t reorg_at = 0;
  for (std::size_t i = 1; i < heads.size() && reorg_at == 0; ++i) {
    if (*jsonrpc::from_quantity(heads[i]["number"].get<std::string>()) <=
        *jsonrpc::from_quantity(heads[i - 1]["number"].get<std::string>())) {
      reorg_at = i;
    }
  }
  ASSERT_NE(reorg_at, 0u) << "the new head repeats a height";
  ASSERT_LT(reorg_at + 2, heads.size());
  for (std::size_t i = reorg_at + 1; i < heads.size(); ++i) EXPECT_EQ(heads[i]["parentHash"], heads[i - 1]["hash"]);
  for (std::size_t i = reorg_at; i < heads.size(); ++i) {
    json block = block_at(node, *jsonrpc::from_quantity(heads[i]["number"].get<std::string>()));
    EXPECT_EQ(block["hash"], heads[i]["hash"]) << i;
  }
}

}  // namespace
}  // namespace vixy::testing
