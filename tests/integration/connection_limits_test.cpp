// The real vixy under a small descriptor limit, flooded with idle connections: it keeps answering
// /health and POST /el, stays alive, and does not write a log line per failed accept.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "support/harness.hpp"
#include "unit/echo_fixture.hpp"

namespace vixy::testing {
namespace {

using chaos::Cluster;
using chaos::ClusterOptions;
using std::chrono::seconds;

constexpr std::uint64_t kDescriptorLimit = 256;

// Connections that never send a byte; the kernel completes them from the listen backlog whether
// or not vixy accepts them. Closed when the vector goes.
std::vector<std::unique_ptr<RawClient>> open_idle(std::uint16_t port, std::size_t n) {
  std::vector<std::unique_ptr<RawClient>> idle;
  for (std::size_t i = 0; i < n; ++i) {
    auto client = std::make_unique<RawClient>();
    if (client->connect(port)) break;
    idle.push_back(std::move(client));
  }
  return idle;
}

void expect_still_serving(Cluster& cluster) {
  auto health = cluster.proxy_get("/health", seconds(10));
  EXPECT_EQ(health.status, 200) << health.ec.message();
  auto el = cluster.proxy_post("/el", rpc(1, "eth_blockNumber"), seconds(10));
  EXPECT_EQ(el.status, 200) << el.ec.message() << " " << el.body;
  EXPECT_TRUE(cluster.proxy().running());
}

TEST(ConnectionLimits, IdleConnectionsBeyondTheDerivedCapLeaveHealthAndElAnswered) {
  ClusterOptions options;
  options.proxy_descriptor_limit = kDescriptorLimit;
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(wait_ready(cluster)) << cluster.proxy().log();

  auto idle = open_idle(cluster.proxy_port(), 2 * kDescriptorLimit);
  ASSERT_EQ(idle.size(), 2 * kDescriptorLimit);
  expect_still_serving(cluster);
  auto metrics = cluster.proxy_get("/metrics").body;
  EXPECT_NE(metrics.find("vixy_connections_active "), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("vixy_connections_evicted_total 0\n"), std::string::npos) << "nothing was evicted";

  auto log = cluster.proxy().log();
  EXPECT_LE(count_occurrences(log, "msg=\"accept failed\""), 2u) << log.substr(0, 4000);
  // (256 - 128) / 2: the cap is told once at start.
  EXPECT_NE(log.find("max_connections=64"), std::string::npos) << log.substr(0, 2000);
  idle.clear();
  EXPECT_EQ(cluster.proxy().terminate(seconds(10)), 0);
}

TEST(ConnectionLimits, ACapAboveTheDescriptorLimitBacksOffAndFreesIdleDescriptors) {
  ClusterOptions options;
  options.proxy_descriptor_limit = kDescriptorLimit;
  options.extra_toml = "[server]\nmax_connections = 100000\n";
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(wait_ready(cluster)) << cluster.proxy().log();

  auto idle = open_idle(cluster.proxy_port(), 2 * kDescriptorLimit);
  ASSERT_EQ(idle.size(), 2 * kDescriptorLimit);
  auto health = cluster.proxy_get("/health", seconds(10));
  EXPECT_EQ(health.status, 200) << health.ec.message();
  EXPECT_TRUE(cluster.proxy().running());

  auto log = cluster.proxy().log();
  // Accept ran out of descriptors over and over; the log says so once per interval, with a count.
  EXPECT_GE(count_occurrences(log, "msg=\"accept failed\""), 1u) << log.substr(0, 4000);
  EXPECT_LE(count_occurrences(log, "msg=\"accept failed\""), 3u) << log.substr(0, 4000);
  idle.clear();
  EXPECT_EQ(cluster.proxy().terminate(seconds(10)), 0);
}

}  // namespace
}  // namespace vixy::testing
