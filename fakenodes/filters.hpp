#pragma once
// Log filters as eth_getLogs and eth_subscribe("logs") take them: which logs match, and which
// block range a filter names relative to a node's head.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fakenodes/chain.hpp"
#include "text/result.hpp"

namespace vixy::fakenodes {

struct LogFilter {
  std::vector<std::string> addresses;            // lowercase; empty = any address
  std::vector<std::vector<std::string>> topics;  // per position, lowercase alternatives; empty = any
};

// Reads "address" and "topics" of a filter object (other keys are ignored); on bad input, the
// problem.
Result<LogFilter> parse_log_filter(const json& filter);
bool matches(const LogFilter& filter, const json& log);
// False when a log with this address and first topic cannot match, whatever its other topics.
bool may_match(const LogFilter& filter, std::string_view address, std::string_view first_topic);

struct BlockRange {
  std::uint64_t from = 0;
  std::uint64_t to = 0;  // inclusive
};

// A block tag or hex number relative to the head: "earliest" is 0, "latest", "pending", "safe" and
// "finalized" are the head. nullopt when the text is neither.
std::optional<std::uint64_t> resolve_block_tag(const json& tag, std::uint64_t head);

struct RangeResult {
  std::optional<BlockRange> range;  // nullopt with error empty: nothing to return (empty result)
  std::size_t version = 0;          // the chain version whose blocks are meant (a blockHash may name a replaced one)
  int error_code = 0;
  std::string error;
};
// The range of an eth_getLogs filter: fromBlock/toBlock (default "latest") or blockHash. toBlock
// beyond the head is cut to the head; more than max_blocks blocks is an error (-32005). A blockHash
// of a block a reorg replaced still names it, as on geth.
RangeResult resolve_log_range(const json& filter, std::uint64_t head, const Chain& chain,
                              std::uint64_t max_blocks);

}  // namespace vixy::fakenodes
