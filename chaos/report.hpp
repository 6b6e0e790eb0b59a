#pragma once
// The result of one scenario run: invariants, thresholds, counts, latencies, failback, the
// timeline as applied. Printed for people and written as JSON for machines.

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/checker.hpp"
#include "chaos/checker_sse.hpp"
#include "chaos/hostile.hpp"
#include "chaos/run_picture.hpp"
#include "chaos/scenario.hpp"

namespace vixy::chaos {

struct ThresholdResult {
  std::string name;  // "max_error_rate", "p99_ms", "max_latency_ms"
  double limit = 0;
  double value = 0;
  bool held = true;
};

struct AppliedEvent {
  TimelineEvent event;
  double actual_ms = 0;  // when it was applied, since the workload started
  std::string result;    // "ok" or what went wrong
};

struct RunReport {
  std::string scenario;
  std::string file;
  std::string proxy_bin;
  std::string fatal;  // the run itself failed (the proxy did not start or died); counts as a violation
  std::optional<double> proxy_died_at_ms;  // since the workload started, when the proxy was seen gone
  CheckReport check;
  std::vector<ThresholdResult> thresholds;
  std::vector<AppliedEvent> timeline;
  std::optional<double> healthy_since_ms;
  std::size_t http_requests = 0;
  std::size_t http_errors = 0;
  std::vector<double> http_latencies_ms;
  std::uint64_t connect_failures = 0;
  std::optional<SseStats> sse;  // when the workload had CL event-stream listeners
  std::optional<HostileReport> hostile;  // when the workload had hostile clients
  std::optional<double> proxy_peak_rss_mb;  // the proxy's largest resident set, sampled every second
  double duration_s = 0;
  nlohmann::json proxy_metrics = nlohmann::json::object();  // selected counters from /metrics
  std::string proxy_log_tail;                               // kept when the run failed
  RunPicture picture;                                       // for the HTML page (--html)
  std::string page_path;                                    // where that page was written, if it was
  bool ok() const;
};

// The scenario's thresholds (expectations) judged on the report's counts and latencies.
void judge_thresholds(const Expectations& expectations, RunReport& report);

nlohmann::json report_to_json(const RunReport& report);
void print_report(const RunReport& report, std::FILE* out);

}  // namespace vixy::chaos
