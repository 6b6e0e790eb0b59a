#pragma once
// The deterministic simulation (issue 16, "one seed, one run"): the proxy's sans-I/O pieces (a
// ws::SessionCore per client, a ws::mux::Multiplexer per node, the health decisions of
// health::next_layer and routing::el_candidates) composed with simulated EL nodes (the fake node's
// chain and JSON-RPC, fakenodes/el_rpc.hpp), a simulated network (per-message delay, delay spikes,
// lost connections, silent nodes) and a virtual clock, all driven by one seeded generator. Nothing
// reads the wall clock or the scheduler: a seed replays a run bit for bit (the digest says so),
// and simulated minutes cost milliseconds. The clients' histories go to the same checker as the
// real-socket runner's (chaos/checker.hpp); that runner stays, since only it proves the adapters.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "chaos/checker.hpp"

namespace vixy::chaos::sim {

struct Options {
  std::uint64_t seed = 1;
  std::chrono::milliseconds duration{std::chrono::minutes(5)};  // simulated
  int clients = 6;
  // A deliberately broken adapter, to show the checker sees what the simulation produces:
  // "drop-answer" loses one answer in 50 on its way to the client, "repeat-head" delivers one
  // newHeads notification in 50 twice. Empty: none.
  std::string bug;
};

struct Result {
  CheckReport check;
  std::uint64_t digest = 0;          // of every client history (kind, virtual time, text)
  std::vector<std::string> timeline;  // the faults drawn, one line each, in time order
  std::size_t messages = 0;           // proxy <-> node messages delivered
  std::uint64_t simulated_ms = 0;
  std::vector<ConnectionHistory> histories;  // what each client connection saw
  SteadyTime origin{};                       // the run's start on the virtual clock
  bool ok() const { return check.ok(); }
};

Result simulate(const Options& options);

// vixy-chaos sim [--seed S] [--runs N] [--minutes M] [--clients C] [--bug B] [--verbose] [--histories F]
int sim_command(const std::vector<std::string>& args);

}  // namespace vixy::chaos::sim
