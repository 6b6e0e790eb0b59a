// [routing] against the real vixy and two healthy primaries: round_robin spreads requests over
// both, and a request naming a block goes to the primary that has it even when the other primary,
// a few blocks behind but healthy, would be next.
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "jsonrpc/jsonrpc.hpp"
#include "support/harness.hpp"
#include "support/ws_cluster.hpp"
#include "support/ws_rpc.hpp"

namespace vixy::testing {
namespace {

using chaos::Cluster;
using chaos::ClusterOptions;
using nlohmann::json;
using std::chrono::seconds;

ClusterOptions two_primaries(const std::string& strategy) {
  ClusterOptions options;
  options.el_primaries = {"el-a", "el-b"};
  options.el_backups = {"el-backup"};
  options.cl_nodes = {};
  options.block_time_ms = 1000;  // heads move slower than health rounds (100 ms): the snapshot is current
  // One thread: each thread takes its own turns, and the counts below are exact for one.
  options.extra_toml = "[server]\nthreads = 1\n[routing]\nstrategy = \"" + strategy + "\"\n";
  return options;
}

// Both primaries healthy in vixy's eyes (not only ready: one healthy node makes vixy ready).
bool both_primaries_healthy(Cluster& cluster) {
  return chaos::wait_until(
      [&] {
        auto status = cluster.status();
        return Cluster::find_node(status, "el-a").value("is_healthy", false) &&
               Cluster::find_node(status, "el-b").value("is_healthy", false);
      },
      seconds(10));
}

TEST(Routing, RoundRobinSpreadsRequestsOverThePrimariesOnly) {
  Cluster cluster(binaries(), two_primaries("round_robin"));
  ASSERT_TRUE(both_primaries_healthy(cluster));
  std::map<std::string, int> answered;
  for (int i = 0; i < 20; ++i) ++answered[answering_node(cluster)];
  EXPECT_EQ(answered["el-a"], 10);
  EXPECT_EQ(answered["el-b"], 10);
  EXPECT_EQ(answered.count("el-backup"), 0u);
  EXPECT_EQ(proxy_metric(cluster, R"(vixy_routing_requests_total{node="el-a",reason="round_robin"})"), 10);
}

TEST(Routing, ARequestForABlockGoesToThePrimaryThatHasIt) {
  Cluster cluster(binaries(), two_primaries("round_robin"));
  ASSERT_TRUE(wait_ready(cluster));
  // el-a three blocks behind: still healthy (max_el_lag_blocks is 5), but without the newest blocks.
  ASSERT_EQ(cluster.admin("el-a", "/lag", R"({"blocks":3})").status, 200);
  ASSERT_TRUE(chaos::wait_until(
      [&] {
        auto status = cluster.status();
        auto a = Cluster::find_node(status, "el-a"), b = Cluster::find_node(status, "el-b");
        return a.value("is_healthy", false) && b.value("is_healthy", false) &&
               b.value("block_number", 0) == a.value("block_number", 0) + 3;
      },
      seconds(10)))
      << cluster.status().dump();
  for (int i = 0; i < 10; ++i) {
    auto head = parse_body(cluster.admin("el-b", "/state"))["state"]["head"].get<std::uint64_t>();
    auto r = cluster.proxy_post("/el", rpc(i, "eth_getBlockByNumber", {jsonrpc::to_quantity(head), false}));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(parse_body(r)["result"].is_object()) << "block " << head << " answered " << r.body;
  }
  EXPECT_GE(proxy_metric(cluster, R"(vixy_routing_requests_total{node="el-b",reason="block"})"), 10);
  // A request without a block still takes turns.
  std::map<std::string, int> answered;
  for (int i = 0; i < 4; ++i) ++answered[answering_node(cluster)];
  EXPECT_EQ(answered["el-a"], 2);
}

TEST(Routing, LeastLatencySendsMostRequestsToTheFasterPrimaryAndStillMeasuresTheOther) {
  Cluster cluster(binaries(), two_primaries("least_latency"));
  ASSERT_TRUE(both_primaries_healthy(cluster));
  // el-a, first in the file, answers 30 ms late: priority would send it everything.
  ASSERT_EQ(cluster.admin("el-a", "/method", R"({"method":"web3_clientVersion","delay_ms":30})").status, 200);
  std::map<std::string, int> answered;
  for (int i = 0; i < 60; ++i) ++answered[answering_node(cluster)];
  EXPECT_GE(answered["el-b"], 50) << "el-a answered " << answered["el-a"];
  EXPECT_GE(answered["el-a"], 2) << "the slower node was never measured again";
  EXPECT_GE(proxy_metric(cluster, R"(vixy_routing_requests_total{node="el-a",reason="explore"})"), 2);
}

// WebSocket sessions are placed by the strategy too, and stay where they are: a session whose
// primary dies moves to the other, and does not come back when the first recovers (a node of the
// same tier is no better); new sessions take turns again.
TEST(Routing, RoundRobinPlacesWebSocketSessionsAndTheyStayPut) {
  WsCluster c(two_primaries("round_robin"));
  ASSERT_TRUE(both_primaries_healthy(c.cluster));
  std::vector<std::unique_ptr<RpcWs>> sessions;
  std::map<std::string, int> placed;
  for (int i = 0; i < 4; ++i) {
    sessions.push_back(std::make_unique<RpcWs>());
    ASSERT_TRUE(c.connect(*sessions.back()));
    ++placed[sessions.back()->upstream_name("\"p" + std::to_string(i) + "\"")];
  }
  EXPECT_EQ(placed["el-a"], 2);
  EXPECT_EQ(placed["el-b"], 2);

  ASSERT_TRUE(c.kill("el-a"));
  ASSERT_TRUE(c.wait_unhealthy("el-a"));
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    EXPECT_EQ(sessions[i]->upstream_name("\"k" + std::to_string(i) + "\""), "el-b") << i;
  }
  ASSERT_TRUE(c.restart("el-a"));
  ASSERT_TRUE(chaos::wait_until(
      [&] { return Cluster::find_node(c.cluster.status(), "el-a").value("is_healthy", false); }, seconds(10)));
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    EXPECT_EQ(sessions[i]->upstream_name("\"r" + std::to_string(i) + "\""), "el-b") << "session " << i << " moved back";
  }
  std::map<std::string, int> fresh;
  for (int i = 0; i < 2; ++i) {
    RpcWs late;
    ASSERT_TRUE(c.connect(late));
    ++fresh[late.upstream_name("\"n" + std::to_string(i) + "\"")];
  }
  EXPECT_EQ(fresh["el-a"], 1);
  EXPECT_EQ(fresh["el-b"], 1);
}

