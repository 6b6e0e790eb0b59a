#pragma once
// `vixy-chaos run FILE... [--proxy-bin PATH] [--report out.json]`: for each scenario, start the
// fake nodes (behind fault injectors when the build has them) and the proxy under test on loopback
// ports, run the workload, apply the timeline, check the history, print and return the report.
// The proxy may be any binary that takes `--config FILE --listen ADDR`, logs
// `msg=listening what=proxy addr=HOST:PORT` and serves JSON-RPC over WebSocket on `/el/ws`.

#include <cstdio>
#include <memory>
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

// A scenario's processes, started once: its fake nodes (behind fault injectors when the build has
// them) and the proxy, ready. A run is one segment on a stage; `vixy-chaos soak` runs many on one,
// so that the proxy's memory and descriptors can be followed across them.
class Stage {
 public:
  // Starts everything; throws ScenarioError when the scenario cannot run in this build. When
  // something does not start, ready() is false and report.fatal says why.
  Stage(const Scenario& scenario, const RunOptions& options, RunReport& report);
  ~Stage();
  Stage(const Stage&) = delete;
  Stage& operator=(const Stage&) = delete;

  bool ready() const;
  Cluster& cluster();
  // The scenario's workload and timeline once (times from the segment's start), then the checks;
  // `report` gets the segment's findings.
  void run_segment(const Scenario& scenario, RunReport& report);
  // SIGTERM: unless the report already failed, the proxy must exit 0 within 15 s.
  void stop(RunReport& report);

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
  const RunOptions& o_;
};

// Runs one scenario; throws ScenarioError when the scenario cannot run in this build.
RunReport run_scenario(const Scenario& scenario, const std::string& file, const RunOptions& options);

// The `run` command; args are the words after "run". Returns the exit code (0 ok, 1 a violation,
// 2 a usage or scenario error).
int run_command(const std::vector<std::string>& args, const Binaries& defaults);

}  // namespace vixy::chaos
