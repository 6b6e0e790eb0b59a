// GET /el/ws choosing its upstream: back to a recovered primary (defect 5 of the incident: the
// sessions stayed on the backup for good), and away from an upstream that keeps the TCP connection
// open but answers nothing, which only the session's own pings can notice.

#include <gtest/gtest.h>

#include "support/ws_cluster.hpp"

namespace vixy::testing {
namespace {

using chaos::ClusterOptions;

TEST(WsFailback, TheSessionMovesBackToTheRecoveredPrimaryAndKeepsWorking) {
  WsCluster c;
  ASSERT_TRUE(c.open());
  RpcWs& ws = c.ws;
  std::string sub = ws.subscribe("1", {"newHeads"});
  ASSERT_TRUE(is_proxy_subscription_id(sub)) << sub;
  ASSERT_EQ(ws.upstream_name("2"), "el-primary");
  ASSERT_TRUE(c.wait_sessions_on("el-primary", "el-backup", 5s));

  ASSERT_TRUE(c.kill("el-primary"));
  ASSERT_EQ(ws.upstream_name("3"), "el-backup");
  ASSERT_TRUE(c.wait_sessions_on("el-backup", "el-primary", 5s));
  // The monitor's view goes down and up: failback is then driven by the health push.
  ASSERT_TRUE(c.wait_unhealthy("el-primary"));

  ASSERT_TRUE(c.restart("el-primary"));
  // One health interval (100 ms) plus a connect; the bound leaves room for a loaded CI machine.
  EXPECT_TRUE(c.wait_sessions_on("el-primary", "el-backup", 5s));
  EXPECT_EQ(ws.upstream_name("4"), "el-primary");
  EXPECT_TRUE(ws.notified_after(sub, ws.notifications().size(), 5s))
      << "no notification under " << sub << " after the failback";
  EXPECT_GE(c.metric("vixy_ws_failbacks_total"), 1);

  EXPECT_EQ(ws.observe(kQuietWindow), 0u);
  EXPECT_TRUE(ws.answered_once({"1", "2", "3", "4"}));
  EXPECT_TRUE(ws.notified_only_under(sub));
}

TEST(WsFailback, APrimaryBackBeforeTheMonitorNoticedIsFailedBackToo) {
  // A quick node restart: the monitor never sees the primary unhealthy (a high failure threshold
  // makes that certain), so no health push will come; the session's own retries must bring it back.
  // A 1 ms backoff makes the first retry fall due while the backup is still being connected.
  ClusterOptions options;
  options.global_toml = "health_check_max_failures = 100000\n";
  options.extra_toml = "[websocket]\nreconnect_backoff_ms = 1\nreconnect_backoff_max_ms = 200\n";
  WsCluster c(options);
  ASSERT_TRUE(c.open());
  RpcWs& ws = c.ws;
  std::string sub = ws.subscribe("1", {"newHeads"});
  ASSERT_EQ(ws.upstream_name("2"), "el-primary");

  ASSERT_TRUE(c.kill("el-primary"));
  ASSERT_EQ(ws.upstream_name("3"), "el-backup");
  ASSERT_TRUE(c.restart("el-primary"));
  EXPECT_TRUE(c.wait_sessions_on("el-primary", "el-backup", 5s))
      << "the session stayed on the backup while the primary was healthy";
  EXPECT_EQ(ws.upstream_name("4"), "el-primary");
  EXPECT_TRUE(ws.notified_after(sub, ws.notifications().size(), 5s));
  EXPECT_EQ(ws.observe(kQuietWindow), 0u);
  EXPECT_TRUE(ws.answered_once({"1", "2", "3", "4"}));
}

TEST(WsFailback, ABlackholedUpstreamIsDetectedByPingsAndLeft) {
  ClusterOptions options;
  // Health checks must not see the silence (they would move the session for their own reasons):
  // only the session's ping can tell that this upstream is gone.
  options.global_toml = "health_check_max_failures = 100000\n";
  options.extra_toml = "[websocket]\nping_interval_ms = 200\npong_timeout_ms = 400\n";
  WsCluster c(options);
  ASSERT_TRUE(c.open());
  RpcWs& ws = c.ws;
  std::string sub = ws.subscribe("1", {"newHeads"});
  ASSERT_TRUE(is_proxy_subscription_id(sub)) << sub;
  ASSERT_EQ(ws.upstream_name("2"), "el-primary");

  ASSERT_TRUE(c.admin("el-primary", "/silent", R"({"silent":true})"));
  // Swallowed by the silent primary; a read, so it must be re-sent once the silence is noticed.
  ASSERT_TRUE(ws.send(request_text("3", "eth_blockNumber")));
  ASSERT_TRUE(ws.pump_until([&] { return ws.answer_count("3") > 0; }, 10s)) << "request lost in the blackhole";
  EXPECT_TRUE(ws.answers_with("3")[0]->body.contains("result")) << ws.answers_with("3")[0]->text;
  EXPECT_EQ(ws.upstream_name("4"), "el-backup");
  EXPECT_TRUE(ws.notified_after(sub, ws.notifications().size(), 5s))
      << "no notification under " << sub << " after leaving the silent node";

  EXPECT_EQ(ws.observe(kQuietWindow), 0u);
  EXPECT_TRUE(ws.answered_once({"1", "2", "3", "4"}));
  EXPECT_TRUE(ws.notified_only_under(sub));
}

}  // namespace
}  // namespace vixy::testing
