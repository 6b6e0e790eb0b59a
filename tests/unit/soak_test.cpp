// The soak's segments (valid, failback checkable in each, the faults in turn) and its verdict on
// memory and descriptors.
#include "chaos/soak.hpp"

#include <gtest/gtest.h>

#include <set>

namespace vixy::chaos {
namespace {

TEST(Soak, EverySegmentIsValidAndJudgesFailback) {
  std::set<std::string> faults;
  for (int segment_ms : {10'000, 60'000}) {
    for (int i = 0; i < 6; ++i) {
      Scenario s = soak_segment(i, segment_ms);  // throws when the file checks would reject it
      auto recovery = primaries_recovery(s);
      ASSERT_TRUE(recovery.healthy_from_ms.has_value()) << i << ": " << recovery.reason;
      // The failback deadline falls inside the segment, with the runner's margin.
      EXPECT_LE(*recovery.healthy_from_ms + s.expectations.failback_within_ms + 500, segment_ms) << i;
      int in_this = 0;
      for (const auto& e : s.timeline) {
        if (e.at_ms > 0 && e.action != "restart" && e.action != "method_clear" &&
            !(e.args.contains("on") && !e.args["on"].get<bool>()) && !(e.args.contains("blocks") && e.args["blocks"] == 0)) {
          faults.insert(e.action + " " + e.target);
          ++in_this;
        }
      }
      EXPECT_EQ(in_this, 2) << i;  // a fault every half segment
    }
  }
  // Six segments go round every fault of the rotation.
  EXPECT_EQ(faults, (std::set<std::string>{"kill el-primary", "close_all el-primary", "blackhole el-primary",
                                           "lag el-primary", "method_error el-primary", "kill el-backup"}));
}

TEST(Soak, GrowthAfterTheWarmUpIsReported) {
  EXPECT_EQ(soak_growth({{40, 30}, {12, 20}, {13, 21}, {14.9, 27}}), "");  // the first is warm-up
  EXPECT_EQ(soak_growth({{12, 20}}), "");                                    // nothing to compare
  auto rss = soak_growth({{12, 20}, {12, 20}, {20, 20}});
  EXPECT_NE(rss.find("resident memory grew from 12.0 to 20.0 MB"), std::string::npos) << rss;
  auto fds = soak_growth({{12, 20}, {12, 20}, {12, 29}});
  EXPECT_NE(fds.find("open descriptors grew from 20 to 29"), std::string::npos) << fds;
  EXPECT_EQ(fds.find("resident"), std::string::npos);
}

}  // namespace
}  // namespace vixy::chaos
