// Properties of HTTP EL routing (routing/el_router.hpp): [routing] strategy within the best healthy
// tier and block-aware ordering, over random layers of nodes, heights and requests.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "routing/el_router.hpp"

namespace vixy::routing {
namespace {

using config::Tier;

health::LayerHealth gen_layer(std::size_t min_primaries_healthy = 0) {
  health::LayerHealth layer;
  auto n = std::max(min_primaries_healthy, *rc::gen::inRange<std::size_t>(1, 7));
  for (std::size_t i = 0; i < n; ++i) {
    health::NodeHealth node;
    node.name = "n" + std::to_string(i);
    node.tier = i < min_primaries_healthy ? Tier::primary : *rc::gen::element(Tier::primary, Tier::backup);
    node.healthy = i < min_primaries_healthy || *rc::gen::arbitrary<bool>();
    // Now and then a node whose height is not known (it counts as behind every other).
    if (*rc::gen::inRange(0, 8) > 0) node.height = 100 + *rc::gen::inRange<std::uint64_t>(0, 6);
    layer.nodes.push_back(node);
  }
  return layer;
}

RequestBlock gen_block() {
  switch (*rc::gen::inRange(0, 3)) {
    case 0: return {};
    case 1: return {RequestBlock::Kind::latest};
    default: return {RequestBlock::Kind::number, 98 + *rc::gen::inRange<std::uint64_t>(0, 10)};
  }
}

Strategy gen_strategy() { return *rc::gen::element(Strategy::priority, Strategy::round_robin, Strategy::least_latency); }

std::vector<std::size_t> healthy_of(const health::LayerHealth& layer, Tier tier) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < layer.nodes.size(); ++i) {
    if (layer.nodes[i].healthy && layer.nodes[i].tier == tier) out.push_back(i);
  }
  return out;
}

// The nodes a request may start on: the healthy primaries, or the healthy backups when none is.
std::vector<std::size_t> best_tier(const health::LayerHealth& layer) {
  auto primaries = healthy_of(layer, Tier::primary);
  return primaries.empty() ? healthy_of(layer, Tier::backup) : primaries;
}

RC_GTEST_PROP(ElRouter, EveryHealthyNodeOnceAndPrimariesBeforeBackups, ()) {
  auto layer = gen_layer();
  ElRouter router(gen_strategy(), layer.nodes.size());
  RC_ASSERT(ElRouter::has_choice(layer) == (best_tier(layer).size() > 1));
  for (int request = 0; request < 30; ++request) {
    auto order = router.order(layer, gen_block()).order;
    auto primaries = healthy_of(layer, Tier::primary);
    auto backups = healthy_of(layer, Tier::backup);
    RC_ASSERT(order.size() == primaries.size() + backups.size());
    std::set<std::size_t> head(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(primaries.size()));
    RC_ASSERT(head == std::set<std::size_t>(primaries.begin(), primaries.end()));
    std::set<std::size_t> tail(order.begin() + static_cast<std::ptrdiff_t>(primaries.size()), order.end());
    RC_ASSERT(tail == std::set<std::size_t>(backups.begin(), backups.end()));
    if (*rc::gen::arbitrary<bool>()) router.answered(*rc::gen::elementOf(order.empty() ? std::vector<std::size_t>{0} : order),
                                                     std::chrono::microseconds(*rc::gen::inRange(1, 5000)));
  }
}

// A request naming block N starts on a node of the best tier known to have N when one is, on the
// tier's highest head when none is; "latest" starts on the highest head.
RC_GTEST_PROP(ElRouter, ARequestStartsOnANodeThatHasItsBlock, ()) {
  auto layer = gen_layer(1);
  ElRouter router(gen_strategy(), layer.nodes.size());
  auto tier = best_tier(layer);
  std::uint64_t top = 0;
  for (auto node : tier) top = std::max(top, layer.nodes[node].height.value_or(0));
  for (int request = 0; request < 30; ++request) {
    auto block = gen_block();
    auto first = router.order(layer, block).order.front();
    RC_ASSERT(std::find(tier.begin(), tier.end(), first) != tier.end());
    auto height = layer.nodes[first].height.value_or(0);
    if (block.kind == RequestBlock::Kind::latest) RC_ASSERT(height == top);
    if (block.kind == RequestBlock::Kind::number) RC_ASSERT(height >= std::min(block.number, top));
  }
}

