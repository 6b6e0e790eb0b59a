// GET /el/ws choosing its upstream: back to a recovered primary (defect 5 of the incident: the
// sessions stayed on the backup for good), and away from an upstream that keeps the TCP connection
// open but answers nothing, which only the session's own pings can notice.

#include <gtest/gtest.h>

#include "support/harness.hpp"
#include "support/ws_rpc.hpp"

namespace vixy::testing {
namespace {

using chaos::Cluster;
using chaos::ClusterOptions;
using nlohmann::json;

TEST(WsFailback, TheSessionMovesBackToTheRecoveredPrimaryAndKeepsWorking) {
  Cluster cluster(binaries(), {});
  ASSERT_TRUE(wait_ready(cluster));
  RpcWs ws;
  ASSERT_TRUE(ws.connect(cluster.proxy_port()));
  std::string sub = ws.subscribe("1", {"newHeads"});
  ASSERT_TRUE(is_proxy_subscription_id(sub)) << sub;
  ASSERT_EQ(ws.upstream_name("2"), "el-primary");
  ASSERT_TRUE(chaos::wait_until([&] { return ws_upstream_is(cluster, "el-primary", "el-backup"); }, 5s));

  ASSERT_EQ(cluster.admin("el-primary", "/kill").status, 200);
  ASSERT_EQ(ws.upstream_name("3"), "el-backup");
  ASSERT_TRUE(chaos::wait_until([&] { return ws_upstream_is(cluster, "el-backup", "el-primary"); }, 5s));
  // The monitor's view goes down and up: failback is then driven by the health push.
  ASSERT_TRUE(cluster.wait_for_status(
      [](const json& s) { return !Cluster::find_node(s, "el-primary").value("is_healthy", true); }, 10s));

  ASSERT_EQ(cluster.admin("el-primary", "/restart").status, 200);
  // One health interval (100 ms) plus a connect; the bound leaves room for a loaded CI machine.
  EXPECT_TRUE(chaos::wait_until([&] { return ws_upstream_is(cluster, "el-primary", "el-backup"); }, 5s))
      << "vixy_ws_upstream_node never went back to el-primary";
  EXPECT_EQ(ws.upstream_name("4"), "el-primary");
  std::size_t mark = ws.notifications().size();
  EXPECT_TRUE(ws.pump_until([&] { return !ws.results_of(sub, mark).empty(); }, 5s))
      << "no notification under " << sub << " after the failback";
  EXPECT_GE(proxy_metric(cluster, "vixy_ws_failbacks_total"), 1);

  EXPECT_EQ(ws.observe(kQuietWindow), 0u);
  for (const char* id : {"1", "2", "3", "4"}) EXPECT_EQ(ws.answer_count(id), 1u) << id;
  for (const auto& n : ws.notifications()) EXPECT_EQ(subscription_of(n), sub) << n.text;
}

TEST(WsFailback, APrimaryBackBeforeTheMonitorNoticedIsFailedBackToo) {
  // A quick node restart: the monitor never sees the primary unhealthy (a high failure threshold
  // makes that certain), so no health push will come; the session's own retries must bring it back.
  // A 1 ms backoff makes the first retry fall due while the backup is still being connected.
  ClusterOptions options;
  options.global_toml = "health_check_max_failures = 100000\n";
  options.extra_toml = "[websocket]\nreconnect_backoff_ms = 1\nreconnect_backoff_max_ms = 200\n";
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(wait_ready(cluster));
  RpcWs ws;
  ASSERT_TRUE(ws.connect(cluster.proxy_port()));
  std::string sub = ws.subscribe("1", {"newHeads"});
  ASSERT_EQ(ws.upstream_name("2"), "el-primary");

  ASSERT_EQ(cluster.admin("el-primary", "/kill").status, 200);
  ASSERT_EQ(ws.upstream_name("3"), "el-backup");
  ASSERT_EQ(cluster.admin("el-primary", "/restart").status, 200);
  EXPECT_TRUE(chaos::wait_until([&] { return ws_upstream_is(cluster, "el-primary", "el-backup"); }, 5s))
      << "the session stayed on the backup while the primary was healthy";
  EXPECT_EQ(ws.upstream_name("4"), "el-primary");
  std::size_t mark = ws.notifications().size();
  EXPECT_TRUE(ws.pump_until([&] { return !ws.results_of(sub, mark).empty(); }, 5s));
  EXPECT_EQ(ws.observe(kQuietWindow), 0u);
  for (const char* id : {"1", "2", "3", "4"}) EXPECT_EQ(ws.answer_count(id), 1u) << id;
}

TEST(WsFailback, ABlackholedUpstreamIsDetectedByPingsAndLeft) {
  ClusterOptions options;
  // Health checks must not see the silence (they would move the session for their own reasons):
  // only the session's ping can tell that this upstream is gone.
  options.global_toml = "health_check_max_failures = 100000\n";
  options.extra_toml = "[websocket]\nping_interval_ms = 200\npong_timeout_ms = 400\n";
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(wait_ready(cluster));
  RpcWs ws;
  ASSERT_TRUE(ws.connect(cluster.proxy_port()));
  std::string sub = ws.subscribe("1", {"newHeads"});
  ASSERT_TRUE(is_proxy_subscription_id(sub)) << sub;
  ASSERT_EQ(ws.upstream_name("2"), "el-primary");

  ASSERT_EQ(cluster.admin("el-primary", "/silent", R"({"silent":true})").status, 200);
  // Swallowed by the silent primary; a read, so it must be re-sent once the silence is noticed.
  ASSERT_TRUE(ws.send(request_text("3", "eth_blockNumber")));
  ASSERT_TRUE(ws.pump_until([&] { return ws.answer_count("3") > 0; }, 10s)) << "request lost in the blackhole";
  EXPECT_TRUE(ws.answers_with("3")[0]->body.contains("result")) << ws.answers_with("3")[0]->text;
  EXPECT_EQ(ws.upstream_name("4"), "el-backup");
  std::size_t mark = ws.notifications().size();
  EXPECT_TRUE(ws.pump_until([&] { return !ws.results_of(sub, mark).empty(); }, 5s))
      << "no notification under " << sub << " after leaving the silent node";

  EXPECT_EQ(ws.observe(kQuietWindow), 0u);
  for (const char* id : {"1", "2", "3", "4"}) EXPECT_EQ(ws.answer_count(id), 1u) << id;
  for (const auto& n : ws.notifications()) EXPECT_EQ(subscription_of(n), sub) << n.text;
}

}  // namespace
}  // namespace vixy::testing
