// [methods] allow / deny against the real vixy and a fake node: a refused method is answered by
// vixy with -32601 naming it, over HTTP and WebSocket, alone or inside a batch, and never reaches
// the node. Every method here is scripted on the node to answer error 4242, so an answer from the
// node cannot pass for vixy's own.
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "support/harness.hpp"
#include "support/ws_rpc.hpp"

namespace vixy::testing {
namespace {

using chaos::Cluster;
using chaos::ClusterOptions;
using nlohmann::json;

constexpr int kFromTheNode = 4242;

std::unique_ptr<Cluster> policed_cluster() {
  ClusterOptions options;
  options.el_backups = {};
  options.cl_nodes = {};
  options.extra_toml = "[methods]\ndeny = [\"debug_*\", \"admin_peers\"]\n";
  auto cluster = std::make_unique<Cluster>(binaries(), options);
  for (const char* method : {"debug_traceTransaction", "debug_getRawBlock", "admin_peers", "eth_chainId"}) {
    auto set = cluster->admin("el-primary", "/method",
                              json{{"method", method}, {"error", {{"code", kFromTheNode}, {"message", "node"}}}}.dump());
    EXPECT_EQ(set.status, 200) << set.body;
  }
  return cluster;
}

void expect_refused(const json& answer, const json& id, const std::string& method) {
  EXPECT_EQ(answer["id"], id) << answer;
  EXPECT_EQ(answer["error"]["code"], -32601) << answer;
  EXPECT_EQ(answer["error"]["message"], "the method " + method + " does not exist/is not available on this proxy");
}

TEST(RefusedMethods, HttpRequestsForRefusedMethodsAreAnsweredByVixyAloneOrInABatch) {
  auto cluster = policed_cluster();
  ASSERT_TRUE(wait_ready(*cluster)) << cluster->proxy().log();

  auto single = cluster->proxy_post("/el", rpc("t1", "debug_traceTransaction", {"0x01"}));
  EXPECT_EQ(single.status, 200) << single.body;
  expect_refused(parse_body(single), "t1", "debug_traceTransaction");

  // Allowed entries go to the node (its scripted error comes back), refused ones are answered by
  // vixy, a refused notification gets nothing.
  std::string mixed = "[" + rpc(1, "eth_chainId") + "," + rpc(2, "debug_getRawBlock", {"0x1"}) + "," +
                      R"({"jsonrpc":"2.0","method":"admin_peers"})" + "," + rpc(3, "eth_blockNumber") + "]";
  auto batch = cluster->proxy_post("/el", mixed);
  ASSERT_EQ(batch.status, 200) << batch.body;
  auto answers = parse_body(batch);
  ASSERT_TRUE(answers.is_array()) << batch.body;
  ASSERT_EQ(answers.size(), 3u) << batch.body;
  std::map<std::string, json> by_id;
  for (const auto& answer : answers) by_id[answer["id"].dump()] = answer;
  EXPECT_EQ(by_id["1"]["error"]["code"], kFromTheNode) << batch.body;
  expect_refused(by_id["2"], 2, "debug_getRawBlock");
  EXPECT_TRUE(by_id["3"].contains("result")) << batch.body;

  auto refused_whole = cluster->proxy_post("/el", "[" + rpc(4, "admin_peers") + "," + rpc(5, "debug_x") + "]");
  ASSERT_EQ(refused_whole.status, 200) << refused_whole.body;
  auto both = parse_body(refused_whole);
  ASSERT_EQ(both.size(), 2u) << refused_whole.body;
  expect_refused(both[0], 4, "admin_peers");
  expect_refused(both[1], 5, "debug_x");

  EXPECT_EQ(proxy_metric(*cluster, R"(vixy_refused_total{reason="method"})"), 5);
}

TEST(RefusedMethods, WebSocketRequestsForRefusedMethodsAreAnsweredByVixy) {
  auto cluster = policed_cluster();
  ASSERT_TRUE(wait_ready(*cluster)) << cluster->proxy().log();
  RpcWs ws;
  ASSERT_TRUE(ws.connect(cluster->proxy_port()));
  auto refused = ws.call("\"w1\"", "debug_traceTransaction", {"0x01"});
  ASSERT_TRUE(refused);
  expect_refused(*refused, "w1", "debug_traceTransaction");
  auto allowed = ws.call("\"w2\"", "eth_chainId");
  ASSERT_TRUE(allowed);
  EXPECT_EQ((*allowed)["error"]["code"], kFromTheNode) << *allowed;
  EXPECT_EQ(proxy_metric(*cluster, R"(vixy_refused_total{reason="method"})"), 1);
}

}  // namespace
}  // namespace vixy::testing
