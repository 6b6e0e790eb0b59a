#pragma once
// `vixy-chaos run FILE... [--proxy-bin PATH] [--report out.json]`: for each scenario, start the
// fake nodes (behind fault injectors when the build has them) and the proxy under test on loopback
// ports, run the workload, apply the timeline, check the history, print and return the report.
// The proxy may be any binary that takes `--config FILE --listen ADDR`, logs
// `msg=listening what=proxy addr=HOST:PORT` and serves JSON-RPC over WebSocket on `/el/ws`.

#include <cstdio>
#include <string>
#include <vector>

#include "chaos/cluster.hpp"
#include "chaos/report.hpp"
#include "chaos/scenario.hpp"

namespace vixy::chaos {

struct RunOptions {
  Binaries binaries;
  std::FILE* progress = stdout;  // progress lines; nullptr for none
  std::uint64_t seed = 1;        // the workload's random choices
  std::string histories_path;    // when set: every connection's history as JSON lines (for debugging)
};

// Runs one scenario; throws ScenarioError when the scenario cannot run in this build.
RunReport run_scenario(const Scenario& scenario, const std::string& file, const RunOptions& options);

// The `run` command; args are the words after "run". Returns the exit code (0 ok, 1 a violation,
// 2 a usage or scenario error).
int run_command(const std::vector<std::string>& args, const Binaries& defaults);

}  // namespace vixy::chaos
