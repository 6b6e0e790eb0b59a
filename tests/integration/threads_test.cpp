// vixy on several threads (issue 14): one shard per thread, each with its own listener on the port,
// upstream connections and WebSocket sessions; the health monitor's snapshots posted to every shard;
// metrics and connection caps counted for the process. scripts/test.sh also runs these tests against
// the ThreadSanitizer build of vixy (VIXY_TEST_PROXY_BIN), where a data race makes vixy's exit status
// non-zero, which fails the test (proxy_exit_check.cpp).

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "chaos/http_client.hpp"
#include "support/harness.hpp"
#include "support/ws_cluster.hpp"

namespace vixy::testing {
namespace {

using chaos::ClusterOptions;
using nlohmann::json;
using std::chrono::milliseconds;

constexpr int kProxyThreads = 4;
constexpr int kClients = 8;
constexpr int kRounds = 20;
constexpr int kCallsPerSession = 5;

ClusterOptions threaded(int threads) {
  ClusterOptions options;
  options.extra_toml = "[server]\nthreads = " + std::to_string(threads) + "\n";
  return options;
}

// Sessions opened and closed from many clients at once (so on every thread), HTTP requests and
// metric scrapes beside them, while the primary dies and comes back so that health snapshots are
// published to every thread mid-traffic. Every request gets its one answer.
TEST(Threads, ClientsOnEveryThreadAreAnsweredWhileHealthFlipsAndMetricsAreScraped) {
  WsCluster c(threaded(kProxyThreads));
  ASSERT_TRUE(c.open());
  const std::uint16_t port = c.cluster.proxy_port();

  std::atomic<bool> stop{false};
  std::atomic<int> flips{0};
  std::thread flipper([&] {
    while (!stop) {
      if (!c.kill("el-primary") || !c.wait_unhealthy("el-primary", std::chrono::seconds(10))) break;
      if (!c.restart("el-primary")) break;
      ++flips;
      chaos::wait_until([&] { return stop.load(); }, milliseconds(300));
    }
  });
  std::atomic<int> scrapes{0}, bad_scrapes{0};
  std::thread scraper([&] {
    while (!stop) {
      auto metrics = chaos::get("127.0.0.1", port, "/metrics");
      ++(metrics.status == 200 && metrics.body.find("vixy_ws_connections_active") != std::string::npos ? scrapes
                                                                                                         : bad_scrapes);
    }
  });

  std::atomic<int> sent{0}, answered{0}, http_ok{0}, http_bad{0}, failed_connects{0};
  std::vector<std::thread> clients;
  for (int client = 0; client < kClients; ++client) {
    clients.emplace_back([&, client] {
      for (int round = 0; round < kRounds; ++round) {
        RpcWs ws;
        if (!ws.connect(port)) {
          ++failed_connects;
          continue;
        }
        ws.subscribe("\"sub\"", json::array({"newHeads"}));
        for (int call = 0; call < kCallsPerSession; ++call) {
          ++sent;
          std::string id = std::to_string(client * 1000 + round * 10 + call);
          if (auto answer = ws.call(id, "eth_blockNumber"); answer && (answer->contains("result") || answer->contains("error"))) {
            ++answered;
          }
        }
        auto http = chaos::post_json("127.0.0.1", port, "/el", rpc(client, "eth_chainId"));
        ++(http.status == 200 ? http_ok : http_bad);
      }
    });
  }
  for (auto& client : clients) client.join();
  stop = true;
  flipper.join();
  scraper.join();

  EXPECT_EQ(failed_connects.load(), 0);
  EXPECT_EQ(answered.load(), sent.load());
  EXPECT_EQ(http_ok.load(), kClients * kRounds) << http_bad.load() << " HTTP requests failed";
  EXPECT_EQ(bad_scrapes.load(), 0);
  EXPECT_GT(scrapes.load(), 0);
  EXPECT_GT(flips.load(), 0) << "the primary never died during the traffic";
  // The gauges every thread adds its share to come back to what is still open: the first client's
  // session and, for the connections, that session and the scrape that reads them.
  EXPECT_TRUE(chaos::wait_until([&] { return c.metric("vixy_ws_connections_active") == 1; }, std::chrono::seconds(10)))
      << c.metric("vixy_ws_connections_active");
  EXPECT_TRUE(chaos::wait_until([&] { return c.metric("vixy_connections_active") == 2; }, std::chrono::seconds(10)))
      << c.metric("vixy_connections_active");
  EXPECT_TRUE(chaos::wait_until([&] { return c.metric("vixy_ws_buffered_bytes") == 0; }, std::chrono::seconds(10)));
}

// The per-IP cap holds for the process, not per thread: with four threads and a cap of 3, the
// fourth connection from 127.0.0.1 is refused whichever thread's listener the kernel gave it to.
TEST(Threads, ThePerAddressCapHoldsAcrossThreads) {
  ClusterOptions options;
  options.extra_toml = "[server]\nthreads = 4\nmax_connections_per_ip = 3\n";
  WsCluster c(options);
  ASSERT_TRUE(c.open());  // one connection: c.ws
  {
    RpcWs second, third, fourth;
    ASSERT_TRUE(c.connect(second));
    ASSERT_TRUE(c.connect(third));
    EXPECT_FALSE(c.connect(fourth));
  }
  // The scrape is a connection from the same address: it waits for the two to be closed.
  EXPECT_TRUE(chaos::wait_until([&] { return c.metric("vixy_connections_refused_total{reason=\"per_ip\"}") >= 1; },
                                std::chrono::seconds(5)));
}

// [limits] holds for the process: clients on every thread (each request on a fresh connection,
// so the kernel spreads them over the listeners) share one address's bucket, which the threads
// update at once without a lock. Under ThreadSanitizer a race in it fails vixy's exit.
TEST(Threads, ARateLimitHoldsForAnAddressAcrossThreads) {
  ClusterOptions options = threaded(kProxyThreads);
  options.el_backups = {};
  options.cl_nodes = {};
  options.extra_toml += "[limits]\nrequests_per_second = 20\nburst = 10\n";
  WsCluster c(options);
  ASSERT_TRUE(c.open());
  std::atomic<int> answered{0}, limited{0}, other{0};
  auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      for (int k = 0; k < 10; ++k) {
        auto r = c.cluster.proxy_post("/el", rpc(i * 100 + k, "eth_blockNumber"));
        (r.status == 200 ? answered : r.status == 429 ? limited : other)++;
      }
    });
  }
  for (auto& client : clients) client.join();
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(other, 0);
  EXPECT_EQ(answered + limited, kClients * 10);
  // The bucket's bound: the burst plus the rate over the time taken (one token of slack for the
  // clock reads around it).
  EXPECT_LE(answered, static_cast<int>(10 + 20 * elapsed) + 1) << elapsed << " s";
  EXPECT_GE(answered, 10) << "the burst was not served";
  EXPECT_GT(limited, 0);
}

}  // namespace
}  // namespace vixy::testing
