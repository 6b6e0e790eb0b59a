#include "support/ws_cluster.hpp"

#include "support/harness.hpp"

namespace vixy::testing {

using nlohmann::json;

WsCluster::WsCluster(chaos::ClusterOptions options) : cluster(binaries(), std::move(options)) {}

::testing::AssertionResult WsCluster::open() {
  if (!wait_ready(cluster)) {
    return ::testing::AssertionFailure() << "vixy never became ready (no healthy EL node)\n" << cluster.proxy().log();
  }
  return connect(ws);
}

::testing::AssertionResult WsCluster::connect(RpcWs& client) {
  if (!client.connect(cluster.proxy_port())) {
    return ::testing::AssertionFailure() << "could not open GET /el/ws on 127.0.0.1:" << cluster.proxy_port();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult WsCluster::admin(std::string_view node, std::string_view path, std::string body) {
  auto answer = cluster.admin(node, path, body);
  if (answer.status != 200) {
    return ::testing::AssertionFailure() << "admin " << path << " " << body << " on " << node << " answered "
                                         << answer.status << ": " << answer.body;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult WsCluster::kill_all_el() {
  for (const auto& node : cluster.nodes()) {
    if (node.kind != "el") continue;
    if (auto killed = kill(node.name); !killed) return killed;
  }
  if (!chaos::wait_until([&] { return cluster.proxy_get("/ready").status == 503; }, 10s)) {
    return ::testing::AssertionFailure() << "every EL node was killed, yet GET /ready never answered 503";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult WsCluster::wait_sessions_on(const std::string& node, const std::string& other,
                                                       std::chrono::milliseconds timeout) {
  if (!chaos::wait_until([&] { return ws_upstream_is(cluster, node, other); }, timeout)) {
    return ::testing::AssertionFailure() << "vixy_ws_upstream_node never showed the sessions on " << node
                                         << " and off " << other;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult WsCluster::wait_unhealthy(std::string_view node, std::chrono::milliseconds timeout) {
  bool unhealthy = cluster.wait_for_status(
      [&](const json& status) { return !chaos::Cluster::find_node(status, node).value("is_healthy", true); },
      timeout);
  if (!unhealthy) return ::testing::AssertionFailure() << "/status never reported " << node << " unhealthy";
  return ::testing::AssertionSuccess();
}

json WsCluster::node_state(std::string_view node) {
  json body = parse_body(cluster.admin(node, "/state"));
  if (!body.is_object() || !body.contains("state") || !body["state"].is_object()) return json::object();
  return body["state"];
}

std::uint64_t WsCluster::node_head(std::string_view node) { return node_state(node).value("head", std::uint64_t{0}); }

}  // namespace vixy::testing
