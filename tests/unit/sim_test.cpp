// The deterministic simulation (chaos/sim.hpp): a seed replays its run exactly, the run exercises
// failover and failback, and the checker sees what a broken adapter does to the clients.
#include <gtest/gtest.h>

#include "chaos/sim.hpp"

namespace vixy::chaos::sim {
namespace {

Options short_run(std::uint64_t seed, std::string bug = {}) {
  Options options;
  options.seed = seed;
  options.duration = std::chrono::minutes(2);
  options.clients = 4;
  options.bug = std::move(bug);
  return options;
}

std::string violations(const CheckReport& check) {
  std::string out;
  for (const auto& invariant : check.invariants) {
    for (const auto& v : invariant.first) out += invariant.name + " " + v.where + ": " + v.message + "\n";
  }
  return out;
}

TEST(Sim, ASeedReplaysItsRunExactly) {
  const Result first = simulate(short_run(3));
  const Result again = simulate(short_run(3));
  EXPECT_EQ(first.digest, again.digest);
  EXPECT_EQ(first.timeline, again.timeline);
  EXPECT_EQ(first.messages, again.messages);
  ASSERT_EQ(first.histories.size(), again.histories.size());
  for (std::size_t i = 0; i < first.histories.size(); ++i) {
    ASSERT_EQ(first.histories[i].events.size(), again.histories[i].events.size()) << first.histories[i].label();
  }
  const Result other = simulate(short_run(4));
  EXPECT_NE(first.digest, other.digest);
  EXPECT_NE(first.timeline, other.timeline);
}

// Faults on the primaries move sessions to the other nodes and back: probes are answered by more
// than one node, and every invariant holds.
TEST(Sim, ARunWithFaultsMovesSessionsAndHoldsEveryInvariant) {
  const Result result = simulate(short_run(11));
  EXPECT_TRUE(result.ok()) << violations(result.check);
  EXPECT_FALSE(result.timeline.empty());
  EXPECT_GE(result.check.stats.probe_answers_by_node.size(), 2u);
  EXPECT_GT(result.check.stats.notifications, 100u);
  const auto* i7 = result.check.find("I7");
  ASSERT_NE(i7, nullptr);
  EXPECT_EQ(i7->status, "held");
}

// The run of seed 11 with a broken adapter: `invariant` is violated, with `evidence` first.
void expect_reported(const std::string& bug, const std::string& invariant, const std::string& evidence) {
  const Result result = simulate(short_run(11, bug));
  const auto* found = result.check.find(invariant);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->status, "violated");
  ASSERT_FALSE(found->first.empty());
  EXPECT_NE(found->first[0].message.find(evidence), std::string::npos) << found->first[0].message;
}

TEST(Sim, TheCheckerSeesAnAdapterThatLosesAnswers) { expect_reported("drop-answer", "I1", "never got an answer"); }

TEST(Sim, TheCheckerSeesAnAdapterThatRepeatsHeads) { expect_reported("repeat-head", "I7", "delivered again"); }

TEST(Sim, OptionsOutsideWhatTheSimulationDoesAreRefused) {
  Options options = short_run(1, "no-such-bug");
  EXPECT_THROW(simulate(options), std::invalid_argument);
  options = short_run(1);
  options.duration = std::chrono::seconds(10);
  EXPECT_THROW(simulate(options), std::invalid_argument);
}

}  // namespace
}  // namespace vixy::chaos::sim
