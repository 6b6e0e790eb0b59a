// SIGHUP: vixy reads its configuration file again and applies it while serving. A session on a node
// the file removed moves to one that stayed, keeping its subscription and missing no head; new
// requests and sessions use the new node list; a file that would not load changes nothing.

#include <csignal>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "support/harness.hpp"
#include "support/ws_cluster.hpp"

namespace vixy::testing {
namespace {

using chaos::ClusterOptions;
using std::chrono::seconds;

// Three EL nodes, all in vixy's first file: el-a and el-b primaries, el-c a backup.
ClusterOptions three_nodes() {
  ClusterOptions options;
  options.el_primaries = {"el-a", "el-b"};
  options.el_backups = {"el-c"};
  return options;
}

struct ElEntry {
  std::string name;     // as vixy calls it
  std::string node;     // the fake node behind it
  bool primary = true;
};

// A file like the cluster's first one with other EL nodes, plus `extra` lines.
std::string config_with(chaos::Cluster& cluster, const std::vector<ElEntry>& el, const std::string& extra = "") {
  std::string toml = "[global]\nhealth_check_interval_ms = 100\nhealth_check_timeout_ms = 500\n\n[el]\n";
  for (const auto& entry : el) {
    const std::string address = "127.0.0.1:" + std::to_string(cluster.node(entry.node).rpc_port);
    toml += entry.primary ? "[[el.primary]]\n" : "[[el.backup]]\n";
    toml += "name = \"" + entry.name + "\"\nhttp_url = \"http://" + address + "/\"\nws_url = \"ws://" + address + "/\"\n\n";
  }
  toml += "[[cl]]\nname = \"cl-node\"\nurl = \"http://127.0.0.1:" + std::to_string(cluster.node("cl-node").rpc_port) +
          "\"\n\n" + extra;
  return toml;
}

// Writes `toml` as vixy's file, sends SIGHUP, and waits until vixy counts the reload as `result`.
::testing::AssertionResult reload(WsCluster& c, const std::string& toml, const std::string& result) {
  const std::string series = "vixy_config_reloads_total{result=\"" + result + "\"}";
  const double before = c.metric(series);
  c.cluster.dir().write("vixy.toml", toml);
  ::kill(c.cluster.proxy().pid(), SIGHUP);
  if (chaos::wait_until([&] { return c.metric(series) >= before + 1; }, seconds(10))) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << series << " stayed at " << before << "\n" << c.cluster.proxy().log();
}

// The block numbers of a newHeads subscription's notifications, in arrival order.
std::vector<std::uint64_t> head_numbers(RpcWs& ws, const std::string& sub) {
  std::vector<std::uint64_t> numbers;
  for (const auto& head : ws.results_of(sub)) {
    numbers.push_back(std::stoull(head.at("number").get<std::string>(), nullptr, 16));
  }
  return numbers;
}

TEST(Reload, ASessionOnARemovedNodeMovesToOneThatStayedWithItsSubscriptionWhole) {
  WsCluster c(three_nodes());
  ASSERT_TRUE(c.open());
  RpcWs& ws = c.ws;
  std::string sub = ws.subscribe("1", {"newHeads"});
  ASSERT_TRUE(is_proxy_subscription_id(sub)) << sub;
  ASSERT_EQ(ws.upstream_name("2"), "el-a");
  ASSERT_TRUE(ws.notified_after(sub, 0));

  ASSERT_TRUE(reload(c, config_with(c.cluster, {{"el-b", "el-b"}, {"el-c", "el-c", false}}), "applied"));
  EXPECT_TRUE(c.wait_sessions_on("el-b", "el-a", seconds(5)));
  EXPECT_EQ(ws.upstream_name("3"), "el-b");
  const std::size_t moved_at = ws.notifications().size();
  EXPECT_TRUE(ws.notified_after(sub, moved_at)) << "no head under " << sub << " after the move";

  // The removed node's health leaves /metrics and /status; the new file's hash is named.
  EXPECT_EQ(c.metric("vixy_el_node_healthy{node=\"el-a\",tier=\"primary\"}"), -1);
  EXPECT_EQ(chaos::Cluster::find_node(c.cluster.status(), "el-a"), nullptr);
  // vixy holds no connection to it any more: not the session's, nor pooled HTTP ones (the health
  // checks' among them).
  EXPECT_TRUE(chaos::wait_until([&] { return c.node_state("el-a").value("connections", -1) == 0; }, seconds(5)))
      << c.node_state("el-a").dump();
  // Neither vixy's nor another client's traffic reaches it: a node that is gone now breaks nothing.
  ASSERT_TRUE(c.kill("el-a"));
  EXPECT_EQ(ws.upstream_name("4"), "el-b");
  EXPECT_EQ(ws.observe(kQuietWindow), 0u);

  EXPECT_TRUE(ws.answered_once({"1", "2", "3", "4"}));
  EXPECT_TRUE(ws.notified_only_under(sub));
  auto numbers = head_numbers(ws, sub);
  ASSERT_GE(numbers.size(), 2u);
  for (std::size_t i = 1; i < numbers.size(); ++i) {
    EXPECT_EQ(numbers[i], numbers[i - 1] + 1) << "head " << i << " of " << numbers.size();
  }
  // The session keeps the first file's configuration alive beside the new one.
  EXPECT_EQ(c.metric("vixy_config_generations"), 2);
}

// The move does not wait for the new node list's first health round: here that round takes 3 s
// (every check answered that late), and the session has left the removed node well before.
TEST(Reload, SessionsLeaveARemovedNodeAtOnceNotAfterAHealthRound) {
  WsCluster c(three_nodes());
  ASSERT_TRUE(c.open());
  std::string sub = c.ws.subscribe("1", {"newHeads"});
  ASSERT_EQ(c.ws.upstream_name("2"), "el-a");
  for (const char* node : {"el-a", "el-b", "el-c"}) {
    ASSERT_TRUE(c.admin(node, "/method", R"({"method":"eth_blockNumber","delay_ms":3000})"));
  }
  std::string toml = config_with(c.cluster, {{"el-b", "el-b"}, {"el-c", "el-c", false}});
  toml.replace(toml.find("health_check_timeout_ms = 500"), 29, "health_check_timeout_ms = 5000");
  const auto reloaded = std::chrono::steady_clock::now();
  ASSERT_TRUE(reload(c, toml, "applied"));
  EXPECT_TRUE(c.wait_sessions_on("el-b", "el-a", std::chrono::milliseconds(2500)));
  EXPECT_LT(std::chrono::steady_clock::now() - reloaded, std::chrono::milliseconds(3000));
  EXPECT_EQ(c.ws.upstream_name("3"), "el-b");
  EXPECT_TRUE(c.ws.notified_only_under(sub));
}

// Reloads in a row while a session lives and HTTP requests come: every configuration nothing holds
// any more is destroyed (under the sanitizers, a request or session outliving what it began in
// would show), the session is never disturbed, and no request fails.
TEST(Reload, ReloadsInARowLeaveOnlyTheConfigurationsInUse) {
  WsCluster c(three_nodes());
  ASSERT_TRUE(wait_ready(c.cluster));
  {
    RpcWs ws;  // its own client, so that the session can end before the cluster does
    ASSERT_TRUE(c.connect(ws));
    std::string sub = ws.subscribe("1", {"newHeads"});
    ASSERT_EQ(ws.upstream_name("2"), "el-a");
    const auto with_c = std::vector<ElEntry>{{"el-a", "el-a"}, {"el-b", "el-b"}, {"el-c", "el-c", false}};
    const auto without_c = std::vector<ElEntry>{{"el-a", "el-a"}, {"el-b", "el-b"}};
    for (int i = 0; i < 12; ++i) {
      ASSERT_TRUE(reload(c, config_with(c.cluster, i % 2 == 0 ? without_c : with_c), "applied")) << i;
      auto r = c.cluster.proxy_post("/el", rpc(i, "eth_blockNumber"));
      EXPECT_EQ(r.status, 200) << i << " " << r.body;
    }
    // The session's configuration and the running one; the ten between are gone.
    EXPECT_TRUE(chaos::wait_until([&] { return c.metric("vixy_config_generations") == 2; }, seconds(10)))
        << c.metric("vixy_config_generations");
    EXPECT_EQ(ws.upstream_name("3"), "el-a");
    EXPECT_TRUE(ws.notified_after(sub, ws.notifications().size()));
    EXPECT_TRUE(ws.answered_once({"1", "2", "3"}));
    EXPECT_TRUE(ws.notified_only_under(sub));
  }
  // The client has gone (its connection dropped): so has the first configuration.
  EXPECT_TRUE(chaos::wait_until([&] { return c.metric("vixy_config_generations") == 1; }, seconds(10)))
      << c.metric("vixy_config_generations");
}

TEST(Reload, NewRequestsAndSessionsUseAnAddedNodeOnceItIsHealthy) {
  WsCluster c(three_nodes());
  ASSERT_TRUE(c.open());
  ASSERT_EQ(answering_node(c.cluster), "el-a");
  // el-c, the backup, becomes the first primary under a new name: an added node, unchecked until
  // the new monitor's first round, and then preferred.
  ASSERT_TRUE(reload(c, config_with(c.cluster, {{"el-c-primary", "el-c"}, {"el-a", "el-a"}, {"el-b", "el-b"}}),
                     "applied"));
  EXPECT_TRUE(c.cluster.wait_for_status(
      [](const nlohmann::json& status) {
        auto node = chaos::Cluster::find_node(status, "el-c-primary");
        return node != nullptr && node.value("is_healthy", false);
      },
      seconds(10)))
      << c.cluster.status().dump();
  EXPECT_EQ(answering_node(c.cluster), "el-c");
  RpcWs later;
  ASSERT_TRUE(c.connect(later));
  EXPECT_EQ(later.upstream_name("1"), "el-c");
  // The session from before the reload keeps its node: el-a stayed, unchanged.
  EXPECT_EQ(c.ws.upstream_name("2"), "el-a");
}

// [limits] unchanged: a client's spent budget stays spent across a reload (a fresh limiter would
// give every client a new burst each time an operator adds a node).
TEST(Reload, AClientsSpentRateBudgetStaysSpentWhenTheLimitsDidNotChange) {
  const std::string limits = "[limits]\nrequests_per_second = 1\nburst = 3\n";
  auto options = three_nodes();
  options.extra_toml = limits;
  WsCluster c(options);
  ASSERT_TRUE(wait_ready(c.cluster));
  auto post = [&](int id) { return c.cluster.proxy_post("/el", rpc(id, "eth_chainId")).status; };
  for (int i = 0; i < 3; ++i) ASSERT_EQ(post(i), 200) << i;
  ASSERT_EQ(post(3), 429);
  const auto spent = std::chrono::steady_clock::now();
  ASSERT_TRUE(reload(c, config_with(c.cluster, {{"el-a", "el-a"}, {"el-b", "el-b"}}, limits), "applied"));
  int answered = 0;
  for (int i = 4; i < 7; ++i) answered += post(i) == 200 ? 1 : 0;
  // One token a second comes back: within two seconds at most two of the three are answered; a fresh
  // budget answers all three.
  if (std::chrono::steady_clock::now() - spent >= seconds(2)) GTEST_SKIP() << "too slow a machine to tell";
  EXPECT_LT(answered, 3);
}

TEST(Reload, AFileThatWouldNotLoadChangesNothing) {
  WsCluster c(three_nodes());
  ASSERT_TRUE(c.open());
  const std::string before = c.cluster.status().dump();
  std::string bad = config_with(c.cluster, {{"el-b", "el-b"}});
  bad.insert(bad.find("\n\n[el]"), "\nmax_retries = \"x\"");  // line 4, in [global]
  ASSERT_TRUE(reload(c, bad, "rejected"));
  const std::string log = c.cluster.proxy().log();
  EXPECT_NE(log.find("reload rejected"), std::string::npos) << log;
  EXPECT_NE(log.find("vixy.toml:4: global.max_retries"), std::string::npos) << log;
  EXPECT_EQ(answering_node(c.cluster), "el-a");
  EXPECT_EQ(c.ws.upstream_name("1"), "el-a");
  EXPECT_NE(chaos::Cluster::find_node(c.cluster.status(), "el-c"), nullptr) << before;
  EXPECT_EQ(c.metric("vixy_config_reloads_total{result=\"applied\"}"), 0);
}

TEST(Reload, TheSameBytesAreNoReloadAndRestartOnlySettingsAreNamed) {
  WsCluster c(three_nodes());
  ASSERT_TRUE(c.open());
  ::kill(c.cluster.proxy().pid(), SIGHUP);  // the file as the cluster wrote it
  ASSERT_TRUE(chaos::wait_until([&] { return c.metric("vixy_config_reloads_total{result=\"unchanged\"}") == 1; },
                                seconds(10)))
      << c.cluster.proxy().log();

  // Health checks that take 300 ms: the new node list's first round has not ended when the reload
  // is counted, so what /ready says then is the health carried over from before.
  for (const char* node : {"el-a", "el-b", "el-c"}) {
    ASSERT_TRUE(c.admin(node, "/method", R"({"method":"eth_blockNumber","delay_ms":300})"));
  }
  const auto nodes = std::vector<ElEntry>{{"el-a", "el-a"}, {"el-b", "el-b"}, {"el-c", "el-c", false}};
  ASSERT_TRUE(reload(c, config_with(c.cluster, nodes, "[server]\nmax_connections = 77\nshutdown_timeout_ms = 3000\n"),
                     "applied"));
  auto ready = c.cluster.proxy_get("/ready");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_NE(ready.body.find("\"healthy_el_nodes\":3"), std::string::npos) << ready.body;
  const std::string log = c.cluster.proxy().log();
  EXPECT_NE(log.find("keys=server.max_connections"), std::string::npos) << log;
  EXPECT_EQ(log.find("shutdown_timeout_ms", log.find("keys=")), std::string::npos) << "a reloadable key was named";
  // Nothing moved: every node stayed as it was, healthy, and the session on el-a with it.
  EXPECT_EQ(c.ws.upstream_name("1"), "el-a");
  EXPECT_EQ(c.metric("vixy_el_healthy_nodes"), 3);
}

}  // namespace
}  // namespace vixy::testing
