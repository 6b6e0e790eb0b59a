#pragma once
// The main job until the scenario runner exists: a primary/backup EL pair and a CL node behind
// the real vixy binary, traffic through it, the primary killed and brought back, and a summary.

#include "chaos/cluster.hpp"

namespace vixy::chaos {

// Prints its progress and summary on stdout; returns 0 when every client request was answered.
int run_demo(const Binaries& binaries);

}  // namespace vixy::chaos
