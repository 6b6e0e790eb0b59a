#pragma once
// The order one HTTP request tries the healthy EL nodes in: [routing] strategy among the best
// healthy tier (primaries, or backups while no primary is healthy; backups stay behind primaries),
// and block-aware routing before it: a request naming block N goes first to a node last known at N
// or above, and "latest" to a node at the tier's highest known head. A node's last known head is
// what the last health round read, or a newer head it sent on a WebSocket subscription since. One
// per thread (no lock).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "health/snapshot.hpp"
#include "routing/request_block.hpp"

namespace vixy::routing {

enum class Strategy { priority, round_robin, least_latency };
std::optional<Strategy> strategy_named(std::string_view name);

// Why the first node was chosen (vixy_routing_requests_total{node,reason}).
enum class Reason { priority, round_robin, least_latency, explore, block, kCount };
const char* to_string(Reason reason);

class ElRouter {
 public:
  // Every kExploreEvery-th least_latency decision goes to another node of the tier, so a node
  // that was slow (or down) is measured again.
  static constexpr std::uint64_t kExploreEvery = 20;

  ElRouter(Strategy strategy, std::size_t nodes);

  struct Choice {
    std::vector<std::size_t> order;  // every healthy node, once; empty when none is healthy
    Reason reason = Reason::priority;
  };
  Choice order(const health::LayerHealth& el, RequestBlock block);
  // Whether the best healthy tier has more than one node: otherwise neither the strategy nor the
  // request's block changes where it starts.
  static bool has_choice(const health::LayerHealth& el);
  // How long `node` took to answer (least_latency's measure): an exponentially weighted average.
  void answered(std::size_t node, std::chrono::nanoseconds took);
  // `node` sent head `number` on a WebSocket subscription: it has that block, whatever the last
  // health round read (heads move between rounds).
  void head_seen(std::size_t node, std::uint64_t number);
  // A health round's heads replace the ones seen before it (a node may have restarted behind).
  void round_changed();
  // Unset for a node this router does not know (one a reload added to older sessions' hub).
  std::optional<double> average_ns(std::size_t node) const {
    return node < average_ns_.size() ? average_ns_[node] : std::nullopt;
  }

 private:
  Strategy strategy_;
  std::uint64_t turn_ = 0;                       // round_robin's and exploration's counter
  std::vector<std::optional<double>> average_ns_;  // by node; unset until first measured
  std::vector<std::uint64_t> seen_;                // by node: the newest head seen since the round
};

// The order a WebSocket session tries nodes in (a new session, or one whose upstream failed):
// `candidates` (el_candidates' order) with the best tier's leading run reordered by the strategy:
// rotated by `turn` (round_robin: each session its own turn), by `router`'s averages
// (least_latency; no router: unchanged), unchanged for priority. A session keeps its upstream while
// it is healthy whatever this order says: only a better tier moves it (the session core's rule).
std::vector<std::size_t> session_order(std::vector<std::size_t> candidates, const std::vector<config::Tier>& tiers,
                                       Strategy strategy, std::uint64_t turn, const ElRouter* router);

}  // namespace vixy::routing
