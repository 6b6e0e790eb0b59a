#include "observability/proxy_metrics.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace vixy::observability {
namespace {

config::Config two_el_one_cl() {
  config::Config config;
  config.el.push_back({"geth", "http://127.0.0.1:8545", "ws://127.0.0.1:8546", config::Tier::primary});
  config.el.push_back({"infura", "https://mainnet.infura.io/v3/9aa3d95b3bc440fa88ea12eaa4456161",
                       "wss://mainnet.infura.io/ws/v3/9aa3d95b3bc440fa88ea12eaa4456161", config::Tier::backup});
  config.cl.push_back({"lighthouse", "http://127.0.0.1:5052"});
  return config;
}

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream lines(text);
  for (std::string current; std::getline(lines, current);) {
    if (current == line) return true;
  }
  return false;
}

// "# TYPE name kind" lines, in the order they were rendered.
std::vector<std::string> type_lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream lines(text);
  for (std::string current; std::getline(lines, current);) {
    if (current.rfind("# TYPE ", 0) == 0) result.push_back(current.substr(7));
  }
  return result;
}

TEST(ProxyMetrics, EveryVixyNameIsPresentFromTheFirstRenderInVixyOrder) {
  ProxyMetrics metrics(two_el_one_cl());
  const std::string text = metrics.render();
  const std::vector<std::string> expected{
      "vixy_el_requests_total counter",
      "vixy_el_request_duration_seconds histogram",
      "vixy_el_node_block_number gauge",
      "vixy_el_node_lag_blocks gauge",
      "vixy_el_node_healthy gauge",
      "vixy_el_failover_active gauge",
      "vixy_el_failovers_total counter",
      "vixy_el_chain_head gauge",
      "vixy_el_healthy_nodes gauge",
      "vixy_cl_requests_total counter",
      "vixy_cl_request_duration_seconds histogram",
      "vixy_cl_node_slot gauge",
      "vixy_cl_node_lag_slots gauge",
      "vixy_cl_node_healthy gauge",
      "vixy_cl_chain_head gauge",
      "vixy_cl_healthy_nodes gauge",
      "vixy_ws_connections_active gauge",
      "vixy_ws_connections_total counter",
      "vixy_ws_messages_total counter",
      "vixy_ws_reconnections_total counter",
      "vixy_ws_reconnection_attempts_total counter",
      "vixy_ws_subscriptions_active gauge",
      "vixy_ws_subscriptions_total counter",
      "vixy_ws_upstream_node gauge",
      "vixy_el_upstream_errors_total counter",
      "vixy_cl_upstream_errors_total counter",
      "vixy_proxy_errors_total counter",
      "vixy_health_checks_total counter",
      "vixy_ws_queue_depth gauge",
      "vixy_ws_queue_full_errors_total counter",
      "vixy_ws_replayed_subscriptions_total counter",
      "vixy_ws_resent_requests_total counter",
      "vixy_ws_outcome_unknown_total counter",
      "vixy_ws_request_timeouts_total counter",
      "vixy_ws_failbacks_total counter",
      "vixy_ws_stray_upstream_messages_total counter",
      "vixy_ws_backfilled_total counter",
      "vixy_ws_duplicates_dropped_total counter",
      "vixy_ws_unfilled_gaps_total counter",
      "vixy_cl_streams_moved_total counter",
      "vixy_ws_slow_clients_closed_total counter",
      "vixy_ws_buffered_bytes gauge",
      "vixy_ws_invalid_upstream_messages_total counter",
      "vixy_connections_active gauge",
      "vixy_connections_refused_total counter",
      "vixy_connections_evicted_total counter",
      "vixy_ws_upstream_connections gauge",
      "vixy_ws_upstream_subscriptions gauge",
      "vixy_ws_shared_subscribers gauge",
      "vixy_ws_backfill_requests_total counter",
      "vixy_ws_backfill_cache_hits_total counter",
      "vixy_cl_event_upstreams gauge",
      "vixy_cl_event_listeners gauge",
      "vixy_refused_total counter",
      "vixy_routing_requests_total counter",
      "vixy_config_info gauge",
      "vixy_config_reloads_total counter",
      "vixy_config_generations gauge",
  };
  EXPECT_EQ(type_lines(text), expected);
}

