// The WebSocket endpoint end to end through the real binary: the story of the incident in one
// test (subscribe, kill the primary, keep the subscription and the ids, come back).
#include <gtest/gtest.h>

#include "support/harness.hpp"

namespace vixy::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

json receive_json(chaos::WsClient& client, std::chrono::milliseconds timeout = 5s) {
  auto text = client.receive(timeout);
  return text ? json::parse(*text, nullptr, false) : json();
}

// The next message that is not a notification (answers interleave with newHeads).
json receive_answer(chaos::WsClient& client) {
  for (int i = 0; i < 100; ++i) {
    json message = receive_json(client);
    if (message.is_null() || !message.contains("method")) return message;
  }
  return json();
}

TEST(ElWebSocket, SubscriptionKeepsItsIdAcrossFailoverAndFailback) {
  chaos::Cluster cluster(binaries(), {});
  ASSERT_TRUE(wait_ready(cluster));
  chaos::WsClient client;
  ASSERT_FALSE(client.connect("127.0.0.1", cluster.proxy_port(), "/el/ws"));

  ASSERT_FALSE(client.send(rpc(7, "eth_subscribe", json::array({"newHeads"}))));
  json subscribed = receive_answer(client);
  ASSERT_EQ(subscribed["id"], 7) << subscribed.dump();
  std::string subscription = subscribed["result"];

  ASSERT_FALSE(client.send(rpc("v", "web3_clientVersion")));
  json version = receive_answer(client);
  EXPECT_TRUE(version["result"].get<std::string>().ends_with("/el-primary")) << version.dump();

  ASSERT_EQ(cluster.admin("el-primary", "/kill").status, 200);
  ASSERT_FALSE(client.send(rpc(7, "web3_clientVersion")));  // the subscribe's id, reused
  json after = receive_answer(client);
  EXPECT_EQ(after["id"], 7);
  EXPECT_TRUE(after["result"].get<std::string>().ends_with("/el-backup")) << after.dump();

  // Notifications keep coming under the original id.
  bool notified = false;
  for (int i = 0; i < 20 && !notified; ++i) {
    json message = receive_json(client);
    ASSERT_FALSE(message.is_null());
    ASSERT_EQ(message["method"], "eth_subscription") << "unsolicited: " << message.dump();
    notified = message["params"]["subscription"] == subscription;
  }
  EXPECT_TRUE(notified);

  ASSERT_EQ(cluster.admin("el-primary", "/restart").status, 200);
  bool back = chaos::wait_until(
      [&] {
        if (client.send(rpc("probe", "web3_clientVersion"))) return false;
        json answer = receive_answer(client);
        return answer.contains("result") && answer["result"].get<std::string>().ends_with("/el-primary");
      },
      20s);  // generous: under ASan on a loaded 2-core machine a health round can take seconds
  EXPECT_TRUE(back) << cluster.proxy().log();
  auto metrics = cluster.proxy_get("/metrics").body;
  EXPECT_NE(metrics.find("vixy_ws_upstream_node{node=\"el-primary\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("vixy_ws_failbacks_total 1"), std::string::npos);
}

}  // namespace
}  // namespace vixy::testing
