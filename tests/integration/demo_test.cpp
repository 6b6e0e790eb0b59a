// The README's main job must keep working: the demo passes against the real binaries.
#include <gtest/gtest.h>

#include "chaos/process.hpp"

namespace vixy::testing {
namespace {

TEST(Demo, LosesNoRequestAcrossAPrimaryKillAndRecovery) {
  chaos::TempDir dir;
  chaos::ChildProcess demo({VIXY_CHAOS_BIN, "demo", "--vixy", VIXY_BIN, "--fakenode", VIXY_FAKENODE_BIN},
                           dir.file("demo.log"));
  auto status = demo.wait_for_exit(std::chrono::seconds(90));
  auto log = demo.log();
  EXPECT_EQ(status, 0) << log;
  EXPECT_NE(log.find("result: PASS"), std::string::npos) << log;
  EXPECT_NE(log.find("answered by el-backup"), std::string::npos) << log;
}

}  // namespace
}  // namespace vixy::testing
