// GET /el/ws across an upstream reconnection, through the real binary: the stories of the incident
// (seed/000): replayed subscribe answers leaking to the client, ids colliding with them, requests
// lost while the proxy reconnects. Each test kills the primary under a live session and checks
// what the client saw against I1 (one answer per request), I2 (nothing unsolicited) and I3
// (notifications under the client's subscription ids).

#include <gtest/gtest.h>

#include <set>

#include "support/ws_cluster.hpp"

namespace vixy::testing {
namespace {

using nlohmann::json;

TEST(WsReconnect, RequestsRightAfterAReconnectionAreAnsweredAndNothingStrayArrives) {
  WsCluster f;
  ASSERT_TRUE(f.open());
  ASSERT_EQ(f.ws.upstream_name("\"start\""), "el-primary");
  std::string sub = f.ws.subscribe("1", {"newHeads"});
  ASSERT_TRUE(is_proxy_subscription_id(sub)) << sub;
  ASSERT_TRUE(f.ws.notified_after(sub, 0));

  ASSERT_TRUE(f.kill("el-primary"));
  // Sent while the proxy is finding the backup: none may be lost, none answered twice.
  for (int id = 2; id <= 6; ++id) ASSERT_TRUE(f.ws.send(request_text(std::to_string(id), "eth_blockNumber")));
  ASSERT_TRUE(f.ws.pump_until(
      [&] {
        for (int id = 2; id <= 6; ++id)
          if (f.ws.answer_count(std::to_string(id)) == 0) return false;
        return true;
      },
      10s));
  EXPECT_EQ(f.ws.upstream_name("\"after\""), "el-backup");
  std::size_t mark = f.ws.notifications().size();
  EXPECT_TRUE(f.ws.notified_after(sub, mark)) << "notifications did not resume under " << sub;

  auto unsubscribed = f.ws.call("7", "eth_unsubscribe", {sub});
  ASSERT_TRUE(unsubscribed);
  EXPECT_EQ((*unsubscribed)["result"], true) << *unsubscribed;
  std::size_t after_unsubscribe = f.ws.notifications().size();
  EXPECT_EQ(f.ws.observe(kQuietWindow), 0u);

  EXPECT_EQ(f.ws.answer_count("1"), 1u) << "the replayed eth_subscribe's answer reached the client";
  for (int id = 2; id <= 7; ++id) {
    ASSERT_EQ(f.ws.answer_count(std::to_string(id)), 1u) << id;
    EXPECT_TRUE(f.ws.answers_with(std::to_string(id))[0]->body.contains("result")) << id;
  }
  EXPECT_TRUE(f.ws.results_of(sub, after_unsubscribe).empty()) << "notification after eth_unsubscribe";
  EXPECT_TRUE(f.ws.notified_only_under(sub));
}

TEST(WsReconnect, FiveSubscriptionsSurviveAReconnectionUnderTheirIds) {
  WsCluster f;
  ASSERT_TRUE(f.open());
  ASSERT_EQ(f.ws.upstream_name("\"start\""), "el-primary");
  const std::vector<json> kinds = {{"newHeads"}, {"newHeads"}, {"logs", json::object()},
                                   {"logs", json::object()}, {"newPendingTransactions"}};
  std::vector<std::string> subs;
  for (std::size_t i = 0; i < kinds.size(); ++i) subs.push_back(f.ws.subscribe(std::to_string(10 + i), kinds[i]));
  std::set<std::string> distinct(subs.begin(), subs.end());
  ASSERT_EQ(distinct.size(), subs.size());
  for (const auto& sub : subs) {
    ASSERT_TRUE(is_proxy_subscription_id(sub)) << sub;
    ASSERT_TRUE(f.ws.notified_after(sub, 0)) << sub;
  }

  ASSERT_TRUE(f.kill("el-primary"));
  // Everything the proxy sends after the backup's answer comes from the backup.
  ASSERT_EQ(f.ws.upstream_name(), "el-backup");
  std::size_t mark = f.ws.notifications().size();
  for (const auto& sub : subs) EXPECT_TRUE(f.ws.notified_after(sub, mark)) << "no notification under " << sub;

  EXPECT_EQ(f.ws.observe(kQuietWindow), 0u) << "an answer nobody asked for arrived";
  for (std::size_t i = 0; i < subs.size(); ++i) EXPECT_EQ(f.ws.answer_count(std::to_string(10 + i)), 1u) << i;
  for (const auto& n : f.ws.notifications()) {
    EXPECT_TRUE(distinct.count(subscription_of(n))) << "unknown subscription: " << n.text;
  }
}

TEST(WsReconnect, ARequestReusingTheSubscribeIdGetsOnlyItsOwnAnswer) {
  WsCluster f;
  ASSERT_TRUE(f.open());
  ASSERT_EQ(f.ws.upstream_name("\"start\""), "el-primary");
  std::string sub = f.ws.subscribe("7", {"newHeads"});
  ASSERT_TRUE(is_proxy_subscription_id(sub)) << sub;

  ASSERT_TRUE(f.kill("el-primary"));
  // At once, so that it races the proxy's re-subscription on the backup (which the incident's
  // proxy sent with this very id).
  ASSERT_TRUE(f.ws.send(request_text("7", "eth_chainId")));
  ASSERT_TRUE(f.ws.pump_until([&] { return f.ws.answer_count("7") >= 2; }, 10s));
  ASSERT_EQ(f.ws.upstream_name(), "el-backup");
  auto again = f.ws.call("7", "net_version");
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)["result"], "1") << *again;
  EXPECT_EQ(f.ws.observe(kQuietWindow), 0u);

  auto with_seven = f.ws.answers_with("7");
  ASSERT_EQ(with_seven.size(), 3u) << "subscribe, chainId, net_version: one answer each";
  EXPECT_EQ(with_seven[0]->body["result"], sub);
  EXPECT_EQ(with_seven[1]->body["result"], "0x1") << with_seven[1]->text;
  EXPECT_EQ(with_seven[2]->body["result"], "1");
}

TEST(WsReconnect, AThousandRequestsAfterAReconnectionAreAllAnsweredOnce) {
  WsCluster f;
  ASSERT_TRUE(f.open());
  ASSERT_EQ(f.ws.upstream_name("\"start\""), "el-primary");
  std::string sub = f.ws.subscribe("\"sub\"", {"newHeads"});
  ASSERT_TRUE(is_proxy_subscription_id(sub));

  ASSERT_TRUE(f.kill("el-primary"));
  constexpr int kRequests = 1000;
  for (int id = 1; id <= kRequests; ++id) ASSERT_TRUE(f.ws.send(request_text(std::to_string(id), "eth_chainId")));
  // + the subscribe and the first web3_clientVersion
  constexpr std::size_t kExpected = kRequests + 2;
  ASSERT_TRUE(f.ws.pump_until([&] { return f.ws.answers().size() >= kExpected; }, 30s))
      << f.ws.answers().size() - 2 << " of " << kRequests << " answered";
  EXPECT_EQ(f.ws.observe(kQuietWindow), 0u);
  EXPECT_EQ(f.ws.answers().size(), kExpected) << "duplicate or stray answers";
  for (int id = 1; id <= kRequests; ++id) {
    auto with = f.ws.answers_with(std::to_string(id));
    ASSERT_EQ(with.size(), 1u) << id;
    EXPECT_EQ(with[0]->body.value("result", json()), "0x1") << with[0]->text;
  }
}

}  // namespace
}  // namespace vixy::testing
