#include "chaos/fuzz.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "chaos/runner.hpp"
#include "chaos/runner_faults.hpp"

namespace vixy::chaos {

using nlohmann::json;

namespace {

constexpr int kFailbackMs = 3000;
constexpr int kMaxShrinkRuns = 8;

template <class T>
const T& pick(std::mt19937_64& rng, const std::vector<T>& items) {
  return items[std::uniform_int_distribution<std::size_t>(0, items.size() - 1)(rng)];
}

int between(std::mt19937_64& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

json draw_args(std::mt19937_64& rng, const std::string& action) {
  static const std::vector<std::string> methods{"eth_blockNumber", "eth_getBalance", "eth_getBlockByNumber"};
  if (action == "lag") return {{"blocks", between(rng, 0, 30)}};
  if (action == "method_error") return {{"method", pick(rng, methods)}, {"code", -32000}, {"message", "fuzz"}};
  if (action == "method_delay") return {{"method", pick(rng, methods)}, {"delay_ms", between(rng, 0, 2000)}};
  if (action == "blackhole") return {{"on", between(rng, 0, 3) > 0}};
  if (action == "latency") return {{"ms", between(rng, 0, 1500)}, {"jitter_ms", between(rng, 0, 300)}};
  return json::object();
}

// Which invariants and thresholds a report failed: shrinking keeps a candidate only if it fails
// at least one of the same way.
std::set<std::string> failures(const RunReport& r) {
  std::set<std::string> out;
  if (!r.fatal.empty()) out.insert("run");
  for (const auto& i : r.check.invariants) {
    if (i.status == "violated") out.insert(i.name);
  }
  for (const auto& t : r.thresholds) {
    if (!t.held) out.insert(t.name);
  }
  return out;
}

bool overlaps(const std::set<std::string>& a, const std::set<std::string>& b) {
  for (const auto& x : a) {
    if (b.count(x)) return true;
  }
  return false;
}

std::string names(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
  return out;
}

}  // namespace

int recovery_at_ms(int duration_ms) { return duration_ms - kFailbackMs - 1000; }

Scenario draw_scenario(std::uint64_t seed, int index, int duration_ms, bool with_injector) {
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(index));
  Scenario s;
  s.name = "fuzz-" + std::to_string(seed) + "-" + std::to_string(index);
  s.description = "drawn by vixy-chaos fuzz --seed " + std::to_string(seed) + " (run " + std::to_string(index) + ")";
  s.topology.el_primaries = between(rng, 0, 1) ? std::vector<std::string>{"p1", "p2"} : std::vector<std::string>{"p1"};
  s.topology.el_backups = between(rng, 0, 2) ? std::vector<std::string>{"b1"} : std::vector<std::string>{"b1", "b2"};
  s.topology.block_time_ms = between(rng, 150, 400);
  s.topology.chain_seed = seed;
  s.proxy.global = {{"health_check_interval_ms", 100}, {"health_check_max_failures", 2}, {"proxy_timeout_ms", 3000}};
  auto& w = s.workload;
  w.duration_ms = duration_ms;
  w.drain_ms = 5000;
  w.ws_clients = between(rng, 2, 6);
  w.subscriptions_per_client = between(rng, 0, 5);
  w.subscription_kinds = {pick(rng, std::vector<std::string>{"newHeads", "logs", "newPendingTransactions"})};
  if (between(rng, 0, 1)) w.subscription_kinds.push_back("newHeads");
  w.requests_per_second = between(rng, 2, 15);
  w.method_mix = {{"eth_blockNumber", between(rng, 1, 4)}, {"eth_getBalance", between(rng, 0, 2) + 0.5},
                  {"eth_getBlockByNumber", between(rng, 0, 2) + 0.5}};
  w.id_style = pick(rng, std::vector<IdStyle>{IdStyle::sequential, IdStyle::reused, IdStyle::reused, IdStyle::string});
  w.probe_interval_ms = 200;
  w.resubscribe_every_ms = between(rng, 0, 1) ? between(rng, 1500, 4000) : 0;
  w.reconnect_every_ms = between(rng, 0, 3) == 0 ? between(rng, 2000, 5000) : 0;
  w.http_requests_per_second = between(rng, 0, 1) ? between(rng, 1, 5) : 0;

