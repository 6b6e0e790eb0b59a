#pragma once
// `vixy-chaos soak [--minutes N]`: the incident's workload against one proxy for a long time, a
// fault every half segment, in segments (a minute by default) that are each checked like a run;
// after each, the proxy's resident memory and open descriptors (its clients gone, so only what it
// keeps for itself). At the end both must be flat: a leak grows them segment after segment.

#include <cstddef>
#include <string>
#include <vector>

#include "chaos/cluster.hpp"
#include "chaos/scenario.hpp"

namespace vixy::chaos {

// Segment `index` of a soak whose segments last `segment_ms`: the workload, and two faults (from a
// rotation: kill, close_all, blackhole, lag, method errors) each undone well before the end, so
// failback is checked in every segment.
Scenario soak_segment(int index, int segment_ms);

struct SoakSample {
  double rss_mb = 0;
  std::size_t descriptors = 0;
};

// Flat: after the warm-up (the first `warmup` samples), the last sample is within 25 % + 4 MB of
// resident memory and 8 descriptors of the first one after it. "" when flat, else what grew.
std::string soak_growth(const std::vector<SoakSample>& samples, std::size_t warmup = 1);

int soak_command(const std::vector<std::string>& args, const Binaries& defaults);

}  // namespace vixy::chaos