// Retries go in configuration order: with priority, the best tier's nodes that have the block,
// then its others, then the other tiers, each group as configured (the order is written out here).
RC_GTEST_PROP(ElRouter, PriorityKeepsConfigurationOrderWithinEachGroup, ()) {
  // Often several healthy primaries, some behind: the groups' orders are then worth checking.
  auto layer = gen_layer(*rc::gen::inRange<std::size_t>(0, 6));
  ElRouter router(Strategy::priority, layer.nodes.size());
  auto block = gen_block();
  if (block.kind == RequestBlock::Kind::none) block.kind = RequestBlock::Kind::latest;
  auto tier = best_tier(layer);
  std::uint64_t top = 0;
  for (auto node : tier) top = std::max(top, layer.nodes[node].height.value_or(0));
  const std::uint64_t needed = block.kind == RequestBlock::Kind::latest   ? top
                               : block.kind == RequestBlock::Kind::number ? std::min(block.number, top)
                                                                          : 0;
  std::vector<std::size_t> expected, behind;
  for (auto node : tier) (layer.nodes[node].height.value_or(0) >= needed ? expected : behind).push_back(node);
  expected.insert(expected.end(), behind.begin(), behind.end());
  if (!tier.empty() && layer.nodes[tier.front()].tier == Tier::primary) {
    auto backups = healthy_of(layer, Tier::backup);
    expected.insert(expected.end(), backups.begin(), backups.end());
  }
  RC_ASSERT(router.order(layer, block).order == expected);
}

// least_latency: fastest first, and nodes measured alike (or not yet) stay in configuration order.
RC_GTEST_PROP(ElRouter, LeastLatencyTiesKeepConfigurationOrder, ()) {
  auto layer = gen_layer(2);
  ElRouter router(Strategy::least_latency, layer.nodes.size());
  // Few distinct durations, so ties are common.
  for (std::size_t node = 0; node < layer.nodes.size(); ++node) {
    if (*rc::gen::arbitrary<bool>()) router.answered(node, std::chrono::milliseconds(*rc::gen::inRange(1, 3)));
  }
  auto tier = best_tier(layer);
  auto order = router.order(layer, {}).order;  // the first decision: no exploration yet
  RC_ASSERT(order.size() >= tier.size());
  for (std::size_t i = 1; i < tier.size(); ++i) {
    const double before = router.average_ns(order[i - 1]).value_or(0), here = router.average_ns(order[i]).value_or(0);
    RC_ASSERT(before <= here);
    if (before == here) RC_ASSERT(order[i - 1] < order[i]);
  }
}

RC_GTEST_PROP(ElRouter, RoundRobinStartsOnEachNodeOfTheTierInTurn, ()) {
  auto layer = gen_layer(2);
  for (auto& node : layer.nodes) node.height = 100;  // nothing for block-aware routing to choose
  ElRouter router(Strategy::round_robin, layer.nodes.size());
  auto tier = best_tier(layer);
  auto rounds = *rc::gen::inRange<std::size_t>(1, 5);
  std::map<std::size_t, std::size_t> firsts;
  for (std::size_t request = 0; request < rounds * tier.size(); ++request) {
    auto choice = router.order(layer, gen_block());
    ++firsts[choice.order.front()];
    RC_ASSERT(choice.reason == Reason::round_robin);
  }
  RC_ASSERT(firsts.size() == tier.size());
  for (auto [node, count] : firsts) RC_ASSERT(count == rounds);
}

RC_GTEST_PROP(ElRouter, LeastLatencyStartsOnTheFastestAndMeasuresEveryOtherNodeNowAndThen, ()) {
  auto layer = gen_layer(2);
  for (auto& node : layer.nodes) node.height = 100;
  ElRouter router(Strategy::least_latency, layer.nodes.size());
  auto tier = best_tier(layer);
  // Distinct speeds; the fastest is a random one of the tier.
  auto fastest = *rc::gen::elementOf(tier);
  for (auto node : tier) router.answered(node, std::chrono::milliseconds(node == fastest ? 1 : 10 + static_cast<int>(node)));
  std::set<std::size_t> explored;
  auto requests = ElRouter::kExploreEvery * (tier.size() - 1) * 2;
  for (std::size_t request = 0; request < requests; ++request) {
    auto choice = router.order(layer, {});
    if (choice.reason == Reason::explore) {
      RC_ASSERT(choice.order.front() != fastest);
      explored.insert(choice.order.front());
    } else {
      RC_ASSERT(choice.reason == Reason::least_latency);
      RC_ASSERT(choice.order.front() == fastest);
    }
  }
  RC_ASSERT(explored.size() == tier.size() - 1);
}

