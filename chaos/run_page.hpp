#pragma once
// A run as one self-contained HTML page (`vixy-chaos run FILE --html OUT`): the verdicts, then an
// SVG timeline of the faults on each node, the node each client session was on, every request's
// wait, each subscription's notifications, and every kept violation marked where it happened with
// its evidence. No scripts, fonts or anything fetched: it opens from a CI artifact folder as is.

#include <string>
#include <vector>

#include "chaos/report.hpp"
#include "chaos/scenario.hpp"

namespace vixy::chaos {

// A fault as the page draws it: a span on one node's lane (to_ms: when it was undone, or the end
// of the run), or an instant (from_ms == to_ms: close_all, reset, reorg, a signal to the proxy).
struct FaultSpan {
  std::string node;
  std::string what;  // "down", "blackholed", "eth_getBalance delayed 300 ms", ...
  double from_ms = 0;
  double to_ms = 0;
};

// The faults of the timeline as applied, paired with what undid them.
std::vector<FaultSpan> fault_spans(const std::vector<AppliedEvent>& timeline, double end_ms);

std::string render_run_page(const Scenario& scenario, const RunReport& report);

}  // namespace vixy::chaos
