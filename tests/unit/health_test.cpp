// Example-based tests of the health rules (ARCHITECTURE §4 Health) and of node selection.
#include <gtest/gtest.h>

#include <stdexcept>

#include "health/snapshot.hpp"
#include "routing/select.hpp"

namespace vixy::health {
namespace {

using config::Tier;

CheckResult ok(std::uint64_t height) { return {CheckOutcome::ok, height, ""}; }
CheckResult syncing(std::uint64_t height = 0) { return {CheckOutcome::syncing, height, "206"}; }
CheckResult failed() { return {CheckOutcome::failed, 0, "connection refused"}; }

LayerHealth two_primaries_one_backup() {
  return initial_el({{"p1", "http://a", "ws://a", Tier::primary},
                     {"p2", "http://b", "ws://b", Tier::primary},
                     {"b1", "http://c", "ws://c", Tier::backup}});
}

const Thresholds kThresholds{/*max_lag=*/5, /*max_failures=*/3};

TEST(HealthInitial, ElKeepsConfigOrderAndTiersAllUnhealthy) {
  auto layer = two_primaries_one_backup();
  ASSERT_EQ(layer.nodes.size(), 3u);
  EXPECT_EQ(layer.nodes[0].name, "p1");
  EXPECT_EQ(layer.nodes[2].name, "b1");
  EXPECT_EQ(layer.nodes[2].tier, Tier::backup);
  for (const auto& node : layer.nodes) {
    EXPECT_FALSE(node.healthy);
    EXPECT_FALSE(node.checked);
    EXPECT_FALSE(node.height.has_value());
  }
  EXPECT_EQ(layer.healthy_count, 0u);
  EXPECT_EQ(layer.chain_head, 0u);
}

TEST(HealthInitial, ClNodesArePrimary) {
  auto layer = initial_cl({{"c1", "http://x"}, {"c2", "http://y"}});
  ASSERT_EQ(layer.nodes.size(), 2u);
  EXPECT_EQ(layer.nodes[1].name, "c2");
  EXPECT_EQ(layer.nodes[0].tier, Tier::primary);
  EXPECT_EQ(layer.nodes[1].tier, Tier::primary);
  EXPECT_FALSE(layer.nodes[0].healthy);
}

TEST(HealthNextLayer, ChainHeadIsHighestHeightAndLagIsDistanceToIt) {
  auto layer = next_layer(two_primaries_one_backup(), {ok(100), ok(97), ok(90)}, kThresholds);
  EXPECT_EQ(layer.chain_head, 100u);
  EXPECT_EQ(layer.nodes[0].lag, 0u);
  EXPECT_EQ(layer.nodes[1].lag, 3u);
  EXPECT_EQ(layer.nodes[2].lag, 10u);
  EXPECT_TRUE(layer.nodes[0].healthy);
  EXPECT_TRUE(layer.nodes[1].healthy);
  EXPECT_FALSE(layer.nodes[2].healthy);  // 10 > max_lag 5
  EXPECT_EQ(layer.healthy_count, 2u);
  EXPECT_TRUE(layer.nodes[0].checked);
  EXPECT_EQ(layer.nodes[0].last_detail, "ok");
}

TEST(HealthNextLayer, LagExactlyAtMaximumIsHealthyOneMoreIsNot) {
  auto layer = next_layer(two_primaries_one_backup(), {ok(100), ok(95), ok(94)}, kThresholds);
  EXPECT_TRUE(layer.nodes[1].healthy);
  EXPECT_FALSE(layer.nodes[2].healthy);
}

TEST(HealthNextLayer, NodeBecomesUnhealthyByLagAndRecoversWhenCaughtUp) {
  auto layer = next_layer(two_primaries_one_backup(), {ok(100), ok(100), ok(100)}, kThresholds);
  EXPECT_TRUE(layer.nodes[1].healthy);
  layer = next_layer(layer, {ok(110), ok(100), ok(110)}, kThresholds);
  EXPECT_FALSE(layer.nodes[1].healthy);
  EXPECT_EQ(layer.nodes[1].lag, 10u);
  layer = next_layer(layer, {ok(111), ok(111), ok(111)}, kThresholds);
  EXPECT_TRUE(layer.nodes[1].healthy);
  EXPECT_EQ(layer.healthy_count, 3u);
}

TEST(HealthNextLayer, FailuresBelowThresholdKeepNodeHealthyWithItsLastHeight) {
  auto layer = next_layer(two_primaries_one_backup(), {ok(100), ok(100), ok(100)}, kThresholds);
  layer = next_layer(layer, {failed(), ok(100), ok(100)}, kThresholds);
  EXPECT_EQ(layer.nodes[0].consecutive_failures, 1u);
  EXPECT_EQ(layer.nodes[0].height, 100u);
  EXPECT_EQ(layer.nodes[0].last_outcome, CheckOutcome::failed);
  EXPECT_EQ(layer.nodes[0].last_detail, "connection refused");
  EXPECT_TRUE(layer.nodes[0].healthy);
  layer = next_layer(layer, {failed(), ok(100), ok(100)}, kThresholds);
  EXPECT_TRUE(layer.nodes[0].healthy);
  layer = next_layer(layer, {failed(), ok(100), ok(100)}, kThresholds);
  EXPECT_EQ(layer.nodes[0].consecutive_failures, 3u);
  EXPECT_FALSE(layer.nodes[0].healthy);
  EXPECT_EQ(layer.healthy_count, 2u);
}

TEST(HealthNextLayer, FailingNodeAlsoLosesHealthWhenTheHeadMovesAway) {
  auto layer = next_layer(two_primaries_one_backup(), {ok(100), ok(100), ok(100)}, kThresholds);
  layer = next_layer(layer, {failed(), ok(106), ok(106)}, kThresholds);
  EXPECT_EQ(layer.nodes[0].lag, 6u);
  EXPECT_FALSE(layer.nodes[0].healthy);
}

TEST(HealthNextLayer, SuccessAfterFailuresResetsCountAndRestoresHealth) {
  auto layer = next_layer(two_primaries_one_backup(), {ok(100), ok(100), ok(100)}, kThresholds);
  for (int i = 0; i < 4; ++i) layer = next_layer(layer, {failed(), ok(100), ok(100)}, kThresholds);
  EXPECT_FALSE(layer.nodes[0].healthy);
  layer = next_layer(layer, {ok(101), ok(101), ok(101)}, kThresholds);
  EXPECT_EQ(layer.nodes[0].consecutive_failures, 0u);
  EXPECT_TRUE(layer.nodes[0].healthy);
}

TEST(HealthNextLayer, SyncingNodeIsUnhealthyAtOnce) {
  auto layer = next_layer(two_primaries_one_backup(), {ok(100), ok(100), ok(100)}, kThresholds);
  layer = next_layer(layer, {syncing(), ok(100), ok(100)}, kThresholds);
  EXPECT_FALSE(layer.nodes[0].healthy);
  EXPECT_EQ(layer.nodes[0].consecutive_failures, 0u);
  EXPECT_EQ(layer.nodes[0].height, 100u);  // a syncing answer without a height keeps the old one
  EXPECT_EQ(layer.nodes[0].last_outcome, CheckOutcome::syncing);
}

TEST(HealthNextLayer, SyncingHeightIsRecordedButNodeStaysUnhealthy) {
  auto layer = next_layer(two_primaries_one_backup(), {syncing(98), ok(100), ok(100)}, kThresholds);
  EXPECT_EQ(layer.nodes[0].height, 98u);
  EXPECT_EQ(layer.nodes[0].lag, 2u);
  EXPECT_FALSE(layer.nodes[0].healthy);
}

TEST(HealthNextLayer, NodeThatNeverAnsweredHasNoHeightAndIsUnhealthy) {
  auto layer = two_primaries_one_backup();
  for (int i = 0; i < 2; ++i) layer = next_layer(layer, {ok(100), failed(), ok(100)}, kThresholds);
  EXPECT_FALSE(layer.nodes[1].height.has_value());
  EXPECT_EQ(layer.nodes[1].lag, 0u);
  EXPECT_EQ(layer.nodes[1].consecutive_failures, 2u);  // below max_failures, still not healthy
  EXPECT_FALSE(layer.nodes[1].healthy);
  EXPECT_EQ(layer.chain_head, 100u);
}

TEST(HealthNextLayer, ChainHeadCountsLastKnownHeightsOfNodesThatFailedThisRound) {
  auto layer = next_layer(two_primaries_one_backup(), {ok(100), ok(100), ok(100)}, kThresholds);
  layer = next_layer(layer, {failed(), ok(97), ok(96)}, kThresholds);
  EXPECT_EQ(layer.chain_head, 100u);
  EXPECT_EQ(layer.nodes[1].lag, 3u);
}

TEST(HealthNextLayer, ChainHeadIsZeroWhenNoHeightKnown) {
  auto layer = next_layer(two_primaries_one_backup(), {failed(), failed(), syncing()}, kThresholds);
  EXPECT_EQ(layer.chain_head, 0u);
  EXPECT_EQ(layer.healthy_count, 0u);
}

TEST(HealthNextLayer, ResultCountMismatchIsAProgrammingError) {
  EXPECT_THROW(next_layer(two_primaries_one_backup(), {ok(1), ok(1)}, kThresholds), std::invalid_argument);
}

TEST(HealthFailover, ActiveOnlyWhenNoPrimaryButSomeBackupIsHealthy) {
  auto layer = next_layer(two_primaries_one_backup(), {ok(100), ok(100), ok(100)}, kThresholds);
  EXPECT_FALSE(failover_active(layer));
  layer = next_layer(layer, {syncing(), syncing(), ok(100)}, kThresholds);
  EXPECT_TRUE(failover_active(layer));
  layer = next_layer(layer, {syncing(), syncing(), syncing()}, kThresholds);
  EXPECT_FALSE(failover_active(layer));  // nothing healthy is an outage, not a failover
}

TEST(HealthOutcome, Names) {
  EXPECT_STREQ(to_string(CheckOutcome::ok), "ok");
  EXPECT_STREQ(to_string(CheckOutcome::syncing), "syncing");
  EXPECT_STREQ(to_string(CheckOutcome::failed), "failed");
}

TEST(RoutingSelect, PrimariesFirstThenBackupsEachInConfigOrder) {
  auto layer = initial_el({{"b1", "", "", Tier::backup},
                           {"p1", "", "", Tier::primary},
                           {"b2", "", "", Tier::backup},
                           {"p2", "", "", Tier::primary}});
  layer = next_layer(layer, {ok(5), ok(5), ok(5), ok(5)}, kThresholds);
  EXPECT_EQ(routing::el_candidates(layer), (std::vector<std::size_t>{1, 3, 0, 2}));
  EXPECT_EQ(routing::best_el(layer), 1u);
}

TEST(RoutingSelect, BackupChosenWhenNoPrimaryHealthyAndNothingWhenAllDown) {
  const Thresholds strict{/*max_lag=*/0, /*max_failures=*/1};
  auto layer = next_layer(two_primaries_one_backup(), {failed(), syncing(), ok(7)}, strict);
  EXPECT_EQ(routing::el_candidates(layer), (std::vector<std::size_t>{2}));
  EXPECT_EQ(routing::best_el(layer), 2u);
  layer = next_layer(layer, {failed(), failed(), failed()}, strict);
  EXPECT_TRUE(routing::el_candidates(layer).empty());
  EXPECT_EQ(routing::best_el(layer), std::nullopt);
}

TEST(RoutingSelect, ClCandidatesAreHealthyNodesInOrder) {
  auto layer = initial_cl({{"c1", ""}, {"c2", ""}, {"c3", ""}});
  layer = next_layer(layer, {ok(50), syncing(50), ok(49)}, {/*max_lag=*/1, /*max_failures=*/3});
  EXPECT_EQ(routing::cl_candidates(layer), (std::vector<std::size_t>{0, 2}));
}

}  // namespace
}  // namespace vixy::health
