// Every vixy an integration test starts must exit cleanly when the test's cluster stops it: exit
// status 0 after SIGTERM, within its shutdown deadline. Under the sanitizers this is where a
// use-after-free or a leak at exit shows (they turn the status non-zero), and no test looks there
// on its own.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "chaos/cluster.hpp"

namespace vixy::testing {
namespace {

class ProxyExitCheck : public ::testing::Environment {
 public:
  void SetUp() override {
    chaos::Cluster::set_proxy_exit_check([](std::optional<int> status, const chaos::ChildProcess& proxy) {
      if (status == 0) return;
      ADD_FAILURE() << "vixy did not exit cleanly when the test stopped it ("
                    << (status ? "exit status " + std::to_string(*status) : std::string("killed after 15 s"))
                    << "); the end of its log:\n"
                    << proxy.log_tail(40);
    });
  }
  void TearDown() override { chaos::Cluster::set_proxy_exit_check({}); }
};

const auto* const kRegistered = ::testing::AddGlobalTestEnvironment(new ProxyExitCheck);

}  // namespace
}  // namespace vixy::testing
