// [limits] against the real vixy: a client address past its rate gets 429 with Retry-After and
// -32005 per request over HTTP, -32005 per request over WebSocket (its session stays), and behind a
// trusted proxy each X-Forwarded-For client has its own budget.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "support/harness.hpp"
#include "support/ws_rpc.hpp"

namespace vixy::testing {
namespace {

using chaos::Cluster;
using chaos::ClusterOptions;
using nlohmann::json;
using std::chrono::seconds;

// One request per second, three at once: the tests send their requests within a fraction of that
// second, and count how long they took so that a slow machine cannot make them wrong.
std::unique_ptr<Cluster> limited_cluster(const std::string& more = "") {
  ClusterOptions options;
  options.el_backups = {};
  options.cl_nodes = {};
  options.extra_toml = "[limits]\nrequests_per_second = 1\nburst = 3\n" + more;
  return std::make_unique<Cluster>(binaries(), options);
}

chaos::HttpResult post_as(Cluster& cluster, const std::string& body, const std::string& forwarded_for = "") {
  chaos::HttpHeaders headers{{"Content-Type", "application/json"}};
  if (!forwarded_for.empty()) headers.emplace_back("X-Forwarded-For", forwarded_for);
  return chaos::http_request("127.0.0.1", cluster.proxy_port(), boost::beast::http::verb::post, "/el", body, headers);
}

TEST(ClientRateLimit, HttpRequestsPastTheBurstGet429WithRetryAfterAndAnErrorPerRequest) {
  auto cluster = limited_cluster();
  ASSERT_TRUE(wait_ready(*cluster)) << cluster->proxy().log();
  auto started = std::chrono::steady_clock::now();
  std::vector<chaos::HttpResult> results;
  for (int i = 0; i < 3; ++i) results.push_back(post_as(*cluster, rpc(i, "eth_blockNumber")));
  auto batch = post_as(*cluster, "[" + rpc("a", "eth_chainId") + "," + rpc("b", "eth_blockNumber") + "]");
  auto elapsed = std::chrono::steady_clock::now() - started;
  for (const auto& r : results) EXPECT_EQ(r.status, 200) << r.body;
  if (elapsed >= seconds(1)) GTEST_SKIP() << "the requests took over a second: a token came back meanwhile";
  ASSERT_EQ(batch.status, 429) << batch.body;
  ASSERT_TRUE(batch.headers.contains("retry-after"));
  EXPECT_GE(std::stoi(batch.headers.at("retry-after")), 1);
  auto answers = json::parse(batch.body);
  ASSERT_EQ(answers.size(), 2u) << batch.body;
  EXPECT_EQ(answers[0]["id"], "a");
  EXPECT_EQ(answers[1]["id"], "b");
  for (const auto& answer : answers) {
    EXPECT_EQ(answer["error"]["code"], -32005) << answer;
    EXPECT_NE(answer["error"]["message"].get<std::string>().find("1 requests per second (burst 3)"), std::string::npos);
  }
  EXPECT_EQ(proxy_metric(*cluster, R"(vixy_refused_total{reason="rate_limit"})"), 2);
  // /health and /ready are not rate limited: a load balancer's probes never see 429.
  EXPECT_EQ(cluster->proxy_get("/ready").status, 200);
}

// /cl spends the same budget as /el (one client, one rate), and a refusal there is a beacon API
// error with Retry-After.
TEST(ClientRateLimit, ClRequestsSpendTheSameBudgetAndGet429AsABeaconError) {
  ClusterOptions options;
  options.el_backups = {};
  options.extra_toml = "[limits]\nrequests_per_second = 1\nburst = 3\n";
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(wait_ready(cluster)) << cluster.proxy().log();
  ASSERT_TRUE(chaos::wait_until(
      [&] { return Cluster::find_node(cluster.status(), "cl-node").value("is_healthy", false); }, seconds(10)));
  auto started = std::chrono::steady_clock::now();
  auto el = post_as(cluster, rpc(1, "eth_blockNumber"));
  auto cl_first = cluster.proxy_get("/cl/eth/v1/node/version");
  auto cl_second = cluster.proxy_get("/cl/eth/v1/node/version");
  auto cl_refused = cluster.proxy_get("/cl/eth/v1/node/version");
  auto el_refused = post_as(cluster, rpc(2, "eth_blockNumber"));
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(el.status, 200) << el.body;
  EXPECT_EQ(cl_first.status, 200) << cl_first.body;
  EXPECT_EQ(cl_second.status, 200) << cl_second.body;
  if (elapsed >= seconds(1)) GTEST_SKIP() << "the requests took over a second: a token came back meanwhile";
  ASSERT_EQ(cl_refused.status, 429) << cl_refused.body;
  ASSERT_TRUE(cl_refused.headers.contains("retry-after"));
  EXPECT_GE(std::stoi(cl_refused.headers.at("retry-after")), 1);
  auto body = json::parse(cl_refused.body);
  EXPECT_EQ(body["code"], 429) << cl_refused.body;
  EXPECT_NE(body["message"].get<std::string>().find("1 requests per second (burst 3)"), std::string::npos);
  EXPECT_EQ(el_refused.status, 429) << el_refused.body;
  EXPECT_EQ(proxy_metric(cluster, R"(vixy_refused_total{reason="rate_limit"})"), 2);
}

TEST(ClientRateLimit, BehindATrustedProxyEachForwardedClientHasItsOwnBudget) {
  auto cluster = limited_cluster("trusted_proxies = [\"127.0.0.1\"]\n");
  ASSERT_TRUE(wait_ready(*cluster)) << cluster->proxy().log();
  auto started = std::chrono::steady_clock::now();
  std::vector<int> first, second;
  for (int i = 0; i < 4; ++i) first.push_back(post_as(*cluster, rpc(i, "eth_blockNumber"), "198.51.100.1").status);
  for (int i = 0; i < 3; ++i) {
    second.push_back(post_as(*cluster, rpc(i, "eth_blockNumber"), "1.1.1.1, 198.51.100.2").status);
  }
  if (std::chrono::steady_clock::now() - started >= seconds(1)) GTEST_SKIP() << "took over a second";
  EXPECT_EQ(first, (std::vector<int>{200, 200, 200, 429}));
  EXPECT_EQ(second, (std::vector<int>{200, 200, 200})) << "the second client was counted with the first";
}

TEST(ClientRateLimit, WebSocketMessagesPastTheBurstAreAnsweredWithErrorsAndTheSessionStays) {
  auto cluster = limited_cluster();
  ASSERT_TRUE(wait_ready(*cluster)) << cluster->proxy().log();
  RpcWs ws;
  ASSERT_TRUE(ws.connect(cluster->proxy_port()));
  auto started = std::chrono::steady_clock::now();
  std::vector<json> answers;
  for (int i = 0; i < 5; ++i) {
    auto answer = ws.call(std::to_string(i), "eth_blockNumber");
    ASSERT_TRUE(answer) << i;
    answers.push_back(*answer);
  }
  if (std::chrono::steady_clock::now() - started >= seconds(1)) GTEST_SKIP() << "took over a second";
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(answers[i].contains("result")) << answers[i];
  for (int i = 3; i < 5; ++i) EXPECT_EQ(answers[i]["error"]["code"], -32005) << answers[i];
  EXPECT_EQ(proxy_metric(*cluster, R"(vixy_refused_total{reason="rate_limit"})"), 2);
  // A second later the session serves again.
  ASSERT_TRUE(chaos::wait_until(
      [&] {
        auto again = ws.call("\"later\"", "eth_blockNumber");
        return again && again->contains("result");
      },
      seconds(5)));
}

}  // namespace
}  // namespace vixy::testing
