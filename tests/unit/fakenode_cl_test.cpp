// The fake CL (beacon) node: health, syncing, version, head header, the event stream and echo.

#include <gtest/gtest.h>

#include <regex>

#include "fakenode_fixture.hpp"

namespace vixy::testing {
namespace {

using fakenodes::NodeKind;
namespace http = boost::beast::http;
constexpr std::uint64_t kFastSlots = 50;

chaos::HttpResult cl_get(const RunningNode& node, const std::string& target) {
  return chaos::get("127.0.0.1", node.rpc_port(), target);
}

std::uint64_t head_slot(const RunningNode& node) {
  auto result = cl_get(node, "/eth/v1/beacon/headers/head");
  json body = json::parse(result.body);
  return std::stoull(body["data"]["header"]["message"]["slot"].get<std::string>());
}

TEST(FakeCl, HealthFollowsSyncingAndHealthy) {
  RunningNode node(NodeKind::cl);
  auto health = cl_get(node, "/eth/v1/node/health");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health.status, 200);
  EXPECT_TRUE(health.body.empty());

  node.admin("/syncing", {{"syncing", true}});
  EXPECT_EQ(cl_get(node, "/eth/v1/node/health").status, 206);
  json syncing = json::parse(cl_get(node, "/eth/v1/node/syncing").body)["data"];
  EXPECT_EQ(syncing["is_syncing"], true);
  EXPECT_NE(syncing["sync_distance"], "0");

  node.admin("/healthy", {{"healthy", false}});
  EXPECT_EQ(cl_get(node, "/eth/v1/node/health").status, 503);

