// The run report: thresholds judged on the well-behaved clients' latencies, and the hostile
// clients' outcomes counted, never judged.
#include "chaos/report.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace vixy::chaos {
namespace {

std::string printed(const RunReport& r) {
  std::FILE* f = std::tmpfile();
  print_report(r, f);
  std::rewind(f);
  std::string out;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, f)) out.append(buffer, n);
  std::fclose(f);
  return out;
}

const ThresholdResult* find(const RunReport& r, const std::string& name) {
  for (const auto& t : r.thresholds) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

TEST(Report, MaxLatencyJudgesTheSlowestWellBehavedRequestOverWebSocketAndHttp) {
  RunReport r;
  r.check.stats.latencies_ms = {10, 20, 900};
  r.http_latencies_ms = {30, 2500};
  Expectations x;
  x.max_latency_ms = 2000;
  judge_thresholds(x, r);
  ASSERT_NE(find(r, "max_latency_ms"), nullptr);
  EXPECT_DOUBLE_EQ(find(r, "max_latency_ms")->value, 2500);
  EXPECT_FALSE(find(r, "max_latency_ms")->held);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(find(r, "p99_ms"), nullptr);  // only the bounds a file sets are judged

  RunReport slow_ws;
  slow_ws.check.stats.latencies_ms = {4000};
  slow_ws.http_latencies_ms = {30};
  x.max_latency_ms = 4000;
  judge_thresholds(x, slow_ws);
  EXPECT_TRUE(find(slow_ws, "max_latency_ms")->held);
  EXPECT_TRUE(slow_ws.ok());
}

TEST(Report, HostileOutcomesAreCountedNotJudged) {
  RunReport r;
  r.scenario = "hostile";
  HostileReport h;
  h.outcomes["nested JSON"]["http: HTTP 400, error -32600"] = 7;
  h.outcomes["nested JSON"]["ws: closed by the proxy (close code 1009)"] = 2;
  h.outcomes["slow readers"]["connected"] = 3;
  h.slow_reader_closed_after_ms = {2100, 2600};
  r.hostile = h;
  r.proxy_peak_rss_mb = 212;
  EXPECT_TRUE(r.ok());
  auto j = report_to_json(r);
  EXPECT_EQ(j["hostile"]["nested JSON"]["http: HTTP 400, error -32600"], 7);
  EXPECT_EQ(j["hostile"]["slow_reader_closed_after_ms"]["max"], 2600);
  EXPECT_EQ(j["proxy_peak_rss_mb"], 212);
  EXPECT_FALSE(j.contains("proxy_died_at_ms"));
  std::string text = printed(r);
  EXPECT_NE(text.find("hostile nested JSON: http: HTTP 400, error -32600 x7; ws: closed by the proxy (close code 1009) x2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("slow readers closed by the proxy after ms: p50 2100 max 2600"), std::string::npos) << text;
}

TEST(Report, AProxyThatDiedFailsTheRunAndSaysWhen) {
  RunReport r;
  r.fatal = "the proxy exited during the run (seen at 3.0 s into the workload, status 134)";
  r.proxy_died_at_ms = 3000;
  EXPECT_FALSE(r.ok());
  auto j = report_to_json(r);
  EXPECT_EQ(j["proxy_died_at_ms"], 3000);
  EXPECT_EQ(j["ok"], false);
  EXPECT_NE(printed(r).find("run failed: the proxy exited during the run"), std::string::npos);
}

}  // namespace
}  // namespace vixy::chaos