// WebSocket sessions: each session's turn rotates the best tier's run of the candidates and
// nothing else; consecutive turns start on each node of the tier once per round.
RC_GTEST_PROP(ElRouter, SessionOrderRotatesOnlyTheBestTier, ()) {
  auto layer = gen_layer();
  std::vector<config::Tier> tiers;
  for (const auto& node : layer.nodes) tiers.push_back(node.tier);
  auto candidates = [&] {
    auto primaries = healthy_of(layer, Tier::primary), backups = healthy_of(layer, Tier::backup);
    primaries.insert(primaries.end(), backups.begin(), backups.end());
    return primaries;
  }();
  auto tier = best_tier(layer);
  RC_ASSERT(session_order(candidates, tiers, Strategy::priority, 5, nullptr) == candidates);
  std::map<std::size_t, std::size_t> firsts;
  for (std::uint64_t turn = 0; turn < 3 * std::max<std::size_t>(tier.size(), 1); ++turn) {
    auto order = session_order(candidates, tiers, Strategy::round_robin, turn, nullptr);
    RC_ASSERT(std::is_permutation(order.begin(), order.end(), candidates.begin(), candidates.end()));
    RC_ASSERT(std::equal(order.begin() + static_cast<std::ptrdiff_t>(tier.size()), order.end(),
                         candidates.begin() + static_cast<std::ptrdiff_t>(tier.size()), candidates.end()));
    if (!order.empty()) ++firsts[order.front()];
  }
  for (auto node : tier) RC_ASSERT(firsts[node] == 3u);
}

// `count` healthy primaries, all at `height`.
health::LayerHealth level_layer(int count, std::uint64_t height) {
  health::LayerHealth layer;
  for (int i = 0; i < count; ++i) {
    health::NodeHealth node;
    node.name = "n" + std::to_string(i);
    node.healthy = true;
    node.height = height;
    layer.nodes.push_back(node);
  }
  return layer;
}

TEST(ElRouter, AnUnmeasuredNodeIsTriedBeforeMeasuredOnesAndAveragesFollowTheLastAnswers) {
  auto layer = level_layer(3, 7);
  ElRouter router(Strategy::least_latency, 3);
  router.answered(0, std::chrono::milliseconds(5));
  router.answered(1, std::chrono::milliseconds(1));
  EXPECT_EQ(router.order(layer, {}).order, (std::vector<std::size_t>{2, 1, 0}));
  for (int i = 0; i < 30; ++i) router.answered(1, std::chrono::milliseconds(50));
  router.answered(2, std::chrono::milliseconds(9));
  EXPECT_EQ(router.order(layer, {}).order.front(), 0u) << "node 1 became slow";
  EXPECT_NEAR(*router.average_ns(1), 50e6, 1e6);
}

// Heads a node sent on a WebSocket subscription since the last health round count as its known
// head: a block only that node is known to have goes there first. A new round forgets them (its
// heads are read afresh; a node may have restarted behind).
TEST(ElRouter, HeadsSeenBetweenHealthRoundsCountUntilTheNextRound) {
  auto layer = level_layer(2, 100);
  ElRouter router(Strategy::priority, 2);
  const RequestBlock block{RequestBlock::Kind::number, 102};
  EXPECT_EQ(router.order(layer, block).order, (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(router.order(layer, block).reason, Reason::priority);
  router.head_seen(1, 101);
  router.head_seen(1, 102);
  router.head_seen(1, 99);  // an older head, from another socket of the node: no step back
  auto choice = router.order(layer, block);
  EXPECT_EQ(choice.order, (std::vector<std::size_t>{1, 0}));
  EXPECT_EQ(choice.reason, Reason::block);
  EXPECT_EQ(router.order(layer, {RequestBlock::Kind::latest}).order.front(), 1u);
  router.head_seen(7, 500);  // a node the router does not know: ignored
  router.round_changed();
  EXPECT_EQ(router.order(layer, block).order, (std::vector<std::size_t>{0, 1}));
}

}  // namespace
}  // namespace vixy::routing
