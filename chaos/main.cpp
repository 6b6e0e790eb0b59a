// vixy-chaos: the harness's command line: the demo, the scenario runner, the fuzzer and the
// stand-alone fault injector.
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "chaos/demo.hpp"
#include "chaos/fuzz.hpp"
#include "chaos/inject_cli.hpp"
#include "chaos/runner.hpp"
#include "chaos/sim.hpp"
#include "chaos/soak.hpp"
#include "log/log.hpp"

namespace {

constexpr const char* kUsage = R"(usage: vixy-chaos demo [--vixy PATH] [--fakenode PATH]
       vixy-chaos run FILE... [--proxy-bin PATH] [--report out.json] [--fakenode PATH] [--seed N]
                      [--histories out.jsonl] [--jobs N] [--html OUT]
       vixy-chaos fuzz [--seed S] [--runs N] [--duration MS] [--proxy-bin PATH] [--out DIR] [--no-shrink]
       vixy-chaos sim [--seed S] [--runs N] [--minutes M] [--clients C] [--bug B] [--verbose]
       vixy-chaos soak [--minutes N] [--segment-ms MS] [--proxy-bin PATH] [--fakenode PATH] [--report out.json]
       vixy-chaos inject --target HOST:PORT [--listen PORT] [--control PORT]

  demo   start fake EL/CL nodes and the real vixy binary on loopback, send requests through it,
         kill the primary, show the failover and failback, and print a summary (exit 0 when no
         request was lost)
  run    run scenario files (scenarios/*.json) against the proxy: fake nodes, fault timeline,
         workload, invariant checks; prints a report per file, exit 0 all held, 1 a violation,
         2 a usage or scenario error
  inject run one fault-injecting TCP relay in front of HOST:PORT, switched at run time through a
         loopback HTTP control API (GET /state, POST /latency, /blackhole, /reset, /kill, ...)
  fuzz   run N random scenarios drawn from seed S (a fresh seed, printed, when none is given);
         a failure is shrunk to a smaller timeline, written to DIR and printed with the command
         that reproduces it; exit 1 when a run failed
  sim    the deterministic simulation: the proxy's session cores, node multiplexers and health
         decisions with simulated nodes, network and clock, faults drawn from seed S (runs use S,
         S+1, ...); the same checker as run; a seed replays its run exactly (same digest); exit 1
         when a run failed, printing its faults and the command that replays it
  soak   the incident's workload against one proxy for N minutes (default 60) in checked segments
         (a minute each), a fault every half segment; prints each segment's verdict and the
         proxy's resident memory and open descriptors; exit 1 on a violation or when they grow
  --vixy PATH       the proxy binary (default: ../proxy/vixy beside this program)
  --fakenode PATH   the fake node binary (default: ../fakenodes/vixy-fakenode beside this program)
)";

std::filesystem::path own_directory() {
  char buffer[PATH_MAX];
  auto n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0) return ".";
  return std::filesystem::path(std::string(buffer, static_cast<std::size_t>(n))).parent_path();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string command = argv[1];
  if (command == "inject") return vixy::chaos::run_inject({argv + 2, argv + argc});
  if (command == "sim") {
    setvbuf(stdout, nullptr, _IOLBF, 0);
    return vixy::chaos::sim::sim_command(std::vector<std::string>(argv + 2, argv + argc));
  }
  if (command != "demo" && command != "run" && command != "fuzz" && command != "soak") {
    std::fprintf(stderr, "vixy-chaos: unknown command \"%s\"\n%s", command.c_str(), kUsage);
    return 2;
  }
  // The runner prints every timeline event itself; the in-process injectors' own lines (started,
  // each fault, each refused connect) would only interleave with its progress.
  vixy::log::set_level(vixy::log::Level::warn);
  auto dir = own_directory();
  vixy::chaos::Binaries binaries{(dir / "../proxy/vixy").lexically_normal().string(),
                                 (dir / "../fakenodes/vixy-fakenode").lexically_normal().string()};
  if (command == "fuzz") return vixy::chaos::fuzz_command(std::vector<std::string>(argv + 2, argv + argc), binaries);
  if (command == "run") return vixy::chaos::run_command(std::vector<std::string>(argv + 2, argv + argc), binaries);
  if (command == "soak") return vixy::chaos::soak_command(std::vector<std::string>(argv + 2, argv + argc), binaries);
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    if ((arg == "--vixy" || arg == "--fakenode") && i + 1 < argc) {
      (arg == "--vixy" ? binaries.vixy : binaries.fakenode) = argv[++i];
    } else {
      std::fprintf(stderr, "vixy-chaos: unknown argument \"%s\"\n%s", argv[i], kUsage);
      return 2;
    }
  }
  setvbuf(stdout, nullptr, _IOLBF, 0);
  try {
    return vixy::chaos::run_demo(binaries);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vixy-chaos: %s\n", e.what());
    return 1;
  }
}
