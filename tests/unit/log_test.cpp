// log::report_exception: what ends a co_spawned coroutine is logged, never swallowed.

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <stdexcept>
#include <string>

#include "log/log.hpp"

namespace vixy::log {
namespace {

namespace asio = boost::asio;

asio::awaitable<void> throws_after_starting() {
  co_await asio::this_coro::executor;
  throw std::runtime_error("boom-from-the-coroutine");
}

asio::awaitable<void> ends_normally() { co_return; }

std::string run_and_capture(asio::awaitable<void> (*coroutine)()) {
  asio::io_context io;
  ::testing::internal::CaptureStderr();
  asio::co_spawn(io, coroutine(), report_exception("the-test-coroutine"));
  io.run();
  return ::testing::internal::GetCapturedStderr();
}

TEST(ReportException, AnExceptionThatEndsACoroutineIsLoggedWithItsName) {
  std::string logged = run_and_capture(throws_after_starting);
  EXPECT_NE(logged.find("level=error"), std::string::npos) << logged;
  EXPECT_NE(logged.find("the-test-coroutine"), std::string::npos) << logged;
  EXPECT_NE(logged.find("boom-from-the-coroutine"), std::string::npos) << logged;
}

TEST(ReportException, ACoroutineThatEndsNormallyLogsNothing) {
  EXPECT_EQ(run_and_capture(ends_normally), "");
}

}  // namespace
}  // namespace vixy::log