// Between health rounds, the heads a node sends on WebSocket subscriptions are its last known head
// too: a client that just got block N in a newHeads notification through vixy gets block N over
// HTTP, although the other primary was level at the last round and has stopped importing since.
TEST(Routing, HeadsSeenOnWebSocketSubscriptionsCountBetweenHealthRounds) {
  auto options = two_primaries("round_robin");
  options.global_toml = "health_check_interval_ms = 60000\n";  // one round in this test's life
  options.block_time_ms = 300;
  WsCluster c(options);
  ASSERT_TRUE(both_primaries_healthy(c.cluster));
  // What the round read (the two usually level: the fake chain's height follows the clock).
  auto round = c.cluster.status();
  const auto level = std::max(Cluster::find_node(round, "el-a").value("block_number", 0),
                              Cluster::find_node(round, "el-b").value("block_number", 0));

  RpcWs session;
  ASSERT_TRUE(c.connect(session));
  const std::string fresh = session.upstream_name();
  ASSERT_TRUE(fresh == "el-a" || fresh == "el-b") << fresh;
  const std::string stale = fresh == "el-a" ? "el-b" : "el-a";
  ASSERT_EQ(c.cluster.admin(stale, "/lag", R"({"blocks":3})").status, 200);
  auto heads = session.subscribe("\"h\"", json::array({"newHeads"}));
  ASSERT_FALSE(heads.empty());
  std::uint64_t newest = 0;
  ASSERT_TRUE(session.pump_until(
      [&] {
        for (const auto& head : session.results_of(heads)) {
          newest = std::max<std::uint64_t>(newest, std::stoull(head["number"].get<std::string>(), nullptr, 16));
        }
        return newest > static_cast<std::uint64_t>(level) + 1;
      },
      seconds(10)));

  for (int i = 0; i < 6; ++i) {
    auto r = c.cluster.proxy_post("/el", rpc(i, "eth_getBlockByNumber", {jsonrpc::to_quantity(newest), false}));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(parse_body(r)["result"].is_object()) << "block " << newest << " answered " << r.body;
  }
  EXPECT_GE(proxy_metric(c.cluster, R"(vixy_routing_requests_total{node=")" + fresh + R"(",reason="block"})"), 6);
}

}  // namespace
}  // namespace vixy::testing