  std::vector<std::string> actions{"kill", "restart", "pause", "resume", "lag", "method_error",
                                   "method_delay", "blackhole", "close_all"};
  if (with_injector) actions.insert(actions.end(), {"latency", "reset"});
  std::vector<std::string> nodes = s.topology.el_primaries;
  nodes.insert(nodes.end(), s.topology.el_backups.begin(), s.topology.el_backups.end());
  int recover = recovery_at_ms(duration_ms);
  int count = between(rng, 1, 6);
  for (int i = 0; i < count; ++i) {
    TimelineEvent e;
    e.at_ms = between(rng, 500, std::max(600, recover - 100));
    e.action = pick(rng, actions);
    e.target = pick(rng, nodes);
    e.args = draw_args(rng, e.action);
    s.timeline.push_back(std::move(e));
  }
  // Drawn after everything above, so that every seed still draws the topology, workload and
  // faults it drew before hostile clients and interim responses existed.
  if (between(rng, 0, 3) == 0) {
    auto& h = w.hostile;
    h.slow_readers = between(rng, 0, 2);
    h.slow_reader_subscriptions = 50;
    h.nested_json_per_second = between(rng, 0, 2);
    h.nested_depth = pick(rng, std::vector<int>{200, 100'000});
    h.huge_batches_per_second = between(rng, 0, 1);
    h.huge_batch_size = 2000;
    h.idle_connections = between(rng, 0, 20);
    h.connection_flood_per_second = between(rng, 0, 10);
  }
  if (between(rng, 0, 3) == 0) {
    s.timeline.push_back({between(rng, 500, std::max(600, recover - 100)), "interim", pick(rng, nodes),
                          {{"status", pick(rng, std::vector<int>{100, 103})}}});
  }
  // Slow answers from the start, so that requests are in flight whenever a fault hits that node (at
  // 1 ms answers there are hardly ever any): a proxy that forgets them shows as I1.
  if (between(rng, 0, 1)) {
    for (const auto& node : nodes) {
      s.timeline.push_back({0, "method_delay", node, {{"method", "eth_getBalance"}, {"delay_ms", between(rng, 200, 800)}}});
    }
  }
  // CL nodes with event-stream listeners (no gap bound: the faults may take both nodes away for
  // longer than any bound; streams are judged on their events and their order), and CL faults.
  if (between(rng, 0, 3) == 0) {
    s.topology.cl_nodes = {"c1", "c2"};
    w.sse_listeners = between(rng, 1, 4);
    w.sse_topics = {"head"};
    const std::vector<std::string> cl_actions{"kill", "restart", "pause", "resume", "lag", "blackhole", "close_all"};
    for (int i = between(rng, 1, 3); i > 0; --i) {
      TimelineEvent e{between(rng, 500, std::max(600, recover - 100)), pick(rng, cl_actions), pick(rng, s.topology.cl_nodes),
                      json::object()};
      e.args = draw_args(rng, e.action);
      s.timeline.push_back(std::move(e));
    }
  }
  // A reorg the whole network takes: every EL node replaces its last blocks with the same fork.
  if (between(rng, 0, 3) == 0) {
    int at = between(rng, 2000, std::max(2100, recover - 100));
    int depth = between(rng, 1, 3);
    for (const auto& node : nodes) s.timeline.push_back({at, "reorg", node, {{"depth", depth}, {"fork_seed", at + 1}}});
  }
  // Requests at once around every fault, so that some are in flight when it hits.
  if (between(rng, 0, 1)) w.fault_bursts = between(rng, 2, 8);
  nodes.insert(nodes.end(), s.topology.cl_nodes.begin(), s.topology.cl_nodes.end());
  for (const auto& node : nodes) {
    s.timeline.push_back({recover, "restart", node, json::object()});
    s.timeline.push_back({recover, "clear", node, json::object()});
  }
  s.expectations.invariants = {"I1", "I2", "I3", "I6", "I7"};
  s.expectations.failback_within_ms = kFailbackMs;
  // The drawn scenario goes through the same checks as a file, so a reproduction file parses.
  return parse_scenario(scenario_to_json(s));
}

std::vector<Scenario> shrink_candidates(const Scenario& failing) {
  int recover = recovery_at_ms(failing.workload.duration_ms);
  std::vector<std::size_t> faults;
  for (std::size_t i = 0; i < failing.timeline.size(); ++i) {
    if (failing.timeline[i].at_ms < recover) faults.push_back(i);
  }
  auto without = [&](std::set<std::size_t> drop) {
    Scenario s = failing;
    s.timeline.clear();
    for (std::size_t i = 0; i < failing.timeline.size(); ++i) {
      if (!drop.count(i)) s.timeline.push_back(failing.timeline[i]);
    }
    return s;
  };
  std::vector<Scenario> out;
  if (faults.size() >= 2) {
    std::size_t half = faults.size() / 2;
    out.push_back(without({faults.begin(), faults.begin() + static_cast<std::ptrdiff_t>(half)}));
    out.push_back(without({faults.begin() + static_cast<std::ptrdiff_t>(half), faults.end()}));
  }
  for (auto i : faults) out.push_back(without({i}));
  return out;
}

int fuzz_command(const std::vector<std::string>& args, const Binaries& defaults) {
  RunOptions options;
  options.binaries = defaults;
  options.progress = nullptr;
  std::uint64_t seed = std::random_device{}();
  int runs = 5;
  int duration = 10'000;
  std::string out_dir = ".";
  bool shrink = true;
  try {
    for (std::size_t i = 0; i < args.size(); ++i) {
      const auto& a = args[i];
      if (a == "--help" || a == "-h") {
        std::printf("usage: vixy-chaos fuzz [--seed S] [--runs N] [--duration MS] [--proxy-bin PATH] [--fakenode PATH] [--out DIR] [--no-shrink]\n");
        return 0;
      }
      if (a == "--no-shrink") {  // every run judged as drawn: for surveys of what a seed's runs catch
        shrink = false;
        continue;
      }
      static const char* const known[] = {"--seed", "--runs", "--duration", "--proxy-bin", "--fakenode", "--out"};
      if (std::find(std::begin(known), std::end(known), a) == std::end(known)) {
        throw std::invalid_argument("unknown option \"" + a + "\"");
      }
      if (i + 1 >= args.size()) throw std::invalid_argument("\"" + a + "\" needs a value");
      const auto& v = args[++i];
      if (a == "--seed") seed = std::stoull(v);
      else if (a == "--runs") runs = std::stoi(v);
      else if (a == "--duration") duration = std::stoi(v);
      else if (a == "--proxy-bin") options.binaries.vixy = v;
      else if (a == "--fakenode") options.binaries.fakenode = v;
      else if (a == "--out") out_dir = v;
      else throw std::invalid_argument("unknown option \"" + a + "\"");
    }
    if (runs < 1 || duration < 6000) throw std::invalid_argument("--runs must be >= 1 and --duration >= 6000 (ms)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vixy-chaos fuzz: %s\n", e.what());
    return 2;
  }
  std::printf("vixy-chaos fuzz --seed %llu --runs %d --duration %d\n", static_cast<unsigned long long>(seed), runs, duration);
  int failed = 0;
  for (int index = 0; index < runs; ++index) {
    Scenario s = draw_scenario(seed, index, duration, /*with_injector=*/true);
    options.seed = seed + static_cast<std::uint64_t>(index);
    std::printf("run %d/%d: %zu primaries, %zu backups, %zu CL nodes, %d clients%s, %d CL listeners, %zu timeline events ... ",
                index + 1, runs, s.topology.el_primaries.size(), s.topology.el_backups.size(), s.topology.cl_nodes.size(),
                s.workload.ws_clients, s.workload.hostile.any() ? " and hostile ones" : "", s.workload.sse_listeners,
                s.timeline.size());
    std::fflush(stdout);
    RunReport report = run_scenario(s, "(fuzz)", options);
    if (report.ok()) {
      std::printf("ok\n");
      continue;
    }
    ++failed;
    auto wanted = failures(report);
    std::printf("FAILED (%s); shrinking\n", names(wanted).c_str());
    Scenario smallest = s;
    RunReport smallest_report = report;
    int budget = shrink ? kMaxShrinkRuns : 0;
    bool progress = true;
    while (progress && budget > 0) {
      progress = false;
      for (auto& candidate : shrink_candidates(smallest)) {
        if (budget-- <= 0) break;
        RunReport r = run_scenario(candidate, "(fuzz)", options);
        bool still = !r.ok() && overlaps(failures(r), wanted);
        std::printf("  %zu events: %s\n", candidate.timeline.size(), still ? "still fails" : "passes");
        if (still) {
          smallest = std::move(candidate);
          smallest_report = std::move(r);
          progress = true;
          break;
        }
      }
    }
    std::string file = out_dir + "/" + s.name + ".json";
    std::error_code ignored;  // a folder that cannot be made shows as the write's failure below
    std::filesystem::create_directories(out_dir, ignored);
    if (!(std::ofstream(file) << scenario_to_json(smallest).dump(2) << "\n")) {
      std::fprintf(stderr, "fuzz: cannot write %s\n", file.c_str());
    }
    print_report(smallest_report, stdout);
    std::printf("seed %llu run %d failed; smallest failing scenario: %s\nreproduce: vixy-chaos run %s --seed %llu\n",
                static_cast<unsigned long long>(seed), index, file.c_str(), file.c_str(),
                static_cast<unsigned long long>(options.seed));
  }
  std::printf("fuzz: %d of %d run(s) failed (seed %llu)\n", failed, runs, static_cast<unsigned long long>(seed));
  return failed > 0 ? 1 : 0;
}

}  // namespace vixy::chaos
