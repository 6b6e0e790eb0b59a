// The operator's monitoring (deploy/prometheus/alerts.yml, deploy/grafana/vixy.json) against what a
// live vixy exports: a rule or panel on a metric vixy does not have shows nothing and alerts never.
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "support/harness.hpp"

namespace vixy::testing {
namespace {

using chaos::Cluster;
using chaos::ClusterOptions;

std::string read_source(const std::string& relative) {
  std::ifstream in(std::string(VIXY_SOURCE_DIR) + "/" + relative);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::set<std::string> names_in(const std::string& text, const std::regex& pattern) {
  std::set<std::string> names;
  for (std::sregex_iterator it(text.begin(), text.end(), pattern), end; it != end; ++it) names.insert((*it)[1]);
  return names;
}

// Every family a scrape declares, and a histogram's series names (_bucket, _sum, _count) with it.
std::set<std::string> exported(const std::string& scrape) {
  std::set<std::string> names;
  std::regex declared(R"(# TYPE (\w+) (\w+))");
  for (std::sregex_iterator it(scrape.begin(), scrape.end(), declared), end; it != end; ++it) {
    const std::string name = (*it)[1];
    names.insert(name);
    if ((*it)[2] == "histogram") {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) names.insert(name + suffix);
    }
  }
  return names;
}

TEST(Deploy, AlertsAndDashboardUseOnlyMetricsVixyExports) {
  ClusterOptions options;  // EL primary and backup, a CL node: every family is exported
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(wait_ready(cluster));
  auto scrape = cluster.proxy_get("/metrics");
  ASSERT_EQ(scrape.status, 200);
  const auto vixy_exports = exported(scrape.body);
  ASSERT_GT(vixy_exports.size(), 40u) << scrape.body;

  const std::regex metric(R"(\b(vixy_[a-z0-9_]+))");
  for (const char* file : {"deploy/prometheus/alerts.yml", "deploy/prometheus/alerts_test.yml",
                           "deploy/grafana/vixy.json"}) {
    const auto used = names_in(read_source(file), metric);
    EXPECT_GE(used.size(), 8u) << file << " names hardly any vixy metric: was it read?";
    for (const auto& name : used) EXPECT_TRUE(vixy_exports.count(name) == 1) << file << " uses " << name;
  }
}

}  // namespace
}  // namespace vixy::testing
