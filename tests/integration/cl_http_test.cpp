// ANY /cl/* against the real vixy binary and a fake beacon node: forwarding, streaming, syncing.
#include <gtest/gtest.h>

#include "support/harness.hpp"

namespace vixy::testing {
namespace {

using chaos::Cluster;
using chaos::ClusterOptions;
using nlohmann::json;
using std::chrono::seconds;

bool cl_healthy(Cluster& cluster) {
  auto node = node_status(cluster, "cl-node");
  return node.is_object() && node.value("is_healthy", false);
}

TEST(ClHttp, ForwardsMethodPathQueryHeadersAndBody) {
  Cluster cluster(binaries(), {});
  ASSERT_TRUE(chaos::wait_until([&] { return cl_healthy(cluster); }, seconds(10)));
  auto r = chaos::http_request("127.0.0.1", cluster.proxy_port(), boost::beast::http::verb::put,
                               "/cl/vixy-test/echo?topics=head&x=1", "payload-bytes",
                               {{"X-Test-Header", "yes"}, {"Content-Type", "text/plain"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto echo = parse_body(r);
  EXPECT_EQ(echo["method"], "PUT");
  EXPECT_EQ(echo["target"], "/vixy-test/echo?topics=head&x=1");
  EXPECT_EQ(echo["headers"]["x-test-header"], "yes");
  EXPECT_EQ(echo["body"], "payload-bytes");

  auto head = cluster.proxy_get("/cl/eth/v1/beacon/headers/head");
  ASSERT_EQ(head.status, 200);
  EXPECT_TRUE(parse_body(head)["data"]["header"]["message"]["slot"].is_string()) << head.body;
  auto missing = cluster.proxy_get("/cl/eth/v1/no/such/route");
  EXPECT_EQ(missing.status, 404);  // the node's answer, passed through
}

TEST(ClHttp, StreamsServerSentEventsEventByEvent) {
  ClusterOptions options;
  options.block_time_ms = 100;
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(chaos::wait_until([&] { return cl_healthy(cluster); }, seconds(10)));
  chaos::SseReader reader;
  ASSERT_FALSE(reader.open("127.0.0.1", cluster.proxy_port(), "/cl/eth/v1/events?topics=head", seconds(5)));
  std::vector<std::uint64_t> slots;
  for (int i = 0; i < 3; ++i) {
    auto event = reader.next(seconds(5));
    ASSERT_TRUE(event.has_value()) << "event " << i << " did not arrive";
    EXPECT_EQ(event->event, "head");
    slots.push_back(std::stoull(json::parse(event->data)["slot"].get<std::string>()));
  }
  EXPECT_LT(slots[0], slots[1]);
  EXPECT_LT(slots[1], slots[2]);
}

TEST(ClHttp, SyncingNodeIsNotHealthy) {
  Cluster cluster(binaries(), {});
  ASSERT_TRUE(chaos::wait_until([&] { return cl_healthy(cluster); }, seconds(10)));
  ASSERT_EQ(cluster.admin("cl-node", "/syncing", R"({"syncing":true})").status, 200);
  ASSERT_TRUE(cluster.wait_for_status(
      [](const json& s) {
        auto n = Cluster::find_node(s, "cl-node");
        return n.value("check_result", "") == "syncing" && !n.value("is_healthy", true);
      },
      seconds(10)));
  auto r = cluster.proxy_get("/cl/eth/v1/node/version");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(parse_body(r)["code"], 503);
  ASSERT_EQ(cluster.admin("cl-node", "/syncing", R"({"syncing":false})").status, 200);
  EXPECT_TRUE(chaos::wait_until([&] { return cl_healthy(cluster); }, seconds(10)));
}

TEST(ClHttp, FailsOverToTheNextBeaconNode) {
  ClusterOptions options;
  options.cl_nodes = {"cl-a", "cl-b"};
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(cluster.wait_for_status(
      [](const json& s) {
        return Cluster::find_node(s, "cl-a").value("is_healthy", false) &&
               Cluster::find_node(s, "cl-b").value("is_healthy", false);
      },
      seconds(10)));
  auto version = [&] { return parse_body(cluster.proxy_get("/cl/eth/v1/node/version"))["data"]["version"]; };
  EXPECT_TRUE(version().get<std::string>().ends_with("/cl-a"));
  ASSERT_EQ(cluster.admin("cl-a", "/kill").status, 200);
  // Retried on cl-b at once, before the monitor even notices.
  EXPECT_TRUE(version().get<std::string>().ends_with("/cl-b"));
}

}  // namespace
}  // namespace vixy::testing
