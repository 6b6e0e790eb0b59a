// The WebSocket test clients themselves, checked against a fake EL node directly (no proxy): if
// they misread what arrives, every GET /el/ws test built on them says nothing.

#include <gtest/gtest.h>

#include "support/harness.hpp"
#include "support/ws_fleet.hpp"
#include "support/ws_rpc.hpp"

namespace vixy::testing {
namespace {

using chaos::Cluster;
using chaos::ClusterOptions;
using nlohmann::json;

ClusterOptions one_el_node() {
  ClusterOptions options;
  options.el_primaries = {"el"};
  options.el_backups = {};
  options.cl_nodes = {};
  options.block_time_ms = 100;
  options.start_proxy = false;
  return options;
}

TEST(WsSupport, RawIdIsTheIdAsWritten) {
  EXPECT_EQ(raw_id(R"({"jsonrpc":"2.0","id":1.50,"result":1})"), "1.50");
  EXPECT_EQ(raw_id(R"( { "result" : {"id":2,"x":[1,"]"]} , "id" : "a\"}b" } )"), R"("a\"}b")");
  EXPECT_EQ(raw_id(R"({"id":null})"), "null");
  EXPECT_EQ(raw_id(R"({"id":123456789012345678901234567890})"), "123456789012345678901234567890");
  EXPECT_EQ(raw_id(R"({"method":"eth_subscription","params":{"id":3}})"), std::nullopt);
  EXPECT_EQ(raw_id(R"([{"id":1}])"), std::nullopt);
  EXPECT_EQ(raw_id(R"({"id":)"), std::nullopt);
  EXPECT_EQ(request_text(R"("x")", "m"), R"({"jsonrpc":"2.0","id":"x","method":"m","params":[]})");
}

TEST(WsSupport, RpcWsSeparatesAnswersFromNotifications) {
  Cluster cluster(binaries(), one_el_node());
  RpcWs ws;
  ASSERT_TRUE(ws.connect(cluster.node("el").rpc_port, "/"));
  EXPECT_EQ(ws.upstream_name(), "el");
  std::string sub = ws.subscribe("\"s\"", {"newHeads"});
  EXPECT_TRUE(is_proxy_subscription_id(sub)) << sub;  // the fake node mints ids of the same shape
  ASSERT_TRUE(ws.pump_until([&] { return ws.results_of(sub).size() >= 2; }, 5s));
  EXPECT_TRUE(ws.results_of("0x00", 0).empty());
  auto answer = ws.call("-0.5", "eth_chainId");
  ASSERT_TRUE(answer);
  EXPECT_EQ((*answer)["result"], "0x1");
  EXPECT_EQ(ws.answer_count("\"s\""), 1u);
  EXPECT_EQ(ws.answer_count("\"whoami\""), 1u);
  EXPECT_TRUE(ws.notified_only_under(sub));
  // The I1 and I3 checks the GET /el/ws tests use can fail.
  EXPECT_FALSE(ws.notified_only_under("0x00"));
  EXPECT_TRUE(ws.answered_once({"\"s\"", "\"whoami\""}));
  EXPECT_FALSE(ws.answered_once({"\"s\"", "\"never sent\""}));

  auto unsubscribed = ws.call("9", "eth_unsubscribe", {sub});
  ASSERT_TRUE(unsubscribed);
  EXPECT_EQ((*unsubscribed)["result"], true);
  EXPECT_EQ(ws.observe(300ms), 0u);
  ASSERT_TRUE(ws.send("nonsense"));
  ASSERT_TRUE(ws.pump_until([&] { return ws.answer_count("null") == 1; }, 5s));
}

TEST(WsSupport, WsFleetCarriesManySessions) {
  Cluster cluster(binaries(), one_el_node());
  constexpr std::size_t kClients = 50;
  WsFleet fleet(kClients);
  ASSERT_EQ(fleet.connect_all(cluster.node("el").rpc_port, "/", 10s), kClients);
  for (std::size_t i = 0; i < kClients; ++i) {
    fleet.send(i, request_text(std::to_string(i), "eth_subscribe", {"newHeads"}));
    fleet.send(i, request_text("\"x\"", "eth_chainId"));
  }
  auto x_answers = [&](std::size_t i) {
    std::size_t n = 0;
    for (const auto& text : fleet.received(i)) n += raw_id(text) == "\"x\"" ? 1 : 0;
    return n;
  };
  auto all_answered_and_notified = [&] {
    for (std::size_t i = 0; i < kClients; ++i)
      if (x_answers(i) == 0 || fleet.received(i).size() < 3) return false;
    return true;
  };
  ASSERT_TRUE(fleet.run_until(all_answered_and_notified, 10s));
  for (std::size_t i = 0; i < kClients; ++i) {
    EXPECT_EQ(raw_id(fleet.received(i)[0]), std::to_string(i));
    EXPECT_EQ(x_answers(i), 1u);
  }
  EXPECT_EQ(fleet.closed_count(), 0u);
  ASSERT_EQ(cluster.admin("el", "/close-connections").status, 200);
  EXPECT_TRUE(fleet.run_until([&] { return fleet.closed_count() == kClients; }, 5s));
}

}  // namespace
}  // namespace vixy::testing