  node.admin("/healthy", {{"healthy", true}});
  node.admin("/syncing", {{"syncing", false}});
  EXPECT_EQ(cl_get(node, "/eth/v1/node/health").status, 200);
}

TEST(FakeCl, SyncingAndVersionDocuments) {
  RunningNode node(NodeKind::cl, 7, 1000, "beacon-a");
  json syncing = json::parse(cl_get(node, "/eth/v1/node/syncing").body)["data"];
  EXPECT_EQ(syncing["is_syncing"], false);
  EXPECT_EQ(syncing["sync_distance"], "0");
  EXPECT_EQ(syncing["is_optimistic"], false);
  EXPECT_EQ(syncing["el_offline"], false);
  std::uint64_t slot = std::stoull(syncing["head_slot"].get<std::string>());
  EXPECT_GE(slot + 1, expected_height(1000));

  json version = json::parse(cl_get(node, "/eth/v1/node/version").body);
  EXPECT_EQ(version["data"]["version"], std::string("vixy-fakenode/") + VIXY_VERSION + "/beacon-a");
}

TEST(FakeCl, HeadHeaderFollowsTheClockAndLag) {
  RunningNode node(NodeKind::cl, 7, 60'000);
  std::uint64_t before = expected_height(60'000);
  auto result = cl_get(node, "/eth/v1/beacon/headers/head");
  std::uint64_t after = expected_height(60'000);
  ASSERT_EQ(result.status, 200);
  json body = json::parse(result.body);
  EXPECT_EQ(body["execution_optimistic"], false);
  EXPECT_EQ(body["data"]["canonical"], true);
  EXPECT_TRUE(std::regex_match(body["data"]["root"].get<std::string>(), std::regex("0x[0-9a-f]{64}")));
  EXPECT_TRUE(std::regex_match(body["data"]["header"]["signature"].get<std::string>(),
                               std::regex("0x[0-9a-f]{192}")));
  std::uint64_t slot = std::stoull(body["data"]["header"]["message"]["slot"].get<std::string>());
  EXPECT_GE(slot, before);
  EXPECT_LE(slot, after);

  node.admin("/lag", {{"blocks", 3}});
  std::uint64_t lagged = head_slot(node);
  EXPECT_TRUE(lagged + 3 == slot || lagged + 2 == slot) << lagged << " vs " << slot;
}

TEST(FakeCl, SameSeedSameRoots) {
  RunningNode a(NodeKind::cl, 5, 3'600'000);  // hour-long slots: both nodes see the same one
  RunningNode b(NodeKind::cl, 5, 3'600'000);
  RunningNode c(NodeKind::cl, 6, 3'600'000);
  json ha = json::parse(cl_get(a, "/eth/v1/beacon/headers/head").body)["data"];
  json hb = json::parse(cl_get(b, "/eth/v1/beacon/headers/head").body)["data"];
  json hc = json::parse(cl_get(c, "/eth/v1/beacon/headers/head").body)["data"];
  if (ha["header"]["message"]["slot"] != hb["header"]["message"]["slot"])
    GTEST_SKIP() << "crossed a slot boundary";
  EXPECT_EQ(ha, hb);
  EXPECT_NE(ha["root"], hc["root"]);
}

TEST(FakeCl, EventStreamDeliversHeads) {
  RunningNode node(NodeKind::cl, 7, kFastSlots);
  chaos::SseReader reader;
  ASSERT_FALSE(reader.open("127.0.0.1", node.rpc_port(), "/eth/v1/events?topics=head"));
  EXPECT_EQ(reader.status(), 200);
  EXPECT_EQ(reader.content_type(), "text/event-stream");

  auto first = reader.next(3s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->event, "head");
  json data = json::parse(first->data);
  for (const char* key : {"slot", "block", "state", "epoch_transition", "previous_duty_dependent_root",
                          "current_duty_dependent_root", "execution_optimistic"}) {
    EXPECT_TRUE(data.contains(key)) << key;
  }
  auto second = reader.next(3s);
  ASSERT_TRUE(second);
  EXPECT_EQ(std::stoull(json::parse(second->data)["slot"].get<std::string>()),
            std::stoull(data["slot"].get<std::string>()) + 1);
  EXPECT_EQ(node.state()["subscriptions"], 1);

  node.admin("/drop-subscriptions");
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!reader.closed() && std::chrono::steady_clock::now() < deadline) reader.next(100ms);
  EXPECT_TRUE(reader.closed()) << "dropping subscriptions ends the stream";
}

TEST(FakeCl, EventStreamNeedsKnownTopics) {
  RunningNode node(NodeKind::cl);
  auto missing = cl_get(node, "/eth/v1/events");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(json::parse(missing.body)["code"], 400);
  EXPECT_EQ(cl_get(node, "/eth/v1/events?topics=head,bogus").status, 400);
}

TEST(FakeCl, EchoReflectsTheRequest) {
  RunningNode node(NodeKind::cl);
  auto result =
      chaos::http_request("127.0.0.1", node.rpc_port(), http::verb::put, "/vixy-test/echo?a=1&b=two",
                          "hello body", {{"X-Custom", "Value 1"}, {"Content-Type", "text/plain"}});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.status, 200);
  json echo = json::parse(result.body);
  EXPECT_EQ(echo["method"], "PUT");
  EXPECT_EQ(echo["target"], "/vixy-test/echo?a=1&b=two");
  EXPECT_EQ(echo["headers"]["x-custom"], "Value 1");
  EXPECT_EQ(echo["headers"]["content-type"], "text/plain");
  EXPECT_EQ(echo["body"], "hello body");
}

TEST(FakeCl, UnknownPathsAndOverrides) {
  RunningNode node(NodeKind::cl);
  auto missing = cl_get(node, "/eth/v2/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["code"], 404);

  node.admin("/method", {{"method", "/eth/v1/node/version"}, {"error", {{"status", 500}}}});
  auto injected = cl_get(node, "/eth/v1/node/version");
  EXPECT_EQ(injected.status, 500);
  EXPECT_EQ(json::parse(injected.body)["code"], 500);
  EXPECT_EQ(cl_get(node, "/eth/v1/node/health").status, 200);

  EXPECT_EQ(node.admin_raw("/method", R"({"method":"/eth/v1/node/health","error":{"code":-32000}})").status,
            400)
      << "a CL error is an HTTP status";
}

TEST(FakeCl, KillAndSilence) {
  RunningNode node(NodeKind::cl);
  node.admin("/silent", {{"silent", true}});
  EXPECT_EQ(chaos::get("127.0.0.1", node.rpc_port(), "/eth/v1/node/health", 300ms).ec,
            boost::asio::error::timed_out);
  node.admin("/silent", {{"silent", false}});
  node.admin("/kill");
  EXPECT_EQ(chaos::get("127.0.0.1", node.rpc_port(), "/eth/v1/node/health", 1s).ec,
            boost::asio::error::connection_refused);
  node.admin("/restart");
  EXPECT_EQ(cl_get(node, "/eth/v1/node/health").status, 200);
}

}  // namespace
}  // namespace vixy::testing
