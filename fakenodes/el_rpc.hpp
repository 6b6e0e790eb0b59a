#pragma once
// The fake EL node's JSON-RPC as pure functions of the chain and the node's head: what a method
// answers, and what subscribers are sent for a new block or a reorg. The socket node (el_node,
// el_ws) and the harness's deterministic simulation (chaos/sim_*) serve the same answers from here.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fakenodes/chain.hpp"
#include "fakenodes/filters.hpp"

namespace vixy::fakenodes {

struct Subscription {
  enum class Kind { new_heads, logs, pending_transactions } kind = Kind::new_heads;
  LogFilter filter;  // logs only
};
// One connection's subscriptions, by the id the node gave each.
using SubscriptionTable = std::map<std::string, Subscription>;

// What one new block means to subscribers, computed once per block for every connection.
struct BlockEvents {
  std::uint64_t height = 0;
  json header;
  std::vector<json> logs;
  std::vector<std::string> pending_transactions;
};
BlockEvents block_events(const Chain& chain, std::uint64_t height);

// What a reorg means to subscribers, in the order geth sends it (core/blockchain.go reorg() and
// SetCanonical(), eth/filters/filter_system.go):
//  * logs: the replaced blocks' logs again with "removed": true, oldest block first (geth's
//    RemovedLogsEvent goes out "in forward order", kept for legacy reasons), then the new blocks'
//    logs, oldest first, the new head's last;
//  * newHeads: only the new head (geth sends ChainEvent for the block that becomes the head, not
//    for the fork blocks below it), so a subscriber sees a head at a height it already saw, whose
//    parent it never saw.
struct ReorgEvents {
  std::vector<json> removed_logs;
  std::vector<json> added_logs;
  std::optional<json> new_head;
};
// The blocks from..removed_to of chain version old_tip (those subscribers were told of) were
// replaced; from..added_to of the current chain are owed to them. Either range may be empty.
ReorgEvents reorg_events(const Chain& chain, std::size_t old_tip, std::uint64_t from, std::uint64_t removed_to,
                         std::uint64_t added_to);

// The notification texts one connection's subscriptions get, in the order they are sent.
void for_each_notification(const SubscriptionTable& subscriptions, const BlockEvents& block,
                           const std::function<void(std::string)>& send);
void for_each_notification(const SubscriptionTable& subscriptions, const ReorgEvents& reorg,
                           const std::function<void(std::string)>& send);

// What a method's answer depends on besides its parameters.
struct ElState {
  const Chain& chain;
  std::uint64_t head = 0;          // the head the node serves
  std::uint64_t chain_height = 0;  // the head it would serve without lag or pause (eth_syncing)
  bool syncing = false;
  std::string_view version;        // web3_clientVersion
};

// Where eth_subscribe and eth_unsubscribe act: the connection's table and how a new id is made.
// A null table (HTTP) refuses both.
struct SubscriptionScope {
  SubscriptionTable* table = nullptr;
  std::function<std::string()> mint;
};

// The answer to one valid request with an id: a result, or the error the method ends in.
json el_reply(const ElState& state, const std::string& method, const json& params, const json& id,
              const SubscriptionScope& scope);

}  // namespace vixy::fakenodes
