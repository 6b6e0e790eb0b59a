#include "chaos/soak.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>

#include "chaos/report.hpp"
#include "chaos/runner.hpp"

namespace vixy::chaos {
namespace {

using nlohmann::json;

// The fault pairs the segments take in turn: (fault, its undo or "" for an instant one).
struct FaultPair {
  TimelineEvent fault;
  std::optional<TimelineEvent> undo;
};

FaultPair fault_pair(int k) {
  const json none = json::object();
  switch (k % 6) {
    case 0: return {{0, "kill", "el-primary", none}, TimelineEvent{0, "restart", "el-primary", none}};
    case 1: return {{0, "close_all", "el-primary", none}, std::nullopt};
    case 2: return {{0, "blackhole", "el-primary", {{"on", true}}}, TimelineEvent{0, "blackhole", "el-primary", {{"on", false}}}};
    case 3: return {{0, "lag", "el-primary", {{"blocks", 20}}}, TimelineEvent{0, "lag", "el-primary", {{"blocks", 0}}}};
    case 4:
      return {{0, "method_error", "el-primary", {{"method", "eth_blockNumber"}, {"code", -32005}, {"message", "soak"}}},
              TimelineEvent{0, "method_clear", "el-primary", {{"method", "eth_blockNumber"}}}};
    default: return {{0, "kill", "el-backup", none}, TimelineEvent{0, "restart", "el-backup", none}};
  }
}

std::size_t open_descriptors(pid_t pid) {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

std::string violated(const RunReport& r) {
  std::string out;
  for (const auto& i : r.check.invariants) {
    if (i.status == "violated") out += (out.empty() ? "" : ", ") + i.name + " x" + std::to_string(i.violation_count);
  }
  for (const auto& t : r.thresholds) {
    if (!t.held) out += (out.empty() ? "" : ", ") + t.name;
  }
  if (!r.fatal.empty()) out += (out.empty() ? "" : ", ") + std::string("fatal: ") + r.fatal;
  return out;
}

}  // namespace

Scenario soak_segment(int index, int segment_ms) {
  Scenario s;
  s.name = "soak-" + std::to_string(index + 1);
  s.description = "segment " + std::to_string(index + 1) + " of vixy-chaos soak: the incident's workload, two faults";
  s.topology.block_time_ms = 250;
  // Requests sent into a blackholed node are answered with vixy's timeout error: below the drain,
  // so that I1 judges that promise (scenarios/README.md, "I1 and a client's own close").
  s.proxy.global = {{"health_check_interval_ms", 100}, {"health_check_timeout_ms", 500}, {"health_check_max_failures", 2},
                    {"proxy_timeout_ms", 2500}};
  auto& w = s.workload;
  w.duration_ms = segment_ms;
  w.drain_ms = 3000;
  w.ws_clients = 8;
  w.subscriptions_per_client = 5;
  w.subscription_kinds = {"newHeads", "logs", "newHeads", "newPendingTransactions", "logs"};
  w.requests_per_second = 10;
  w.method_mix = {{"eth_blockNumber", 4}, {"eth_getBalance", 2}, {"eth_chainId", 1}, {"eth_getBlockByNumber", 1}};
  w.id_style = IdStyle::reused;
  w.probe_interval_ms = 200;
  w.resubscribe_every_ms = 4000;
  w.http_requests_per_second = 5;
  // Every fault is undone by 65 % of the segment, so failback is judged before it ends.
  const int hold = std::min(8000, segment_ms * 15 / 100);
  const int undone_by = segment_ms / 2 + hold;
  s.timeline.push_back({0, "method_delay", "el-primary", {{"method", "eth_getBalance"}, {"delay_ms", 300}}});
  for (int half = 0; half < 2; ++half) {
    auto [fault, undo] = fault_pair(2 * index + half);
    fault.at_ms = half == 0 ? segment_ms / 20 : segment_ms / 2;
    s.timeline.push_back(fault);
    if (undo) {
      undo->at_ms = fault.at_ms + hold;
      s.timeline.push_back(*undo);
    }
  }
  s.timeline.push_back({undone_by, "method_clear", "el-primary", {{"method", "eth_getBalance"}}});
  s.expectations.invariants = {"I1", "I2", "I3", "I6", "I7"};
  s.expectations.failback_within_ms = 3000;
  return parse_scenario(scenario_to_json(s));  // the same checks as a file's
}

std::string soak_growth(const std::vector<SoakSample>& samples, std::size_t warmup) {
  if (samples.size() <= warmup + 1) return "";
  const SoakSample& first = samples[warmup];
  const SoakSample& last = samples.back();
  std::string out;
  char buf[160];
  if (last.rss_mb > first.rss_mb * 1.25 + 4) {
    std::snprintf(buf, sizeof buf, "resident memory grew from %.1f to %.1f MB", first.rss_mb, last.rss_mb);
    out += buf;
  }
  if (last.descriptors > first.descriptors + 8) {
    std::snprintf(buf, sizeof buf, "%sopen descriptors grew from %zu to %zu", out.empty() ? "" : "; ",
                  first.descriptors, last.descriptors);
    out += buf;
  }
  return out;
}

int soak_command(const std::vector<std::string>& args, const Binaries& defaults) {
  RunOptions options;
  options.binaries = defaults;
  options.progress = nullptr;
  double minutes = 60;
  int segment_ms = 60'000;
  std::string report_path;
  try {
    for (std::size_t i = 0; i < args.size(); ++i) {
      const auto& a = args[i];
      if (a == "--help" || a == "-h") {
        std::printf("usage: vixy-chaos soak [--minutes N] [--segment-ms MS] [--proxy-bin PATH] [--fakenode PATH] "
                    "[--report out.json]\n");
        return 0;
      }
      if (i + 1 >= args.size()) throw std::invalid_argument("\"" + a + "\" needs a value");
      const auto& v = args[++i];
      if (a == "--minutes") minutes = std::stod(v);
      else if (a == "--segment-ms") segment_ms = std::stoi(v);
      else if (a == "--proxy-bin") options.binaries.vixy = v;
      else if (a == "--fakenode") options.binaries.fakenode = v;
      else if (a == "--report") report_path = v;
      else throw std::invalid_argument("unknown option \"" + a + "\"");
    }
    if (segment_ms < 10'000 || minutes <= 0) throw std::invalid_argument("--segment-ms must be >= 10000 and --minutes > 0");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vixy-chaos soak: %s\n", e.what());
    return 2;
  }
  const int segments = std::max(2, static_cast<int>(minutes * 60'000 / segment_ms));
  std::printf("vixy-chaos soak: %d segments of %d ms against %s\n", segments, segment_ms, options.binaries.vixy.c_str());
  std::fflush(stdout);

  RunReport setup;
  std::optional<Stage> stage;
  try {
    stage.emplace(soak_segment(0, segment_ms), options, setup);
  } catch (const std::exception& e) {
    setup.fatal = e.what();  // a fake node that did not start
  }
  if (!stage || !stage->ready()) {
    std::printf("the soak could not start: %s\n", setup.fatal.c_str());
    return 1;
  }
  std::vector<SoakSample> samples;
  json lines = json::array();
  int failed = 0;
  for (int i = 0; i < segments; ++i) {
    Scenario s = soak_segment(i, segment_ms);
    RunReport r;
    r.scenario = s.name;
    stage->run_segment(s, r);
    const pid_t pid = stage->cluster().proxy().pid();
    SoakSample sample{static_cast<double>(stage->cluster().proxy().resident_kb().value_or(0)) / 1024, open_descriptors(pid)};
    samples.push_back(sample);
    std::string bad = violated(r);
    failed += !bad.empty();
    const auto& st = r.check.stats;
    std::printf("segment %d/%d: %s; proxy %.1f MB resident, %zu descriptors; %zu requests, %zu notifications%s\n", i + 1,
                segments, bad.empty() ? "ok" : ("FAILED (" + bad + ")").c_str(), sample.rss_mb, sample.descriptors,
                st.requests, st.notifications,
                st.failback_ms ? (", failback " + std::to_string(static_cast<int>(*st.failback_ms)) + " ms").c_str() : "");
    if (!bad.empty()) print_report(r, stdout);
    std::fflush(stdout);
    lines.push_back({{"segment", i + 1}, {"ok", bad.empty()}, {"problems", bad}, {"rss_mb", sample.rss_mb},
                     {"descriptors", sample.descriptors}, {"requests", st.requests}, {"notifications", st.notifications}});
    if (!r.fatal.empty()) break;  // the proxy is gone: nothing more to learn
  }
  RunReport end;
  stage->stop(end);
  std::string growth = soak_growth(samples, std::min<std::size_t>(2, samples.size() - 1));
  bool ok = failed == 0 && growth.empty() && end.fatal.empty();
  std::printf("soak: %d of %zu segments failed; resident memory and descriptors %s%s\n", failed, samples.size(),
              growth.empty() ? "flat" : "NOT flat: ", growth.c_str());
  if (!end.fatal.empty()) std::printf("soak: %s\n", end.fatal.c_str());
  if (!report_path.empty()) {
    std::ofstream(report_path) << json{{"ok", ok}, {"segments", lines}, {"growth", growth}, {"exit", end.fatal}}.dump(2) << "\n";
  }
  return ok ? 0 : 1;
}

}  // namespace vixy::chaos
