// When a WebSocket client that reads too slowly is closed (ws/backlog.hpp).
#include "ws/backlog.hpp"

#include <gtest/gtest.h>

namespace vixy::ws {
namespace {

constexpr std::size_t kMiB = 1024 * 1024;

BacklogLimits limits() {
  BacklogLimits l;
  l.per_client = 16 * kMiB;
  l.process = 256 * kMiB;
  l.process_floor = kMiB;
  return l;
}

TEST(WsBacklog, AClientIsClosedWhenWhatWaitsForItPassesItsBound) {
  EXPECT_EQ(check_backlog(limits(), 16 * kMiB, 5, 16 * kMiB, 1), Overflow::none);
  EXPECT_EQ(check_backlog(limits(), 16 * kMiB + 1, 5, 16 * kMiB + 1, 1), Overflow::backlog);
}

TEST(WsBacklog, OneWaitingMessageOfAnySizeIsNotASlowReader) {
  EXPECT_EQ(check_backlog(limits(), 100 * kMiB, 1, 100 * kMiB, 1), Overflow::none);
  EXPECT_EQ(check_backlog(limits(), 100 * kMiB, 2, 100 * kMiB, 1), Overflow::backlog);
}

TEST(WsBacklog, PastTheProcessBoundTheClientsHoldingMuchArePaying) {
  // 300 MiB queued over 10 sessions: the process bound is passed.
  EXPECT_EQ(check_backlog(limits(), 2 * kMiB, 3, 300 * kMiB, 10), Overflow::process_buffer);
  EXPECT_EQ(check_backlog(limits(), 64 * 1024, 3, 300 * kMiB, 10), Overflow::none);  // keeps up
  EXPECT_EQ(check_backlog(limits(), 0, 0, 300 * kMiB, 10), Overflow::none);
  // Under the bound nobody is closed for it.
  EXPECT_EQ(check_backlog(limits(), 2 * kMiB, 3, 200 * kMiB, 10), Overflow::none);
}

TEST(WsBacklog, WithManySessionsTheFairShareIsTheFloor) {
  // 1,024 sessions share 256 MiB: 256 KiB each. Many clients each under the 1 MiB floor can
  // still pass the bound together, and each one holding more than its share is closed.
  EXPECT_EQ(check_backlog(limits(), 300 * 1024, 3, 257 * kMiB, 1024), Overflow::process_buffer);
  EXPECT_EQ(check_backlog(limits(), 200 * 1024, 3, 257 * kMiB, 1024), Overflow::none);
}

}  // namespace
}  // namespace vixy::ws
