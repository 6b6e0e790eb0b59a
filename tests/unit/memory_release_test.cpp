// When vixy gives freed memory back (server/memory_release.hpp).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "server/memory_release.hpp"

namespace vixy::server {
namespace {

constexpr std::size_t kMiB = 1u << 20;

TEST(MemoryRelease, TrimsAQuietHeapThatHoldsMostlyFreeMemory) {
  // 5,000 sessions opened and closed: 72 MB held, 2.8 MB in use.
  EXPECT_TRUE(worth_trimming(69 * kMiB, 3 * kMiB, 16 * kMiB));
}

TEST(MemoryRelease, LeavesABusyHeapAlone) {
  // Under load what is freed is reused at once; giving it back would only cost page faults.
  EXPECT_FALSE(worth_trimming(40 * kMiB, 120 * kMiB, 16 * kMiB));
}

TEST(MemoryRelease, LeavesASmallFreePartAlone) {
  EXPECT_FALSE(worth_trimming(8 * kMiB, 1 * kMiB, 16 * kMiB));
  EXPECT_FALSE(worth_trimming(16 * kMiB, 0, 16 * kMiB));
}

RC_GTEST_PROP(MemoryRelease, TrimsExactlyWhenFreeExceedsBothTheFloorAndWhatIsInUse,
              (std::size_t free_bytes, std::size_t in_use_bytes, std::size_t floor)) {
  bool trims = worth_trimming(free_bytes, in_use_bytes, floor);
  if (free_bytes <= floor || free_bytes <= in_use_bytes) RC_ASSERT(!trims);
  if (free_bytes > floor && free_bytes > in_use_bytes) RC_ASSERT(trims);
}

}  // namespace
}  // namespace vixy::server
