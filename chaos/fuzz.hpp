#pragma once
// `vixy-chaos fuzz [--seed S] [--runs N] [--duration D]`: draws random topologies, workloads and
// fault timelines from the seed, runs each like `vixy-chaos run`, and on a failure shrinks the
// timeline to a smaller one that still fails, writes it as a scenario file and prints the command
// that reproduces it.

#include <cstdint>
#include <string>
#include <vector>

#include "chaos/cluster.hpp"
#include "chaos/scenario.hpp"

namespace vixy::chaos {

// When the drawn faults end: every node is restarted and cleared then, so failback (I6) is
// checked; the run goes on for the failback bound plus a margin afterwards.
int recovery_at_ms(int duration_ms);

// The scenario of one fuzz run: the same seed, index and duration always give the same scenario.
Scenario draw_scenario(std::uint64_t seed, int index, int duration_ms, bool with_injector);

// Smaller timelines to try when `failing` failed: the fault events (those before recovery) with a
// half, then single events, removed. Recovery events are always kept.
std::vector<Scenario> shrink_candidates(const Scenario& failing);

int fuzz_command(const std::vector<std::string>& args, const Binaries& defaults);

}  // namespace vixy::chaos
