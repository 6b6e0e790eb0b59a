// Gapless subscriptions (I7) through the real binary: a client's newHeads and logs streams have no
// missing block and no repeated one across failover and failback, with the fake nodes' chain as
// the truth.

#include <gtest/gtest.h>

#include <set>

#include "fakenodes/chain.hpp"
#include "jsonrpc/jsonrpc.hpp"
#include "support/ws_cluster.hpp"

namespace vixy::testing {
namespace {

using chaos::ClusterOptions;
using nlohmann::json;

struct Head {
  std::uint64_t number = 0;
  std::string hash;
  std::string parent;
};

std::uint64_t quantity(const json& value) {
  return value.is_string() ? jsonrpc::from_quantity(value.get<std::string>()).value_or(0) : 0;
}

std::vector<Head> heads_of(const RpcWs& ws, const std::string& sub) {
  std::vector<Head> out;
  for (const json& result : ws.results_of(sub)) {
    out.push_back({quantity(result.value("number", json())), result.value("hash", ""), result.value("parentHash", "")});
  }
  return out;
}

// Every head links to the one before it and no hash comes twice; `breaks` links may be missing
// (a gap the proxy counted as unfillable).
::testing::AssertionResult whole(const std::vector<Head>& heads, std::size_t breaks = 0) {
  std::set<std::string> seen;
  std::size_t found = 0;
  std::string story;
  for (std::size_t i = 0; i < heads.size(); ++i) {
    story += std::to_string(heads[i].number) + " ";
    if (!seen.insert(heads[i].hash).second) {
      return ::testing::AssertionFailure() << "head " << heads[i].number << " delivered twice: " << story;
    }
    if (i > 0 && (heads[i].parent != heads[i - 1].hash || heads[i].number != heads[i - 1].number + 1)) ++found;
  }
  if (found != breaks) {
    return ::testing::AssertionFailure() << found << " breaks in the chain (expected " << breaks << "): " << story;
  }
  return ::testing::AssertionSuccess() << story;
}

// Receives until the client holds a head at `height` or above.
bool heads_reach(RpcWs& ws, const std::string& sub, std::uint64_t height, std::chrono::milliseconds timeout = 15s) {
  return ws.pump_until(
      [&] {
        auto heads = heads_of(ws, sub);
        return !heads.empty() && heads.back().number >= height;
      },
      timeout);
}

double gapless_metric(WsCluster& c, const std::string& name, const std::string& kind) {
  return c.metric(name + "{kind=\"" + kind + "\"}");
}

// The primary stops producing blocks (so the client falls behind the backup), then is killed.
// A high lag bound keeps the health monitor out of it: the kill is what moves the session.
ClusterOptions kill_options(const std::string& websocket_toml = "") {
  ClusterOptions options;
  options.global_toml = "max_el_lag_blocks = 100000\n";
  options.extra_toml = websocket_toml;
  return options;
}

void fall_behind_then_kill(WsCluster& c, std::uint64_t blocks) {
  ASSERT_TRUE(c.admin("el-primary", "/pause"));
  std::uint64_t paused_at = c.node_head("el-primary");
  ASSERT_TRUE(chaos::wait_until([&] { return c.node_head("el-backup") >= paused_at + blocks; }, 20s));
  ASSERT_TRUE(c.kill("el-primary"));
}

TEST(WsGapless, HeadsMinedWhileThePrimaryDiedAreDeliveredInOrder) {
  WsCluster c(kill_options());
  ASSERT_TRUE(c.open());
  RpcWs& ws = c.ws;
  std::string sub = ws.subscribe("1", {"newHeads"});
  ASSERT_TRUE(heads_reach(ws, sub, c.node_head("el-backup") + 2));

  fall_behind_then_kill(c, 5);
  std::uint64_t backup_head = c.node_head("el-backup");
  ASSERT_TRUE(heads_reach(ws, sub, backup_head + 3)) << whole(heads_of(ws, sub)).message();
  EXPECT_TRUE(whole(heads_of(ws, sub)));
  EXPECT_GE(gapless_metric(c, "vixy_ws_backfilled_total", "newHeads"), 5);
  EXPECT_EQ(gapless_metric(c, "vixy_ws_unfilled_gaps_total", "newHeads"), 0);
  // Backfilled heads look like the node's own newHeads: no block-only fields.
  for (const json& result : ws.results_of(sub)) {
    EXPECT_FALSE(result.contains("transactions")) << result.dump();
    EXPECT_FALSE(result.contains("size")) << result.dump();
    EXPECT_TRUE(result.contains("stateRoot")) << result.dump();
  }
  EXPECT_EQ(ws.answers().size(), 1u) << "the proxy's own fetches must never reach the client";
}

TEST(WsGapless, ANodeThatFellBehindAndCaughtUpLeavesNoGapAndNoDuplicate) {
  // The monitor moves the session off the stalled primary (lag above 5) and back once it has
  // caught up: a gap on the way out, and on the way back the primary re-announces heights the
  // client already had from the backup.
  WsCluster c;
  ASSERT_TRUE(c.open());
  RpcWs& ws = c.ws;
  std::string sub = ws.subscribe("1", {"newHeads"});
  ASSERT_TRUE(heads_reach(ws, sub, c.node_head("el-primary") + 2));

  ASSERT_TRUE(c.admin("el-primary", "/pause"));
  ASSERT_TRUE(c.wait_sessions_on("el-backup", "el-primary", 15s));
  ASSERT_TRUE(heads_reach(ws, sub, c.node_head("el-backup") + 2));
  ASSERT_TRUE(c.admin("el-primary", "/resume"));
  ASSERT_TRUE(c.wait_sessions_on("el-primary", "el-backup", 15s));
  ASSERT_TRUE(heads_reach(ws, sub, c.node_head("el-primary") + 3));

  EXPECT_TRUE(whole(heads_of(ws, sub)));
  EXPECT_GE(gapless_metric(c, "vixy_ws_backfilled_total", "newHeads"), 1);
  EXPECT_EQ(ws.answers().size(), 1u);
}

TEST(WsGapless, FailbackToThePrimaryDeliversNoHeadTwice) {
  // The primary comes back three blocks behind the backup (healthy: the bound is 5), so after the
  // failback it announces heads the client already got from the backup.
  WsCluster c;
  ASSERT_TRUE(c.open());
  RpcWs& ws = c.ws;
  std::string sub = ws.subscribe("1", {"newHeads"});
  ASSERT_TRUE(heads_reach(ws, sub, c.node_head("el-primary") + 2));

  ASSERT_TRUE(c.kill("el-primary"));
  ASSERT_TRUE(c.wait_sessions_on("el-backup", "el-primary", 10s));
  ASSERT_TRUE(c.wait_unhealthy("el-primary"));
  ASSERT_TRUE(heads_reach(ws, sub, c.node_head("el-backup") + 2));
  ASSERT_TRUE(c.admin("el-primary", "/lag", R"({"blocks":3})"));
  std::uint64_t lagged_at = c.node_head("el-backup");
  ASSERT_TRUE(heads_reach(ws, sub, lagged_at + 2));
  ASSERT_TRUE(c.restart("el-primary"));
  ASSERT_TRUE(c.wait_sessions_on("el-primary", "el-backup", 10s));
  // Past the backup's head: the primary has re-announced what the client already had.
  ASSERT_TRUE(heads_reach(ws, sub, c.node_head("el-backup") + 2));

  EXPECT_TRUE(whole(heads_of(ws, sub)));
  EXPECT_GE(gapless_metric(c, "vixy_ws_duplicates_dropped_total", "newHeads"), 1) << whole(heads_of(ws, sub)).message() << " primary " << c.node_head("el-primary") << " lagged_at " << lagged_at;
  EXPECT_EQ(gapless_metric(c, "vixy_ws_unfilled_gaps_total", "newHeads"), 0);
}

TEST(WsGapless, AGapBeyondTheBackfillBoundIsCountedAndTheStreamGoesOn) {
  WsCluster c(kill_options("[websocket]\nbackfill_blocks = 3\n"));
  ASSERT_TRUE(c.open());
  RpcWs& ws = c.ws;
  std::string sub = ws.subscribe("1", {"newHeads"});
  ASSERT_TRUE(heads_reach(ws, sub, c.node_head("el-backup") + 2));

  fall_behind_then_kill(c, 8);
  std::uint64_t backup_head = c.node_head("el-backup");
  ASSERT_TRUE(heads_reach(ws, sub, backup_head + 3));
  auto heads = heads_of(ws, sub);
  EXPECT_TRUE(whole(heads, 1));
  EXPECT_EQ(gapless_metric(c, "vixy_ws_unfilled_gaps_total", "newHeads"), 1);
  EXPECT_EQ(gapless_metric(c, "vixy_ws_backfilled_total", "newHeads"), 3);
  // The three heads below the one that came after the gap were filled: the break is right
  // before them.
  std::size_t jump = 0;
  for (std::size_t i = 1; i < heads.size(); ++i) {
    if (heads[i].parent != heads[i - 1].hash) jump = i;
  }
  ASSERT_GT(jump, 0u);
  ASSERT_GE(heads.size(), jump + 4);
  EXPECT_EQ(heads[jump + 3].parent, heads[jump + 2].hash);
}

TEST(WsGapless, LogsWithAnAddressFilterAreCompleteAcrossASwitch) {
  WsCluster c(kill_options());
  ASSERT_TRUE(c.open());
  RpcWs& ws = c.ws;
  const std::string address(fakenodes::kLogAddresses[0]);
  std::string logs = ws.subscribe("1", {"logs", {{"address", address}}});
  std::string heads = ws.subscribe("2", {"newHeads"});
  ASSERT_TRUE(heads_reach(ws, heads, c.node_head("el-backup") + 3));

  fall_behind_then_kill(c, 6);
  std::uint64_t backup_head = c.node_head("el-backup");
  ASSERT_TRUE(heads_reach(ws, heads, backup_head + 4));
  ASSERT_TRUE(whole(heads_of(ws, heads)));
  ASSERT_TRUE(ws.pump_until([&] {
    auto got = ws.results_of(logs);
    return !got.empty() && quantity(got.back()["blockNumber"]) >= backup_head + 3;
  }));

  // Truth: the deterministic chain every fake node serves (the cluster's seed), filtered here.
  fakenodes::Chain chain({.seed = 42, .block_time_ms = 200, .chain_id = 1});
  auto got = ws.results_of(logs);
  std::uint64_t first = quantity(got.front()["blockNumber"]);
  std::uint64_t last = quantity(got.back()["blockNumber"]);
  std::set<std::pair<std::uint64_t, std::uint64_t>> expected;
  for (std::uint64_t h = first; h <= last; ++h) {
    for (std::uint64_t i = 0; i < fakenodes::kLogsPerBlock; ++i) {
      if (fakenodes::Chain::log_address(h, i) == address) expected.insert({h, i});
    }
  }
  std::set<std::pair<std::uint64_t, std::uint64_t>> delivered;
  for (const json& log : got) {
    std::uint64_t h = quantity(log["blockNumber"]);
    EXPECT_EQ(log["address"], address) << log.dump();
    EXPECT_EQ(log["blockHash"], chain.block_hash(h)) << log.dump();
    EXPECT_EQ(log["removed"], false) << log.dump();
    EXPECT_TRUE(delivered.insert({h, quantity(log["logIndex"])}).second) << "delivered twice: " << log.dump();
  }
  EXPECT_EQ(delivered, expected);
  EXPECT_GE(gapless_metric(c, "vixy_ws_backfilled_total", "logs"), 1);
  EXPECT_EQ(gapless_metric(c, "vixy_ws_unfilled_gaps_total", "logs"), 0);
}

// A reorg two blocks deep, network-wide, while the session moves from a dead primary to the
// backup: the client gets the new branch (its blocks filled by hash, since by height they are
// ambiguous), the replaced blocks' logs again as removed, and nothing twice.
TEST(WsGapless, AReorgTwoBlocksDeepDuringASwitchIsFollowed) {
  WsCluster c(kill_options());
  ASSERT_TRUE(c.open());
  RpcWs& ws = c.ws;
  // Every block has a log from this address or the next one: the filter selects logs of most blocks.
  const std::string address(fakenodes::kLogAddresses[0]);
  std::string logs = ws.subscribe("1", {"logs", {{"address", address}}});
  std::string heads = ws.subscribe("2", {"newHeads"});
  ASSERT_TRUE(heads_reach(ws, heads, c.node_head("el-backup") + 3));

  ASSERT_TRUE(c.admin("el-primary", "/pause"));
  std::uint64_t client_head = c.node_head("el-primary");
  ASSERT_TRUE(heads_reach(ws, heads, client_head));
  // The last two blocks the client has are replaced on every node.
  fakenodes::Fork fork{client_head - 1, 77};
  std::string body = json{{"from_height", fork.from_height}, {"fork_seed", fork.fork_seed}}.dump();
  ASSERT_TRUE(c.admin("el-backup", "/reorg", body));
  ASSERT_TRUE(c.admin("el-primary", "/reorg", body));
  ASSERT_TRUE(chaos::wait_until([&] { return c.node_head("el-backup") >= client_head + 3; }, 20s));
  ASSERT_TRUE(c.kill("el-primary"));
  std::uint64_t backup_head = c.node_head("el-backup");
  ASSERT_TRUE(heads_reach(ws, heads, backup_head + 3));
  ASSERT_TRUE(ws.pump_until([&] {
    auto got = ws.results_of(logs);
    return !got.empty() && quantity(got.back()["blockNumber"]) >= backup_head + 2;
  }));

  fakenodes::Chain forked({.seed = 42, .block_time_ms = 200, .chain_id = 1}, {fork});
  // Heads: each one's parent was delivered before it, no hash twice, and the stream ends on the
  // new branch.
  auto got_heads = heads_of(ws, heads);
  std::set<std::string> seen;
  std::size_t reorgs = 0;
  for (std::size_t i = 0; i < got_heads.size(); ++i) {
    const Head& h = got_heads[i];
    EXPECT_TRUE(seen.insert(h.hash).second) << "head " << h.number << " twice";
    if (i == 0) continue;
    EXPECT_TRUE(seen.contains(h.parent)) << "head " << h.number << " came before its parent";
    if (h.number != got_heads[i - 1].number + 1) {
      EXPECT_LE(h.number, got_heads[i - 1].number) << "heights skipped before " << h.number;
      ++reorgs;
    }
  }
  EXPECT_EQ(reorgs, 1u);
  for (const Head& h : got_heads) {
    if (h.number > client_head) {
      EXPECT_EQ(h.hash, forked.block_hash(h.number)) << "a head above the old branch from the old branch";
    }
  }
  EXPECT_EQ(got_heads.back().hash, forked.block_hash(got_heads.back().number));

  // Logs: what stands after the removals is every matching log of the new branch, once.
  std::set<std::pair<std::string, std::uint64_t>> standing;
  std::size_t removed = 0;
  for (const json& log : ws.results_of(logs)) {
    std::pair<std::string, std::uint64_t> key{log["blockHash"], quantity(log["logIndex"])};
    if (log["removed"] == true) {
      EXPECT_EQ(standing.erase(key), 1u) << "removed without being delivered: " << log.dump();
      ++removed;
    } else {
      EXPECT_TRUE(standing.insert(key).second) << "delivered twice: " << log.dump();
    }
  }
  EXPECT_GE(removed, 1u);
  auto got_logs = ws.results_of(logs);
  std::uint64_t first = quantity(got_logs.front()["blockNumber"]);
  std::uint64_t last = quantity(got_logs.back()["blockNumber"]);
  std::set<std::pair<std::string, std::uint64_t>> expected;
  for (std::uint64_t h = first; h <= last; ++h) {
    for (std::uint64_t i = 0; i < fakenodes::kLogsPerBlock; ++i) {
      if (fakenodes::Chain::log_address(h, i) == address) expected.insert({forked.block_hash(h), i});
    }
  }
  EXPECT_EQ(standing, expected);
  EXPECT_EQ(ws.answers().size(), 2u);
}

}  // namespace
}  // namespace vixy::testing
