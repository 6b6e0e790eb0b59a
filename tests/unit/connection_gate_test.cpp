// The connection caps' bookkeeping on its own: who is served, who goes to the overflow lane, which
// idle connection makes room.
#include <gtest/gtest.h>

#include "net/connection_gate.hpp"
#include "net/descriptors.hpp"

namespace vixy::net {
namespace {

using Verdict = ConnectionGate::Verdict;

const auto kA = boost::asio::ip::make_address("10.0.0.1");
const auto kB = boost::asio::ip::make_address("10.0.0.2");

TEST(ConnectionGate, WithoutCapsServesEveryone) {
  ConnectionGate gate({0, 0, 32});
  for (ConnectionGate::Id id = 1; id <= 1000; ++id) {
    auto admission = gate.admit(id, kA);
    ASSERT_EQ(admission.verdict, Verdict::serve);
    ASSERT_FALSE(admission.evicted);
  }
  EXPECT_EQ(gate.served(), 1000u);
  for (ConnectionGate::Id id = 1; id <= 1000; ++id) gate.release(id);
  EXPECT_EQ(gate.served(), 0u);
}

TEST(ConnectionGate, AtTheCapTheLongestIdleConnectionMakesRoom) {
  ConnectionGate gate({3, 0, 32});
  for (ConnectionGate::Id id = 1; id <= 3; ++id) {
    gate.admit(id, kA);
    gate.busy(id);  // each reads a request
  }
  gate.idle(2);
  gate.idle(1);
  auto admission = gate.admit(4, kA);
  EXPECT_EQ(admission.verdict, Verdict::serve);
  EXPECT_EQ(admission.evicted, std::optional<ConnectionGate::Id>(2));
  EXPECT_EQ(gate.served(), 3u);
  EXPECT_EQ(gate.admit(5, kA).evicted, std::optional<ConnectionGate::Id>(1));
  // A connection that has not sent a request yet is idle from the start.
  EXPECT_EQ(gate.admit(6, kA).evicted, std::optional<ConnectionGate::Id>(4));
  gate.busy(5);
  gate.busy(6);
  // 3, 5 and 6 run handlers: nobody to evict.
  auto refused = gate.admit(7, kA);
  EXPECT_EQ(refused.verdict, Verdict::lane);
  EXPECT_EQ(refused.refusal, std::optional<Refusal>(Refusal::max_connections));
  // The evicted ones end later; they are no longer counted.
  gate.release(2);
  gate.release(1);
  EXPECT_EQ(gate.served(), 3u);
  EXPECT_EQ(gate.in_lane(), 1u);
}

TEST(ConnectionGate, TheLaneIsBoundedAndThenConnectionsAreClosed) {
  ConnectionGate gate({1, 0, 2});
  gate.admit(1, kA);
  gate.busy(1);
  EXPECT_EQ(gate.admit(2, kA).verdict, Verdict::lane);
  EXPECT_EQ(gate.admit(3, kA).verdict, Verdict::lane);
  auto closed = gate.admit(4, kA);
  EXPECT_EQ(closed.verdict, Verdict::close);
  EXPECT_EQ(closed.refusal, std::optional<Refusal>(Refusal::overflow));
  gate.release(2);
  EXPECT_EQ(gate.admit(5, kA).verdict, Verdict::lane);
}

TEST(ConnectionGate, PerAddressCapRefusesOnlyThatAddress) {
  ConnectionGate gate({0, 2, 32});
  gate.admit(1, kA);
  gate.admit(2, kA);
  auto refused = gate.admit(3, kA);
  EXPECT_EQ(refused.verdict, Verdict::lane);
  EXPECT_EQ(refused.refusal, std::optional<Refusal>(Refusal::per_ip));
  EXPECT_FALSE(refused.evicted);
  EXPECT_EQ(gate.admit(4, kB).verdict, Verdict::serve);
  gate.release(1);
  EXPECT_EQ(gate.admit(5, kA).verdict, Verdict::serve);
}

TEST(ConnectionGate, EvictingGivesTheAddressItsSlotBack) {
  ConnectionGate gate({2, 1, 32});
  gate.admit(1, kA);
  gate.admit(2, kB);
  gate.busy(2);
  EXPECT_EQ(gate.evict_idle(), std::optional<ConnectionGate::Id>(1));
  EXPECT_FALSE(gate.evict_idle());
  EXPECT_EQ(gate.admit(3, kA).verdict, Verdict::serve);
}

// One listener per thread, one gate each: the caps hold for all of them together.
TEST(ConnectionGate, GatesSharingTheirCountsHoldTheCapsTogether) {
  ConnectionCaps caps{3, 2, 32};
  auto counts = std::make_shared<ConnectionCounts>();
  ConnectionGate first(caps, counts);
  ConnectionGate second(caps, counts);
  EXPECT_EQ(first.admit(1, kA).verdict, Verdict::serve);
  EXPECT_EQ(second.admit(2, kA).verdict, Verdict::serve);
  auto third_from_a = first.admit(3, kA);
  EXPECT_EQ(third_from_a.refusal, std::optional<Refusal>(Refusal::per_ip));
  EXPECT_EQ(second.admit(4, kB).verdict, Verdict::serve);
  // At the process cap: a gate makes room only with a connection of its own.
  first.busy(1);
  auto over = first.admit(5, kB);
  EXPECT_EQ(over.refusal, std::optional<Refusal>(Refusal::max_connections));
  EXPECT_FALSE(over.evicted);
  auto room = second.admit(6, kB);
  EXPECT_EQ(room.verdict, Verdict::serve);
  EXPECT_EQ(room.evicted, std::optional<ConnectionGate::Id>(2));
  // A released place is free for any gate, and so is its address's share.
  first.release(1);
  EXPECT_EQ(second.admit(7, kA).verdict, Verdict::serve);
  EXPECT_EQ(first.served(), 0u);
  EXPECT_EQ(second.served(), 3u);
}

// Each gate within its share of the cap: a gate that filled its share makes room with its own idle
// connections, so another gate's first connection is still served (without shares the first gate
// held every place and the second could only refuse).
TEST(ConnectionGate, AGateAtItsShareMakesRoomWithItsOwnIdleConnections) {
  ConnectionCaps caps{4, 0, 32, 2};
  auto counts = std::make_shared<ConnectionCounts>();
  ConnectionGate first(caps, counts);
  ConnectionGate second(caps, counts);
  for (ConnectionGate::Id id = 1; id <= 4; ++id) {
    auto admission = first.admit(id, kA);
    EXPECT_EQ(admission.verdict, Verdict::serve) << id;
    if (id > 2) {
      EXPECT_EQ(admission.evicted, std::optional<ConnectionGate::Id>(id - 2)) << id;
    }
  }
  EXPECT_EQ(first.served(), 2u);
  auto other = second.admit(5, kB);
  EXPECT_EQ(other.verdict, Verdict::serve);
  EXPECT_FALSE(other.evicted);
  // A share of busy connections refuses: nothing of its own to close.
  first.busy(3);
  first.busy(4);
  EXPECT_EQ(first.admit(6, kA).refusal, std::optional<Refusal>(Refusal::max_connections));
}

TEST(DescriptorBudget, HalfOfWhatTheReserveLeavesForClientsAndTheirUpstreams) {
  EXPECT_EQ(connections_for_descriptors(256), 64u);
  EXPECT_EQ(connections_for_descriptors(1024), 448u);
  EXPECT_EQ(connections_for_descriptors(1048576), 524224u);
  // Tiny limits keep half for clients and their upstreams, and never a cap of 0.
  EXPECT_EQ(connections_for_descriptors(100), 25u);
  EXPECT_EQ(connections_for_descriptors(1), 1u);
  EXPECT_EQ(connections_for_descriptors(0), 1u);
}

}  // namespace
}  // namespace vixy::net
