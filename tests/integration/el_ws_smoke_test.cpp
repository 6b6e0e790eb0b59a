// The WebSocket endpoint end to end through the real binary: the story of the incident in one
// test (subscribe, kill the primary, keep the subscription and the ids, come back).
#include <signal.h>

#include <gtest/gtest.h>

#include "support/harness.hpp"
#include "support/ws_cluster.hpp"

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
  WsCluster c;
  ASSERT_TRUE(c.open());
  chaos::WsClient& client = c.ws.client();  // read here message by message

  ASSERT_FALSE(client.send(rpc(7, "eth_subscribe", json::array({"newHeads"}))));
  json subscribed = receive_answer(client);
  ASSERT_EQ(subscribed["id"], 7) << subscribed.dump();
  std::string subscription = subscribed["result"];

  ASSERT_FALSE(client.send(rpc("v", "web3_clientVersion")));
  json version = receive_answer(client);
  EXPECT_TRUE(version["result"].get<std::string>().ends_with("/el-primary")) << version.dump();

  ASSERT_TRUE(c.kill("el-primary"));
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

  ASSERT_TRUE(c.restart("el-primary"));
  bool back = chaos::wait_until(
      [&] {
        if (client.send(rpc("probe", "web3_clientVersion"))) return false;
        json answer = receive_answer(client);
        return answer.contains("result") && answer["result"].get<std::string>().ends_with("/el-primary");
      },
      20s);  // generous: under ASan on a loaded 2-core machine a health round can take seconds
  EXPECT_TRUE(back) << c.cluster.proxy().log();
  auto metrics = c.cluster.proxy_get("/metrics").body;
  EXPECT_NE(metrics.find("vixy_ws_upstream_node{node=\"el-primary\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("vixy_ws_failbacks_total 1"), std::string::npos);
}

TEST(ElWebSocket, PlainGetIsToldToUpgrade) {
  chaos::Cluster cluster(binaries(), {});
  auto r = cluster.proxy_get("/el/ws");
  EXPECT_EQ(r.status, 426);
  EXPECT_EQ(parse_body(r)["error"]["code"], -32600) << r.body;
}

TEST(ElWebSocket, SigtermClosesSessionsWithGoingAwayAndExitsPromptly) {
  WsCluster c;
  ASSERT_TRUE(c.open());
  chaos::WsClient& client = c.ws.client();  // read here message by message
  ASSERT_FALSE(client.send(rpc(1, "eth_chainId")));
  ASSERT_TRUE(receive_answer(client).contains("result"));

  auto started = std::chrono::steady_clock::now();
  ::kill(c.cluster.proxy().pid(), SIGTERM);
  EXPECT_TRUE(chaos::wait_until([&] { return !client.receive(100ms) && client.closed(); }, 10s));
  EXPECT_EQ(client.close_code(), 1001);
  EXPECT_EQ(c.cluster.proxy().wait_for_exit(10s), 0);
  // Well inside the 10 s shutdown_timeout_ms: an open session must not hold the process up.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

}  // namespace
}  // namespace vixy::testing
