#pragma once
// I7 (gapless subscriptions) on recorded client histories, pure like the rest of the checker.
//
// newHeads, per subscription: every head's height is the last delivered height + 1, or at most the
// last (a reorg: allowed, the stream continues from it), and no hash comes twice. A gap wider than
// the bound (the proxy's backfill bound) is counted, not a violation; so is a reorg deeper than it.
//
// logs, per subscription: no (blockHash, logIndex) is delivered twice while it stands ("removed":
// true takes a delivered log back); every log must match the subscription's own filter (read from
// its eth_subscribe request); when the subscription ends, at each height between its first and its
// last delivered log (the last height excluded: its burst may have been cut; so are the heights of
// the removals a stream ends with, a reorg's burst cut before its new logs) the logs standing are
// those of one block and are all of that block's logs the filter selects. Which logs a filter
// selects is known from the fake chain's layout (a log's address and event signature depend on
// its height and index only) for filters on address and topic 0; with the chain itself (its seed
// and the reorgs the timeline applied) for any filter, and then every head and log must also be a
// block of that chain.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chaos/history.hpp"
#include "fakenodes/chain.hpp"

namespace vixy::chaos {

struct GaplessSpec {
  std::uint64_t bound = 128;
  std::optional<std::uint64_t> chain_seed;  // the chain the nodes served, when known
  std::vector<fakenodes::Fork> forks;       // with chain_seed: every reorg applied, in order
};

struct GaplessFinding {
  const ConnectionHistory* history = nullptr;
  SteadyTime at{};
  std::string message;
};

struct GaplessReport {
  std::vector<GaplessFinding> violations;  // in the order found
  std::size_t head_subscriptions = 0;
  std::size_t log_subscriptions = 0;
  std::size_t heads = 0;
  std::size_t logs = 0;
  std::size_t removed_logs = 0;
  std::size_t reorgs = 0;          // heads at or below the last delivered height
  std::size_t deep_reorgs = 0;     // of those, deeper than the bound
  std::size_t unlinked = 0;        // heads one above the last whose parent is not the last head
  std::size_t unfilled_gaps = 0;   // gaps wider than the bound
  std::size_t unjudged_filters = 0;  // logs subscriptions whose completeness could not be judged
  std::uint64_t bound = 0;
  std::string note() const;  // what was checked, for the report
};

GaplessReport check_gapless(const std::vector<ConnectionHistory>& histories, const GaplessSpec& spec);

}  // namespace vixy::chaos