TEST(ProxyMetrics, ConfiguredNodesHaveChildrenBeforeAnyTraffic) {
  ProxyMetrics metrics(two_el_one_cl());
  const std::string text = metrics.render();
  for (const char* line : {
           "vixy_el_requests_total{node=\"geth\",tier=\"primary\"} 0",
           "vixy_el_requests_total{node=\"infura\",tier=\"backup\"} 0",
           "vixy_el_request_duration_seconds_count{node=\"infura\",tier=\"backup\"} 0",
           "vixy_el_request_duration_seconds_bucket{node=\"geth\",tier=\"primary\",le=\"+Inf\"} 0",
           "vixy_el_node_block_number{node=\"geth\",tier=\"primary\"} 0",
           "vixy_el_node_lag_blocks{node=\"infura\",tier=\"backup\"} 0",
           "vixy_el_node_healthy{node=\"geth\",tier=\"primary\"} 0",
           "vixy_el_upstream_errors_total{node=\"infura\",tier=\"backup\"} 0",
           "vixy_el_failover_active 0",
           "vixy_el_failovers_total 0",
           "vixy_cl_requests_total{node=\"lighthouse\"} 0",
           "vixy_cl_request_duration_seconds_sum{node=\"lighthouse\"} 0",
           "vixy_cl_node_slot{node=\"lighthouse\"} 0",
           "vixy_cl_node_lag_slots{node=\"lighthouse\"} 0",
           "vixy_cl_node_healthy{node=\"lighthouse\"} 0",
           "vixy_cl_upstream_errors_total{node=\"lighthouse\"} 0",
           "vixy_cl_streams_moved_total{node=\"lighthouse\"} 0",
           "vixy_cl_event_upstreams{node=\"lighthouse\"} 0",
           "vixy_cl_event_listeners 0",
           "vixy_ws_upstream_node{node=\"geth\"} 0",
           "vixy_ws_upstream_node{node=\"infura\"} 0",
           "vixy_ws_upstream_connections{node=\"geth\"} 0",
           "vixy_ws_upstream_subscriptions{node=\"infura\"} 0",
           "vixy_ws_backfill_requests_total{node=\"geth\"} 0",
           "vixy_ws_backfill_cache_hits_total{node=\"infura\"} 0",
           "vixy_ws_shared_subscribers{kind=\"logs\"} 0",
           "vixy_health_checks_total{layer=\"el\",node=\"geth\",outcome=\"failed\"} 0",
           "vixy_health_checks_total{layer=\"cl\",node=\"lighthouse\",outcome=\"syncing\"} 0",
           "vixy_proxy_errors_total{endpoint=\"el\",reason=\"no_healthy_node\"} 0",
           "vixy_connections_active 0",
           "vixy_connections_refused_total{reason=\"max_connections\"} 0",
           "vixy_connections_refused_total{reason=\"per_ip\"} 0",
           "vixy_connections_refused_total{reason=\"overflow\"} 0",
           "vixy_connections_evicted_total 0",
           "vixy_refused_total{reason=\"method\"} 0",
       }) {
    EXPECT_TRUE(has_line(text, line)) << line;
  }
  // CL series carry no tier label (Vixy's CL metrics are labelled by node only).
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("vixy_cl_", 0) == 0) {
      EXPECT_EQ(line.find("tier="), std::string::npos) << line;
    }
  }
  EXPECT_FALSE(has_line(text, "vixy_ws_upstream_node{node=\"lighthouse\"} 0"));
}

health::NodeHealth node(std::string name, config::Tier tier, std::optional<std::uint64_t> height,
                        std::uint64_t lag, bool healthy) {
  health::NodeHealth n;
  n.name = std::move(name);
  n.tier = tier;
  n.height = height;
  n.lag = lag;
  n.checked = true;
  n.last_outcome = height ? health::CheckOutcome::ok : health::CheckOutcome::failed;
  n.healthy = healthy;
  return n;
}

