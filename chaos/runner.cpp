#include "chaos/runner.hpp"

#include <signal.h>

#include <climits>
#include <cstdarg>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "chaos/checker_sse.hpp"
#include "chaos/hostile.hpp"
#include "chaos/runner_faults.hpp"
#include "chaos/workload.hpp"

namespace vixy::chaos {

using nlohmann::json;
using Ms = std::chrono::milliseconds;

namespace {

__attribute__((format(printf, 2, 3))) void progress(const RunOptions& o, const char* format, ...) {
  if (o.progress == nullptr) return;
  va_list args;
  va_start(args, format);
  std::vfprintf(o.progress, format, args);
  va_end(args);
  std::fflush(o.progress);
}

unsigned long long u(std::uint64_t v) { return static_cast<unsigned long long>(v); }

std::string global_toml(const ProxySettings& p) {
  std::string out;
  for (const auto& [key, value] : p.global) out += key + " = " + value.dump() + "\n";
  return out;
}

// Waits until a WebSocket client gets web3_clientVersion answered by a primary through the proxy.
std::string wait_ready(std::uint16_t port, const std::vector<std::string>& primaries, Ms timeout) {
  std::string last = "no attempt";
  bool ready = wait_until(
      [&] {
        WsClient ws;
        if (auto ec = ws.connect("127.0.0.1", port, "/el/ws", Ms(1000))) {
          last = "connecting to /el/ws: " + ec.message();
          return false;
        }
        ws.send(R"({"jsonrpc":"2.0","id":1,"method":"web3_clientVersion","params":[]})", Ms(1000));
        auto answer = ws.receive(Ms(1000));
        ws.close();
        json m = answer ? json::parse(*answer, nullptr, false) : json();
        if (!m.is_object() || !m.contains("result") || !m["result"].is_string()) {
          last = "web3_clientVersion over /el/ws got " + (answer ? answer->substr(0, 200) : std::string("no answer"));
          return false;
        }
        std::string version = m["result"];
        std::string node = version.substr(version.rfind('/') + 1);
        last = "answered by " + node + ", not a primary";
        return std::find(primaries.begin(), primaries.end(), node) != primaries.end();
      },
      timeout, Ms(200));
  return ready ? "" : last;
}

json scrape_metrics(Cluster& cluster) {
  json out = json::object();
  auto r = cluster.proxy_get("/metrics", Ms(2000));
  if (r.ec || r.status != 200) return out;
  std::istringstream lines(r.body);
  std::string line;
  // Labelled counters (per node, per kind) are summed over their label sets into one figure.
  while (std::getline(lines, line)) {
    for (const char* name : {"vixy_ws_reconnections_total", "vixy_ws_connections_total", "vixy_el_failovers_total",
                             "vixy_ws_subscriptions_total", "vixy_ws_backfilled_total",
                             "vixy_cl_streams_moved_total"}) {
      std::size_t length = std::strlen(name);
      if (line.rfind(name, 0) == 0 && line.size() > length && (line[length] == ' ' || line[length] == '{')) {
        out[name] = out.value(name, 0.0) + std::stod(line.substr(line.rfind(' ') + 1));
      }
    }
  }
  return out;
}


// The CL outages of the timeline at the times their events were actually applied.
std::vector<std::pair<SteadyTime, SteadyTime>> applied_outages(const Scenario& s, const RunReport& r, SteadyTime start) {
  auto at = [&](int planned) {
    if (planned == INT_MAX) return SteadyTime::max();
    for (const auto& a : r.timeline) {
      if (a.event.at_ms == planned) return start + std::chrono::microseconds(static_cast<long long>(a.actual_ms * 1000));
    }
    return start + Ms(planned);
  };
  std::vector<std::pair<SteadyTime, SteadyTime>> out;
  for (const auto& [from, to] : cl_outages(s)) out.emplace_back(at(from), at(to));
  return out;
}

ClusterOptions cluster_options(const Scenario& s, const std::map<std::string, std::unique_ptr<Relay>>& relays) {
  ClusterOptions co;
  co.el_primaries = s.topology.el_primaries;
  co.el_backups = s.topology.el_backups;
  co.el_spares = s.topology.el_spares;
  co.cl_nodes = s.topology.cl_nodes;
  co.chain_seed = s.topology.chain_seed;
  co.block_time_ms = s.topology.block_time_ms;
  co.global_toml = global_toml(s.proxy);
  co.extra_toml = s.proxy.extra_toml;
  co.start_proxy = false;
  co.upstream_port = [&relays](const FakeNode& n) {
    auto it = relays.find(n.name);
    return it == relays.end() ? n.rpc_port : it->second->port();
  };
  return co;
}

void print_workload(const Scenario& s, const RunOptions& o, std::uint16_t proxy_port) {
  const auto& w = s.workload;
  progress(o, "[%s] proxy ready on 127.0.0.1:%u; workload: %d ws client(s) x %d subscription(s), %g req/s each, %g http req/s, %d ms\n",
           s.name.c_str(), proxy_port, w.ws_clients, w.subscriptions_per_client, w.requests_per_second,
           w.http_requests_per_second, w.duration_ms);
  if (w.hostile.any()) {
    const auto& h = w.hostile;
    progress(o, "[%s] hostile: %d slow reader(s) x %d subscription(s), nested JSON %g/s (depth %d), huge batches %g/s (%d requests), %d idle connection(s), %g connection(s)/s opened and closed\n",
             s.name.c_str(), h.slow_readers, h.slow_reader_subscriptions, h.nested_json_per_second, h.nested_depth,
             h.huge_batches_per_second, h.huge_batch_size, h.idle_connections, h.connection_flood_per_second);
  }
}

void print_counters(const Scenario& s, const RunOptions& o, const WorkloadCounters& c, SteadyTime start) {
  progress(o, "[%s] %6.2fs  connections %llu (closed by proxy %llu), requests %llu, answers %llu, notifications %llu, waiting %lld, http %llu (%llu errors), cl streams %llu (%llu events)\n",
           s.name.c_str(), ms_since(start) / 1000, u(c.connections.load()),
           u(c.closed_by_peer.load()), u(c.requests.load()),
           u(c.answers.load()), u(c.notifications.load()),
           static_cast<long long>(c.outstanding.load()), u(c.http_requests.load()),
           u(c.http_errors.load()), u(c.sse_streams.load()), u(c.sse_events.load()));
}

// Runs the timeline against the cluster while the workload and the hostile clients run, until the
// workload's duration is over or the proxy exits. True when the proxy was left stopped (SIGSTOP).
bool drive_timeline(const Scenario& s, const RunOptions& o, Cluster& cluster, FaultDriver& faults,
                    const WorkloadRunner& workload, const HostileRunner& hostile, SteadyTime start, RunReport& report) {
  std::size_t next_event = 0;
  auto next_progress = start + Ms(1000);
  auto end = start + Ms(s.workload.duration_ms);
  bool proxy_stopped = false;
  while (SteadyClock::now() < end) {
    auto now = SteadyClock::now();
    if (next_event < s.timeline.size() && now >= start + Ms(s.timeline[next_event].at_ms)) {
      const auto& e = s.timeline[next_event++];
      double began_ms = ms_since(start);  // a reload waits for the proxy, so it ends later
      std::string result = faults.apply(e);
      if (e.action == "proxy_signal") proxy_stopped = e.args.value("signal", "") == "STOP" || (proxy_stopped && e.args.value("signal", "") != "CONT");
      report.timeline.push_back({e, ms_since(start), result});
      // A reload that did not take effect leaves the run testing a story other than its file's; a
      // proxy that ignores SIGHUP must fail here, not pass on the old configuration.
      if (e.action == "reload" && result != "ok" && report.fatal.empty()) {
        char when[32];
        std::snprintf(when, sizeof when, "%.1f s", began_ms / 1000);
        report.fatal = "the reload at " + std::string(when) + ": " + result;
      }
      progress(o, "[%s] %6.2fs  %s %s %s: %s\n", s.name.c_str(), ms_since(start) / 1000, e.action.c_str(),
               e.target.c_str(), e.args.empty() ? "" : e.args.dump().c_str(), result.c_str());
      continue;
    }
    if (now >= next_progress) {
      // One line per second at most, even after the loop was held up (a slow admin call).
      while (next_progress <= now) next_progress += Ms(1000);
      if (auto kb = cluster.proxy().resident_kb()) {
        report.proxy_peak_rss_mb = std::max(report.proxy_peak_rss_mb.value_or(0), static_cast<double>(*kb) / 1024);
      }
      if (!cluster.proxy().running()) {
        // The rest of the run could only count refused connections.
        report.proxy_died_at_ms = ms_since(start);
        progress(o, "[%s] %6.2fs  the proxy exited; ending the run\n", s.name.c_str(), ms_since(start) / 1000);
        break;
      }
      if (s.workload.hostile.any()) progress(o, "[%s] %6.2fs  hostile outcomes so far: %s\n", s.name.c_str(), ms_since(start) / 1000, hostile.summary().c_str());
      print_counters(s, o, workload.counters(), start);
    }
    auto wake = std::min(end, next_progress);
    if (next_event < s.timeline.size()) wake = std::min(wake, start + Ms(s.timeline[next_event].at_ms));
    std::this_thread::sleep_until(wake);  // the schedule of the timeline, not a wait for a condition
  }
  return proxy_stopped;
}

// When the primaries were healthy again for good, as applied (not as planned), and the failback
// check that follows from it.
FailbackSpec failback_spec(const Scenario& s, SteadyTime start, RunReport& report) {
  FailbackSpec failback;
  failback.primaries = final_el_primaries(s);
  failback.within = Ms(s.expectations.failback_within_ms);
  auto recovery = primaries_recovery(s);
  if (recovery.healthy_from_ms) {
    SteadyTime since = start;
    for (const auto& a : report.timeline) {
      if (a.event.at_ms <= *recovery.healthy_from_ms) since = std::max(since, start + Ms(static_cast<long long>(a.actual_ms)));
    }
    failback.healthy_since = since;
    report.healthy_since_ms = ms_since(start, since);
  } else {
    failback.not_checkable_reason = recovery.reason;
  }
  return failback;
}

// Checks everything the clients saw against the invariants and the scenario's expectations.
void check_run(const Scenario& s, const RunOptions& o, const WorkloadRunner& workload, const FaultDriver& faults,
               SteadyTime start, RunReport& report) {
  report.check = check_histories(workload.histories(), start, failback_spec(s, start, report),
                                 s.expectations.invariants, gapless_spec(s, faults.reorgs()));
  if (!o.histories_path.empty()) write_histories(o.histories_path, workload.histories(), start);
  if (s.workload.sse_listeners > 0) {
    SseCheckSpec sse;
    sse.topics = s.workload.sse_topics;
    if (s.expectations.sse_max_gap_ms) sse.max_gap = Ms(*s.expectations.sse_max_gap_ms);
    sse.outages = applied_outages(s, report, start);
    sse.stopped = workload.sse_stopped();
    report.sse.emplace();
    report.check.invariants.push_back(check_sse(workload.sse_histories(), start, sse, *report.sse));
    if (!o.histories_path.empty()) write_sse_histories(o.histories_path, workload.sse_histories(), start);
  }
  for (const auto& h : workload.http_samples()) {
    ++report.http_requests;
    if (h.error) ++report.http_errors;
    report.http_latencies_ms.push_back(h.latency_ms);
  }
  check_http(workload.http_samples(), start, report.check);
  report.picture = picture_of(workload.histories(), workload.http_samples(), start);
  report.connect_failures = workload.counters().connect_failures.load();
  judge_thresholds(s.expectations, report);
}

std::string exit_words(Cluster& cluster) {
  return "status " + std::to_string(cluster.proxy().wait_for_exit(Ms(0)).value_or(-1));
}

}  // namespace



struct Stage::Parts {
  std::map<std::string, std::unique_ptr<Relay>> relays;  // outlives nothing that uses it: declared first
  std::unique_ptr<Cluster> cluster;
  bool ready = false;
};

Stage::Stage(const Scenario& s, const RunOptions& o, RunReport& report) : parts_(std::make_unique<Parts>()), o_(o) {
  bool use_relays = s.topology.injectors;
  check_supported(s, use_relays);
  ClusterOptions co = cluster_options(s, parts_->relays);
  progress(o, "[%s] starting %zu fake node(s)%s and %s\n", s.name.c_str(),
           co.el_primaries.size() + co.el_backups.size() + co.el_spares.size() + co.cl_nodes.size(),
           use_relays ? " behind fault injectors" : "", o.binaries.vixy.c_str());
  parts_->cluster = std::make_unique<Cluster>(o.binaries, co);
  Cluster& cluster = *parts_->cluster;
  if (use_relays) {
    for (const auto& n : cluster.nodes()) parts_->relays[n.name] = make_relay(n.rpc_port);
  }
  try {
    cluster.start_proxy();
  } catch (const std::exception& e) {
    report.fatal = e.what();
    return;
  }
  if (auto why = wait_ready(cluster.proxy_port(), s.topology.el_primaries, Ms(20'000)); !why.empty()) {
    report.fatal = "the proxy did not become ready through /el/ws within 20 s: " + why;
    report.proxy_log_tail = cluster.proxy().log_tail(30);
    return;
  }
  parts_->ready = true;
}

Stage::~Stage() = default;

bool Stage::ready() const { return parts_->ready; }

Cluster& Stage::cluster() { return *parts_->cluster; }

void Stage::run_segment(const Scenario& s, RunReport& report) {
  const RunOptions& o = o_;
  Cluster& cluster = *parts_->cluster;
  const auto& w = s.workload;
  print_workload(s, o, cluster.proxy_port());
  // Bursts straddle every timeline event: 20 ms before it and 20 ms after.
  std::vector<int> bursts;
  for (const auto& e : s.timeline) {
    if (e.at_ms >= 20) bursts.push_back(e.at_ms - 20);
    bursts.push_back(e.at_ms + 20);
  }
  WorkloadRunner workload(w, cluster.proxy_port(), o.seed, std::move(bursts));
  HostileRunner hostile(w.hostile, cluster.proxy_port());
  FaultDriver faults(cluster, parts_->relays);
  auto start = SteadyClock::now();
  workload.start();
  hostile.start();
  bool proxy_stopped = drive_timeline(s, o, cluster, faults, workload, hostile, start, report);
  workload.stop_sending();
  hostile.stop_attacking();
  const auto& c = workload.counters();
  progress(o, "[%s] workload done; waiting up to %d ms for %lld answer(s)\n", s.name.c_str(), w.drain_ms,
           static_cast<long long>(c.outstanding.load()));
  wait_until([&] { return c.outstanding.load() <= 0 || !cluster.proxy().running(); }, Ms(w.drain_ms));
  workload.finish();
  hostile.finish();
  if (w.hostile.any()) report.hostile = hostile.report();
  if (proxy_stopped) ::kill(cluster.proxy().pid(), SIGCONT);
  if (!cluster.proxy().running()) {
    if (!report.proxy_died_at_ms) report.proxy_died_at_ms = ms_since(start);
    char when[64];
    std::snprintf(when, sizeof when, "%.1f s", *report.proxy_died_at_ms / 1000);
    report.fatal = "the proxy exited during the run (seen at " + std::string(when) + " into the workload, " +
                   exit_words(cluster) + ")";
  }
  report.proxy_metrics = scrape_metrics(cluster);
  check_run(s, o, workload, faults, start, report);
  if (report.fatal.empty() && !cluster.proxy().running()) {
    // It outlived the workload but not what the clients sent last (a request still in flight).
    report.fatal = "the proxy exited after the workload, while the run was being checked (" + exit_words(cluster) + ")";
  }
}

void Stage::stop(RunReport& report) {
  Cluster& cluster = *parts_->cluster;
  if (report.fatal.empty()) {
    // The run ends as an operator's would: SIGTERM, and vixy exits 0 within its shutdown deadline.
    // Under the sanitizers this is also where a use-after-free or a leak at exit shows.
    auto status = cluster.proxy().terminate(Ms(15'000));
    if (status != 0) {
      report.fatal = "the proxy did not exit cleanly on SIGTERM after the run (" +
                     (status ? "status " + std::to_string(*status) : std::string("still running after 15 s, killed")) + ")";
    }
  }
  if (!report.ok()) report.proxy_log_tail = cluster.proxy().log_tail(30);
}

RunReport run_scenario(const Scenario& s, const std::string& file, const RunOptions& o) {
  RunReport report;
  report.scenario = s.name;
  report.file = file;
  report.proxy_bin = o.binaries.vixy;
  auto wall_start = SteadyClock::now();
  // A run that cannot start (a fake node that will not come up) is that run's failure, reported
  // like any other, never the end of a whole library or fuzz batch.
  try {
    Stage stage(s, o, report);
    if (!stage.ready()) return report;
    stage.run_segment(s, report);
    report.duration_s = ms_since(wall_start) / 1000;
    stage.stop(report);
  } catch (const std::exception& e) {
    report.fatal = e.what();
  }
  progress(o, "[%s] stopping every process\n", s.name.c_str());
  return report;
}

}  // namespace vixy::chaos
