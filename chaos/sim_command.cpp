// vixy-chaos sim: runs of the deterministic simulation, one seed each; a failure prints its faults
// and the one command that replays it exactly.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <exception>
#include <string>

#include "chaos/sim.hpp"

namespace vixy::chaos::sim {
namespace {

constexpr const char* kSimUsage =
    "usage: vixy-chaos sim [--seed S] [--runs N] [--minutes M] [--clients C] [--bug drop-answer|repeat-head] "
    "[--verbose] [--histories out.jsonl]\n";

std::string replay_command(const Options& o) {
  std::string command = "vixy-chaos sim --seed " + std::to_string(o.seed) + " --runs 1 --minutes " +
                        std::to_string(std::chrono::duration_cast<std::chrono::minutes>(o.duration).count()) +
                        " --clients " + std::to_string(o.clients);
  if (!o.bug.empty()) command += " --bug " + o.bug;
  return command;
}

}  // namespace

int sim_command(const std::vector<std::string>& args) {
  Options options;
  std::uint64_t runs = 1;
  bool verbose = false;
  std::string histories_path;  // every run's client histories, for debugging a failure
  try {
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& arg = args[i];
      const bool has_value = i + 1 < args.size();
      if (arg == "--seed" && has_value) {
        options.seed = std::stoull(args[++i]);
      } else if (arg == "--runs" && has_value) {
        runs = std::stoull(args[++i]);
      } else if (arg == "--minutes" && has_value) {
        options.duration = std::chrono::minutes(std::stoul(args[++i]));
      } else if (arg == "--clients" && has_value) {
        options.clients = std::stoi(args[++i]);
      } else if (arg == "--bug" && has_value) {
        options.bug = args[++i];
      } else if (arg == "--histories" && has_value) {
        histories_path = args[++i];
      } else if (arg == "--verbose") {
        verbose = true;
      } else {
        std::fprintf(stderr, "vixy-chaos sim: unknown argument \"%s\"\n%s", arg.c_str(), kSimUsage);
        return 2;
      }
    }
  } catch (const std::exception&) {
    std::fprintf(stderr, "vixy-chaos sim: not a number after %s\n%s", args.empty() ? "" : args.back().c_str(), kSimUsage);
    return 2;
  }
  int failed = 0;
  const std::uint64_t first_seed = options.seed;
  const auto started = std::chrono::steady_clock::now();
  for (std::uint64_t run = 0; run < runs; ++run) {
    options.seed = first_seed + run;
    const auto run_started = std::chrono::steady_clock::now();
    Result result;
    try {
      result = simulate(options);
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "vixy-chaos sim: %s\n%s", e.what(), kSimUsage);
      return 2;
    }
    const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_started).count();
    const auto& stats = result.check.stats;
    std::printf("sim seed %" PRIu64 ": %s  %" PRIu64 " simulated s in %.2f s; %zu connections, %zu requests, "
                "%zu notifications, %zu node messages; digest %016" PRIx64 "\n",
                options.seed, result.ok() ? "OK" : "FAILED", result.simulated_ms / 1000, took, stats.connections,
                stats.requests, stats.notifications, result.messages, result.digest);
    if (verbose || !result.ok()) {
      print_invariants(result.check, stdout);
      std::printf("  faults:\n");
      for (const auto& line : result.timeline) std::printf("    %s\n", line.c_str());
    }
    if (!histories_path.empty()) write_histories(histories_path, result.histories, result.origin);
    if (!result.ok()) {
      ++failed;
      std::printf("  replay: %s\n", replay_command(options).c_str());
    }
    std::fflush(stdout);
  }
  const auto total = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("sim: %d of %" PRIu64 " runs failed (%" PRIu64 " simulated minutes in %.1f s)\n", failed, runs,
              runs * static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::minutes>(options.duration).count()),
              total);
  return failed == 0 ? 0 : 1;
}

}  // namespace vixy::chaos::sim