health::HealthSnapshot snapshot(bool failover) {
  health::HealthSnapshot s;
  s.el.nodes = {node("geth", config::Tier::primary, 21000000, 2, false),
                node("infura", config::Tier::backup, std::nullopt, 0, true)};
  s.el.chain_head = 21000002;
  s.el.healthy_count = 1;
  s.cl.nodes = {node("lighthouse", config::Tier::primary, 10500123, 0, true)};
  s.cl.chain_head = 10500123;
  s.cl.healthy_count = 1;
  s.el_failover_active = failover;
  s.round = 7;
  return s;
}

TEST(ProxyMetrics, PublishMirrorsTheSnapshotIntoGauges) {
  ProxyMetrics metrics(two_el_one_cl());
  metrics.publish(health::HealthSnapshot{}, snapshot(true));
  const std::string text = metrics.render();
  for (const char* line : {
           "vixy_el_node_block_number{node=\"geth\",tier=\"primary\"} 21000000",
           "vixy_el_node_lag_blocks{node=\"geth\",tier=\"primary\"} 2",
           "vixy_el_node_healthy{node=\"geth\",tier=\"primary\"} 0",
           "vixy_el_node_block_number{node=\"infura\",tier=\"backup\"} 0",  // height unknown
           "vixy_el_node_healthy{node=\"infura\",tier=\"backup\"} 1",
           "vixy_el_chain_head 21000002",
           "vixy_el_healthy_nodes 1",
           "vixy_el_failover_active 1",
           "vixy_cl_node_slot{node=\"lighthouse\"} 10500123",
           "vixy_cl_node_lag_slots{node=\"lighthouse\"} 0",
           "vixy_cl_node_healthy{node=\"lighthouse\"} 1",
           "vixy_cl_chain_head 10500123",
           "vixy_cl_healthy_nodes 1",
       }) {
    EXPECT_TRUE(has_line(text, line)) << line;
  }
  EXPECT_EQ(metrics.el_node_lag_blocks.with({"geth", "primary"}).value(), 2.0);
}

TEST(ProxyMetrics, FailoversCountOnlyTheTurnOn) {
  ProxyMetrics metrics(two_el_one_cl());
  const auto off = snapshot(false);
  const auto on = snapshot(true);

  metrics.publish(off, off);
  EXPECT_EQ(metrics.el_failovers_total.value(), 0u);
  metrics.publish(off, on);
  EXPECT_EQ(metrics.el_failovers_total.value(), 1u);
  EXPECT_EQ(metrics.el_failover_active.value(), 1.0);
  metrics.publish(on, on);
  EXPECT_EQ(metrics.el_failovers_total.value(), 1u);
  metrics.publish(on, off);
  EXPECT_EQ(metrics.el_failovers_total.value(), 1u);
  EXPECT_EQ(metrics.el_failover_active.value(), 0.0);
  metrics.publish(off, on);
  EXPECT_EQ(metrics.el_failovers_total.value(), 2u);
  EXPECT_TRUE(has_line(metrics.render(), "vixy_el_failovers_total 2"));
}

TEST(ProxyMetrics, HotPathReferencesLandInTheRenderedText) {
  ProxyMetrics metrics(two_el_one_cl());
  metrics.el_requests_total.with({"geth", "primary"}).inc(5);
  metrics.el_request_duration_seconds.with({"geth", "primary"}).observe(0.02);
  metrics.proxy_errors_total.with({"cl", "timeout"}).inc();
  metrics.ws_connections_active.add(2);
  const std::string text = metrics.render();
  EXPECT_TRUE(has_line(text, "vixy_el_requests_total{node=\"geth\",tier=\"primary\"} 5"));
  EXPECT_TRUE(has_line(text, "vixy_el_request_duration_seconds_bucket{node=\"geth\",tier=\"primary\",le=\"0.01\"} 0"));
  EXPECT_TRUE(has_line(text, "vixy_el_request_duration_seconds_bucket{node=\"geth\",tier=\"primary\",le=\"0.025\"} 1"));
  EXPECT_TRUE(has_line(text, "vixy_proxy_errors_total{endpoint=\"cl\",reason=\"timeout\"} 1"));
  EXPECT_TRUE(has_line(text, "vixy_ws_connections_active 2"));
}

}  // namespace
}  // namespace vixy::observability
