#include "routing/el_router.hpp"

#include <algorithm>
#include <iterator>

#include "routing/select.hpp"

namespace vixy::routing {

std::optional<Strategy> strategy_named(std::string_view name) {
  if (name == "priority") return Strategy::priority;
  if (name == "round_robin") return Strategy::round_robin;
  if (name == "least_latency") return Strategy::least_latency;
  return std::nullopt;
}

const char* to_string(Reason reason) {
  switch (reason) {
    case Reason::priority: return "priority";
    case Reason::round_robin: return "round_robin";
    case Reason::least_latency: return "least_latency";
    case Reason::explore: return "explore";
    case Reason::block: return "block";
    case Reason::kCount: break;
  }
  return "unknown";
}

ElRouter::ElRouter(Strategy strategy, std::size_t nodes) : strategy_(strategy), average_ns_(nodes), seen_(nodes) {}

void ElRouter::head_seen(std::size_t node, std::uint64_t number) {
  if (node < seen_.size()) seen_[node] = std::max(seen_[node], number);
}

void ElRouter::round_changed() { std::fill(seen_.begin(), seen_.end(), 0); }

void ElRouter::answered(std::size_t node, std::chrono::nanoseconds took) {
  if (node >= average_ns_.size()) return;
  constexpr double kWeight = 0.2;  // the last ~5 answers dominate: a node that slows down shows soon
  auto sample = static_cast<double>(took.count());
  auto& average = average_ns_[node];
  average = average ? *average + kWeight * (sample - *average) : sample;
}

bool ElRouter::has_choice(const health::LayerHealth& el) {
  std::size_t primaries = 0, backups = 0;
  for (const auto& node : el.nodes) {
    if (!node.healthy) continue;
    (node.tier == config::Tier::primary ? primaries : backups) += 1;
  }
  return primaries > 1 || (primaries == 0 && backups > 1);
}

namespace {

// std::stable_partition and std::stable_sort take a temporary buffer from the heap; a tier holds a
// handful of nodes, and this runs for every HTTP request. In place, stable, no allocation.
template <class It, class Predicate>
It stable_partition_in_place(It first, It last, Predicate keep_first) {
  It out = first;
  for (It it = first; it != last; ++it) {
    if (keep_first(*it)) {
      std::rotate(out, it, std::next(it));
      ++out;
    }
  }
  return out;
}

template <class It, class Less>
void stable_insertion_sort(It first, It last, Less less) {
  for (It it = first; it != last; ++it) {
    std::rotate(std::upper_bound(first, it, *it, less), it, std::next(it));
  }
}

}  // namespace

ElRouter::Choice ElRouter::order(const health::LayerHealth& el, RequestBlock block) {
  Choice choice;
  // The answer is built in this one vector: the best tier's nodes at its front are reordered, the
  // rest (other tiers, for retries) stay behind them in configuration order.
  auto candidates = el_candidates(el);
  if (candidates.empty()) return choice;
  // The best tier: the leading candidates of the first one's tier.
  auto tier = el.nodes[candidates.front()].tier;
  auto tier_end = std::find_if(candidates.begin(), candidates.end(),
                               [&](std::size_t node) { return el.nodes[node].tier != tier; });

  // Block-aware: the nodes that can answer go first, the others stay behind them for retries. A
  // block no node is known to have yet (heads move between health rounds) goes to the highest head.
  auto height = [&](std::size_t node) {
    return std::max(el.nodes[node].height.value_or(0), node < seen_.size() ? seen_[node] : 0);
  };
  std::uint64_t top = 0;
  for (auto it = candidates.begin(); it != tier_end; ++it) top = std::max(top, height(*it));
  std::uint64_t needed = block.kind == RequestBlock::Kind::latest ? top
                         : block.kind == RequestBlock::Kind::number ? std::min(block.number, top)
                                                                    : 0;
  auto able_end = stable_partition_in_place(candidates.begin(), tier_end,
                                            [&](std::size_t node) { return height(node) >= needed; });
  bool narrowed = able_end != tier_end;
  const auto able = static_cast<std::size_t>(able_end - candidates.begin());

  // The configured strategy names the choice unless the block decided it (also when the tier had
  // one node: a dashboard then shows the strategy in force).
  constexpr Reason kByStrategy[] = {Reason::priority, Reason::round_robin, Reason::least_latency};
  choice.reason = narrowed ? Reason::block : kByStrategy[static_cast<std::size_t>(strategy_)];
  if (able > 1) {
    switch (strategy_) {
      case Strategy::priority:
        break;
      case Strategy::round_robin:
        std::rotate(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(turn_++ % able), able_end);
        break;
      case Strategy::least_latency: {
        // Unmeasured nodes first (as fastest), then by average; ties keep configuration order.
        stable_insertion_sort(candidates.begin(), able_end, [&](std::size_t a, std::size_t b) {
          return average_ns_[a].value_or(0) < average_ns_[b].value_or(0);
        });
        if (++turn_ % kExploreEvery == 0) {
          // Another node of the tier, in turn, so each is measured every few explorations.
          auto other = 1 + (turn_ / kExploreEvery) % (able - 1);
          std::swap(candidates[0], candidates[other]);
          if (!narrowed) choice.reason = Reason::explore;
        }
        break;
      }
    }
  }
  choice.order = std::move(candidates);
  return choice;
}

std::vector<std::size_t> session_order(std::vector<std::size_t> candidates, const std::vector<config::Tier>& tiers,
                                       Strategy strategy, std::uint64_t turn, const ElRouter* router) {
  if (candidates.size() < 2 || strategy == Strategy::priority) return candidates;
  auto tier_of = [&](std::size_t node) { return node < tiers.size() ? tiers[node] : config::Tier::backup; };
  auto tier = tier_of(candidates.front());
  auto end = std::find_if(candidates.begin(), candidates.end(), [&](std::size_t node) { return tier_of(node) != tier; });
  auto size = static_cast<std::uint64_t>(end - candidates.begin());
  if (size < 2) return candidates;
  if (strategy == Strategy::round_robin) {
    std::rotate(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(turn % size), end);
  } else if (router != nullptr) {
    std::stable_sort(candidates.begin(), end, [&](std::size_t a, std::size_t b) {
      return router->average_ns(a).value_or(0) < router->average_ns(b).value_or(0);
    });
  }
  return candidates;
}

}  // namespace vixy::routing
