// POST /el against the real vixy binary and fake nodes: forwarding, retries, 503/504, bad input.
#include <gtest/gtest.h>

#include "support/harness.hpp"

namespace vixy::testing {
namespace {

using chaos::Cluster;
using chaos::ClusterOptions;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ElHttp, ForwardsSingleRequestAndKeepsTheClientsId) {
  Cluster cluster(binaries(), {});
  ASSERT_TRUE(wait_ready(cluster)) << cluster.proxy().log();

  auto r = cluster.proxy_post("/el", rpc("client-id-7", "eth_blockNumber"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = parse_body(r);
  EXPECT_EQ(body["id"], "client-id-7");
  ASSERT_TRUE(body["result"].is_string()) << r.body;
  EXPECT_TRUE(body["result"].get<std::string>().starts_with("0x"));
  EXPECT_EQ(answering_node(cluster), "el-primary");
}

TEST(ElHttp, ForwardsBatches) {
  Cluster cluster(binaries(), {});
  ASSERT_TRUE(wait_ready(cluster));
  std::string batch = "[" + rpc(1, "eth_chainId") + "," + rpc("two", "net_version") + "," +
                      rpc(3, "no_such_method") + "]";
  auto r = cluster.proxy_post("/el", batch);
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = parse_body(r);
  ASSERT_TRUE(body.is_array()) << r.body;
  ASSERT_EQ(body.size(), 3u);
  std::map<std::string, json> by_id;
  for (const auto& answer : body) by_id[answer["id"].dump()] = answer;
  EXPECT_TRUE(by_id["1"].contains("result"));
  EXPECT_TRUE(by_id["\"two\""].contains("result"));
  EXPECT_EQ(by_id["3"]["error"]["code"], -32601);
}

TEST(ElHttp, Answers503WithJsonRpcErrorsWhenNoNodeIsHealthy) {
  Cluster cluster(binaries(), {});
  ASSERT_TRUE(wait_ready(cluster));
  ASSERT_EQ(cluster.admin("el-primary", "/kill").status, 200);
  ASSERT_EQ(cluster.admin("el-backup", "/kill").status, 200);
  ASSERT_TRUE(chaos::wait_until([&] { return cluster.proxy_get("/ready").status == 503; }, seconds(10)));

  auto single = cluster.proxy_post("/el", rpc(41, "eth_blockNumber"));
  EXPECT_EQ(single.status, 503);
  auto body = parse_body(single);
  EXPECT_EQ(body["id"], 41);
  EXPECT_EQ(body["error"]["code"], -32000);

  auto batch = cluster.proxy_post("/el", "[" + rpc(1, "eth_chainId") + "," + rpc(2, "eth_chainId") + "]");
  EXPECT_EQ(batch.status, 503);
  auto answers = parse_body(batch);
  ASSERT_TRUE(answers.is_array()) << batch.body;
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0]["id"], 1);
  EXPECT_EQ(answers[1]["id"], 2);
}

TEST(ElHttp, RetriesOnTheNextNodeWhenTheFirstRefusesConnections) {
  ClusterOptions options;
  // The monitor must not notice the kill before the request does: the retry is what is tested.
  options.global_toml = "health_check_max_failures = 100000\n";
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(wait_ready(cluster));
  ASSERT_TRUE(cluster.wait_for_status(
      [](const json& s) { return Cluster::find_node(s, "el-backup").value("is_healthy", false); }, seconds(10)));
  ASSERT_EQ(cluster.admin("el-primary", "/kill").status, 200);

  EXPECT_EQ(answering_node(cluster), "el-backup");
  // Counted once the relay has ended, which is after the client has its answer (the scrape can
  // come first, on another connection and thread): waited for, not read at once.
  std::string metrics;
  EXPECT_TRUE(chaos::wait_until(
      [&] {
        metrics = cluster.proxy_get("/metrics").body;
        return metrics.find("vixy_el_upstream_errors_total{node=\"el-primary\",tier=\"primary\"} 1") !=
               std::string::npos;
      },
      seconds(5)))
      << metrics;
}

TEST(ElHttp, Answers504WhenTheNodeIsTooSlow) {
  ClusterOptions options;
  options.el_backups = {};
  options.global_toml = "proxy_timeout_ms = 300\n";
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(wait_ready(cluster));
  ASSERT_EQ(cluster.admin("el-primary", "/method", R"({"method":"eth_getBalance","delay_ms":3000})").status, 200);

  auto r = cluster.proxy_post("/el", rpc("slow", "eth_getBalance", {"0x00000000000000000000000000000000000000aa", "latest"}));
  EXPECT_EQ(r.status, 504) << r.body;
  auto body = parse_body(r);
  EXPECT_EQ(body["id"], "slow");
  EXPECT_EQ(body["error"]["code"], -32000);

  // A batch gets one error per request with an id, from the body kept through the relay.
  std::string balance = rpc(1, "eth_getBalance", {"0x00000000000000000000000000000000000000aa", "latest"});
  std::string batch = "[" + balance + "," + R"({"jsonrpc":"2.0","method":"eth_chainId"})" + "," +
                      rpc("two", "eth_chainId") + "]";
  auto answers = cluster.proxy_post("/el", batch);
  EXPECT_EQ(answers.status, 504) << answers.body;
  auto list = parse_body(answers);
  ASSERT_TRUE(list.is_array()) << answers.body;
  ASSERT_EQ(list.size(), 2u) << answers.body;  // the notification gets none
  EXPECT_EQ(list[0]["id"], 1);
  EXPECT_EQ(list[1]["id"], "two");
  EXPECT_EQ(list[1]["error"]["code"], -32000);
}

TEST(ElHttp, CredentialsInUpstreamUrlsReachTheNodeButNeverStatus) {
  ClusterOptions options;
  options.el_url_path = "/v3/0123456789abcdef0123456789abcdef";
  options.el_userinfo = "alice:s3cretpass";
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(wait_ready(cluster));
  EXPECT_EQ(answering_node(cluster), "el-primary");
  auto status = cluster.proxy_get("/status").body;
  EXPECT_EQ(status.find("s3cretpass"), std::string::npos) << status;
  EXPECT_EQ(status.find("0123456789abcdef0123456789abcdef"), std::string::npos) << status;
  EXPECT_EQ(cluster.proxy().log().find("s3cretpass"), std::string::npos);
}

TEST(ElHttp, BadInputGetsClearAnswersWithoutBotheringANode) {
  ClusterOptions options;
  options.global_toml = "max_body_size = 1024\n";
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(wait_ready(cluster));
  auto before = cluster.admin("el-primary", "/state");

  auto malformed = cluster.proxy_post("/el", "{\"jsonrpc\":\"2.0\",");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(parse_body(malformed)["error"]["code"], -32700);

  // Refused as the parser refuses them, though the proxy only scans the text: broken UTF-8, and a
  // NUL byte after the request (nlohmann would stop reading there and forward the rest).
  auto bad_utf8 = cluster.proxy_post("/el", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_\xff\"}");
  EXPECT_EQ(bad_utf8.status, 400);
  EXPECT_EQ(parse_body(bad_utf8)["error"]["code"], -32700);
  std::string trailing_nul = rpc(2, "eth_chainId") + std::string(1, '\0') + "garbage";
  EXPECT_EQ(cluster.proxy_post("/el", trailing_nul).status, 400);

  auto empty_batch = cluster.proxy_post("/el", "[]");
  EXPECT_EQ(empty_batch.status, 400);
  EXPECT_EQ(parse_body(empty_batch)["error"]["code"], -32600);

  auto scalar = cluster.proxy_post("/el", "42");
  EXPECT_EQ(scalar.status, 400);
  EXPECT_EQ(parse_body(scalar)["error"]["code"], -32600);

  auto oversized = cluster.proxy_post("/el", rpc(1, "eth_call", {std::string(4096, 'a')}));
  EXPECT_EQ(oversized.status, 413);
  EXPECT_TRUE(parse_body(oversized).contains("error")) << oversized.body;

  auto wrong_method = cluster.proxy_get("/el");
  EXPECT_EQ(wrong_method.status, 405);
  auto unknown = cluster.proxy_get("/nope");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(cluster.proxy_post("/health", "{}").status, 405);

  // The process is still serving everyone else.
  auto ok = cluster.proxy_post("/el", rpc(9, "eth_chainId"));
  EXPECT_EQ(ok.status, 200);
  auto metrics = cluster.proxy_get("/metrics").body;
  EXPECT_NE(metrics.find("vixy_proxy_errors_total{endpoint=\"el\",reason=\"parse_error\"} 3"), std::string::npos)
      << metrics;
}

}  // namespace
}  // namespace vixy::testing
