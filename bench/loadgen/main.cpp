// vixy-loadgen: the load generator of the benchmark (bench/README.md). One mode per run, one
// thread, one JSON line of results on stdout, so bench/run.py can repeat and compare runs.
#include <exception>
#include <iostream>
#include <string>

#include "common.hpp"

namespace lg = vixy::loadgen;

namespace {
const char* kUsage = R"(vixy-loadgen MODE --key value ...
  http      --target H:P [--path /el] [--body blockNumber|call4k|batch10] [--concurrency N]
            [--duration S] [--warmup S] [--rate R]   closed loop, or open loop at R requests/s when --rate
  ws-rtt    --target H:P [--path /el/ws] [--concurrency N] [--duration S] [--warmup S]
  ws-notify --target H:P [--path /el/ws] [--subscribers N] [--duration S] [--warmup S]
  ws-idle   --target H:P [--path /el/ws] [--sessions N] [--subscribe 1] [--read 1] [--check 1]
            open N sessions (each subscribed to newHeads with --subscribe 1), print, hold until killed
            (with --read 1 reading and dropping what arrives meanwhile; with --check 1 also checking
            that heads come one height after another, summarised in a second line when killed)
  failover  --target H:P --primary-admin H:P [--settle S] [--down S] [--failback-timeout S]
Results: one JSON object on stdout. Exit 0 ok, 1 run failed, 2 bad usage.
)";
}

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  std::string mode = argv[1];
  try {
    lg::Options options(argc, argv, 2);
    if (mode == "http") return lg::run_http(options);
    if (mode == "ws-rtt") return lg::run_ws_rtt(options);
    if (mode == "ws-notify") return lg::run_ws_notify(options);
    if (mode == "ws-idle") return lg::run_ws_idle(options);
    if (mode == "failover") return lg::run_failover(options);
    std::cerr << "vixy-loadgen: unknown mode '" << mode << "'\n" << kUsage;
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "vixy-loadgen " << mode << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "vixy-loadgen " << mode << ": " << e.what() << "\n";
    return 1;
  }
}
