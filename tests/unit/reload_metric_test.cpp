// The reload action reads vixy's reload counter from /metrics text: each result label apart,
// whatever other labels or a timestamp come with it, and nothing from look-alike metric names.
#include "chaos/runner_faults.hpp"

#include <gtest/gtest.h>

namespace vixy::chaos {
namespace {

TEST(ReloadMetric, CountsEachResultOfTheReloadCounter) {
  auto counts = config_reloads(
      "# HELP vixy_config_reloads_total Configuration reloads by result.\n"
      "# TYPE vixy_config_reloads_total counter\n"
      "vixy_config_reloads_total{result=\"applied\"} 2\n"
      "vixy_config_reloads_total{result=\"rejected\"} 1\n"
      "vixy_config_reloads_total{instance=\"a\",result=\"unchanged\"} 3 1700000000000\n"
      "vixy_config_reloads_totals{result=\"applied\"} 9\n"
      "vixy_config_info{sha256=\"ab\"} 1\n");
  EXPECT_EQ(counts, (std::map<std::string, double>{{"applied", 2}, {"rejected", 1}, {"unchanged", 3}}));
}

TEST(ReloadMetric, NothingWhenTheProxyDoesNotServeTheCounter) {
  EXPECT_TRUE(config_reloads("vixy_ws_connections_total 7\n").empty());
  EXPECT_TRUE(config_reloads("").empty());
  EXPECT_TRUE(config_reloads("vixy_config_reloads_total{myresult=\"applied\"} 1").empty());
}

}  // namespace
}  // namespace vixy::chaos
