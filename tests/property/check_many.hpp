#pragma once
// Like RC_GTEST_PROP, but with `successes` test cases of at most `max_size` (about that many
// commands or steps) unless RC_PARAMS sets them: RapidCheck's default of 100 cases is far too few
// for the state spaces of the WebSocket session core and the node multiplexer.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

namespace rc::detail {
// RapidCheck's own listener (it prints the reproduce string); the library defines it but no
// public header declares it.
TestListener& globalTestListener();
}  // namespace rc::detail

namespace vixy::testing {

// The model tests' full counts are for an optimised build. Under ASan at -O0 a model step costs about
// 70 times as much, so the sanitized property program runs a tenth of each (the sanitizers watching
// every path the model reaches), and the sanitized tree's vixy_model_tests, the models built
// optimised without sanitizers (tests/CMakeLists.txt), runs them all.
// GCC says so with __SANITIZE_ADDRESS__, clang with __has_feature.
#if defined(__SANITIZE_ADDRESS__)
#define VIXY_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VIXY_UNDER_ASAN 1
#endif
#endif
constexpr int sequences(int optimised) {
#if defined(VIXY_UNDER_ASAN)
  return optimised / 10;
#else
  return optimised;
#endif
}

template <typename Testable>
void check_many(int successes, int max_size, Testable&& testable) {
  using namespace rc::detail;
  const auto& config = configuration();
  auto params = config.testParams;
  const char* env = std::getenv("RC_PARAMS");
  const std::string_view set = env == nullptr ? "" : env;
  if (set.find("max_success") == std::string_view::npos) params.maxSuccess = successes;
  if (set.find("max_size") == std::string_view::npos) params.maxSize = max_size;
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  TestMetadata metadata;
  metadata.id = std::string(info->test_suite_name()) + "/" + info->name();
  metadata.description = info->name();
  const auto result = checkProperty(toProperty(std::forward<Testable>(testable)), metadata, params,
                                    globalTestListener(), config.reproduce);
  if (!result.template is<SuccessResult>()) {
    std::ostringstream message;
    printResultMessage(result, message);
    FAIL() << message.str() << "\n(the reproduce string is printed when the test program exits)";
  }
}

}  // namespace vixy::testing
