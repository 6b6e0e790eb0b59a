#pragma once
// What the GET /el/ws integration tests share: the loopback cluster (by default fake EL nodes
// el-primary and el-backup, a CL node, and vixy in front of them) with one recording client
// session, and the steps the tests take on it. A step that can fail returns an AssertionResult
// that says what failed, so that the test keeps it fatal: ASSERT_TRUE(c.kill("el-primary")).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chaos/cluster.hpp"
#include "support/ws_rpc.hpp"

namespace vixy::testing {

struct WsCluster {
  explicit WsCluster(chaos::ClusterOptions options = {});

  chaos::Cluster cluster;
  RpcWs ws;

  // Waits until vixy is ready (an EL node healthy), then connects `ws` to GET /el/ws.
  ::testing::AssertionResult open();
  // Connects another client to vixy's GET /el/ws.
  ::testing::AssertionResult connect(RpcWs& client);

  // POSTs `path` with `body` to a fake node's admin API; a failure unless the node answered 200.
  ::testing::AssertionResult admin(std::string_view node, std::string_view path, std::string body = "{}");
  ::testing::AssertionResult kill(std::string_view node) { return admin(node, "/kill"); }
  ::testing::AssertionResult restart(std::string_view node) { return admin(node, "/restart"); }
  // Kills every EL node, then waits until vixy sees none healthy (GET /ready answers 503).
  ::testing::AssertionResult kill_all_el();

  // Waits until vixy's metrics say its WebSocket sessions use `node` and not `other`
  // (vixy_ws_upstream_node).
  ::testing::AssertionResult wait_sessions_on(const std::string& node, const std::string& other,
                                              std::chrono::milliseconds timeout);
  // Waits until vixy's /status reports `node` unhealthy.
  ::testing::AssertionResult wait_unhealthy(std::string_view node, std::chrono::milliseconds timeout = 10s);

  // The "state" object of a fake node's GET /state (head, in_flight, ...); {} when unreadable.
  nlohmann::json node_state(std::string_view node);
  // The fake node's head; 0 when its state is unreadable.
  std::uint64_t node_head(std::string_view node);
  // One sample of vixy's metrics (e.g. "vixy_ws_failbacks_total"); -1 when absent.
  double metric(const std::string& series) { return proxy_metric(cluster, series); }
};

}  // namespace vixy::testing
