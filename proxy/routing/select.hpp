#pragma once
// Node selection: pure functions over a health snapshot, so every decision is testable alone.

#include <cstddef>
#include <optional>
#include <vector>

#include "health/snapshot.hpp"

namespace vixy::routing {

// Healthy EL nodes in the order requests should try them: primaries in configuration order, then
// backups in configuration order. Empty when nothing is healthy.
std::vector<std::size_t> el_candidates(const health::LayerHealth& el);

// Healthy CL nodes in configuration order.
std::vector<std::size_t> cl_candidates(const health::LayerHealth& cl);

// The node a new request (or WebSocket session) should use: the first EL candidate.
std::optional<std::size_t> best_el(const health::LayerHealth& el);

}  // namespace vixy::routing
