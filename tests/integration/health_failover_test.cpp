// Health transitions seen through the real binary: lag, failures, failover to the backup tier and
// back to the primary, and what /status, /ready and /metrics say about it.
#include <gtest/gtest.h>

#include "support/harness.hpp"

namespace vixy::testing {
namespace {

using chaos::Cluster;
using chaos::ClusterOptions;
using nlohmann::json;
using std::chrono::seconds;

bool node_healthy(const json& status, const std::string& name) {
  auto node = Cluster::find_node(status, name);
  return node.is_object() && node.value("is_healthy", false);
}

double metric_value(const std::string& metrics, const std::string& series) {
  auto at = metrics.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(metrics.substr(at + series.size() + 2));
}

TEST(HealthFailover, LaggingPrimaryFailsOverToBackupAndBack) {
  Cluster cluster(binaries(), {});  // max_el_lag_blocks defaults to 5
  ASSERT_TRUE(cluster.wait_for_status(
      [](const json& s) { return node_healthy(s, "el-primary") && node_healthy(s, "el-backup"); }, seconds(10)));
  EXPECT_EQ(answering_node(cluster), "el-primary");

  ASSERT_EQ(cluster.admin("el-primary", "/lag", R"({"blocks":20})").status, 200);
  ASSERT_TRUE(cluster.wait_for_status(
      [](const json& s) { return !node_healthy(s, "el-primary") && s.value("el_failover_active", false); },
      seconds(10)));
  auto lagging = node_status(cluster, "el-primary");
  EXPECT_GE(lagging["lag"].get<std::uint64_t>(), 15u) << lagging;
  EXPECT_EQ(lagging["check_result"], "ok");  // it answers; it is just behind
  EXPECT_EQ(answering_node(cluster), "el-backup");
  auto metrics = cluster.proxy_get("/metrics").body;
  EXPECT_EQ(metric_value(metrics, "vixy_el_failover_active"), 1) << metrics;
  EXPECT_EQ(metric_value(metrics, "vixy_el_failovers_total"), 1) << metrics;
  EXPECT_EQ(metric_value(metrics, "vixy_el_node_healthy{node=\"el-primary\",tier=\"primary\"}"), 0);

  ASSERT_EQ(cluster.admin("el-primary", "/lag", R"({"blocks":0})").status, 200);
  ASSERT_TRUE(cluster.wait_for_status(
      [](const json& s) { return node_healthy(s, "el-primary") && !s.value("el_failover_active", true); },
      seconds(10)));
  EXPECT_EQ(answering_node(cluster), "el-primary");
  metrics = cluster.proxy_get("/metrics").body;
  EXPECT_EQ(metric_value(metrics, "vixy_el_failover_active"), 0) << metrics;
}

TEST(HealthFailover, KilledPrimaryTurnsUnhealthyAfterTheFailureThresholdAndRecovers) {
  ClusterOptions options;
  options.global_toml = "health_check_max_failures = 3\n";
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(cluster.wait_for_status([](const json& s) { return node_healthy(s, "el-primary"); }, seconds(10)));

  ASSERT_EQ(cluster.admin("el-primary", "/kill").status, 200);
  ASSERT_TRUE(cluster.wait_for_status([](const json& s) { return !node_healthy(s, "el-primary"); }, seconds(10)));
  auto down = node_status(cluster, "el-primary");
  EXPECT_GE(down["consecutive_failures"].get<int>(), 3) << down;
  EXPECT_EQ(down["check_result"], "failed");
  EXPECT_EQ(answering_node(cluster), "el-backup");

  ASSERT_EQ(cluster.admin("el-primary", "/restart").status, 200);
  ASSERT_TRUE(cluster.wait_for_status([](const json& s) { return node_healthy(s, "el-primary"); }, seconds(10)));
  EXPECT_EQ(node_status(cluster, "el-primary")["consecutive_failures"], 0);
  EXPECT_EQ(answering_node(cluster), "el-primary");
}

TEST(HealthFailover, ReadyFollowsTheElLayer) {
  Cluster cluster(binaries(), {});
  ASSERT_TRUE(wait_ready(cluster));
  EXPECT_EQ(cluster.proxy_get("/health").status, 200);
  ASSERT_EQ(cluster.admin("el-primary", "/kill").status, 200);
  ASSERT_EQ(cluster.admin("el-backup", "/kill").status, 200);
  ASSERT_TRUE(chaos::wait_until([&] { return cluster.proxy_get("/ready").status == 503; }, seconds(10)));
  EXPECT_EQ(cluster.proxy_get("/health").status, 200);  // liveness is not readiness
  ASSERT_EQ(cluster.admin("el-backup", "/restart").status, 200);
  EXPECT_TRUE(wait_ready(cluster));
}

TEST(HealthFailover, StatusDescribesEveryNode) {
  Cluster cluster(binaries(), {});
  ASSERT_TRUE(cluster.wait_for_status(
      [](const json& s) {
        return node_healthy(s, "el-primary") && node_healthy(s, "el-backup") && node_healthy(s, "cl-node");
      },
      seconds(10)));
  auto s = cluster.status();
  EXPECT_GT(s["el_chain_head"].get<std::uint64_t>(), 1'000'000u);
  EXPECT_GT(s["cl_chain_head"].get<std::uint64_t>(), 1'000'000u);
  EXPECT_EQ(s["el_failover_active"], false);
  ASSERT_EQ(s["el_nodes"].size(), 2u);
  EXPECT_EQ(s["el_nodes"][0]["name"], "el-primary");
  EXPECT_EQ(s["el_nodes"][0]["tier"], "primary");
  EXPECT_EQ(s["el_nodes"][1]["tier"], "backup");
  EXPECT_GT(s["el_nodes"][0]["block_number"].get<std::uint64_t>(), 1'000'000u);
  EXPECT_EQ(s["el_nodes"][0]["check_result"], "ok");
  ASSERT_EQ(s["cl_nodes"].size(), 1u);
  EXPECT_GT(s["cl_nodes"][0]["slot"].get<std::uint64_t>(), 1'000'000u);

  auto metrics = cluster.proxy_get("/metrics").body;
  for (const char* name :
       {"vixy_el_requests_total", "vixy_el_request_duration_seconds", "vixy_el_node_block_number",
        "vixy_el_node_lag_blocks", "vixy_el_node_healthy", "vixy_el_failover_active", "vixy_el_failovers_total",
        "vixy_el_chain_head", "vixy_el_healthy_nodes", "vixy_cl_requests_total", "vixy_cl_node_slot",
        "vixy_cl_node_healthy", "vixy_cl_chain_head", "vixy_cl_healthy_nodes", "vixy_ws_connections_active"}) {
    EXPECT_NE(metrics.find(std::string("# TYPE ") + name + " "), std::string::npos) << name;
  }
  EXPECT_EQ(metric_value(metrics, "vixy_el_healthy_nodes"), 2);
  EXPECT_GT(metric_value(metrics, "vixy_el_node_block_number{node=\"el-primary\",tier=\"primary\"}"), 1'000'000);
}

}  // namespace
}  // namespace vixy::testing
