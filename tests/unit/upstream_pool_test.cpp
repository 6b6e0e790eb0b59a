// UpstreamPool::exchange (health checks) against a node that answers with scripted bytes: every
// exchange gets the answer to its own request, and a connection goes back to the pool only when
// nothing of the node's is left unread.
#include "http/upstream_pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "support/raw_node.hpp"

namespace vixy::http {
namespace {

using testing::RawAnswer;
using testing::RawNode;
using testing::RawRequest;
using testing::raw_response;
using std::chrono::milliseconds;

constexpr const char* kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr const char* kSmuggled = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled";

// Answers name the request they answer: "answer-<target>".
RawAnswer answer_for(const RawRequest& request) { return RawAnswer{raw_response(200, "answer-" + request.target)}; }

class UpstreamExchange : public ::testing::Test {
 protected:
  UpstreamPool::Result run(UpstreamPool& pool, const std::string& target, milliseconds budget = milliseconds(3000)) {
    UpstreamPool::Result result;
    result.failure = UpstreamFailure::timeout;
    auto deadline = Clock::now() + budget;
    bhttp::request<bhttp::string_body> request{bhttp::verb::get, target, 11};
    asio::co_spawn(io_, pool.exchange(std::move(request), deadline),
                   [&](std::exception_ptr, UpstreamPool::Result r) { result = std::move(r); });
    io_.restart();
    io_.run_for(budget + milliseconds(2000));
    return result;
  }
  UpstreamPool pool_for(const RawNode& node) {
    return UpstreamPool(io_.get_executor(), tls_, *net::parse_upstream_url(node.url()), milliseconds(1000));
  }

  asio::io_context io_;
  asio::ssl::context tls_{asio::ssl::context::tls_client};
};

void expect_answer(const UpstreamPool::Result& r, const std::string& target) {
  EXPECT_EQ(r.failure, UpstreamFailure::none) << to_string(r.failure) << ": " << r.error.message();
  EXPECT_EQ(r.response.result_int(), 200u);
  EXPECT_EQ(r.response.body(), "answer-" + target);
}

TEST_F(UpstreamExchange, ContinueBeforeTheAnswerIsSkipped) {
  RawNode node([](const RawRequest& request) {
    RawAnswer answer = answer_for(request);
    answer.bytes = kContinue + answer.bytes;
    return answer;
  });
  auto pool = pool_for(node);
  for (int i = 0; i < 5; ++i) expect_answer(run(pool, "/check/" + std::to_string(i)), "/check/" + std::to_string(i));
  EXPECT_EQ(node.connections(), 1u);  // each answer was read whole, so the connection was reused
}

TEST_F(UpstreamExchange, EarlyHintsAreSkipped) {
  RawNode node([](const RawRequest& request) {
    RawAnswer answer = answer_for(request);
    answer.bytes = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" + answer.bytes;
    return answer;
  });
  auto pool = pool_for(node);
  for (int i = 0; i < 3; ++i) expect_answer(run(pool, "/h/" + std::to_string(i)), "/h/" + std::to_string(i));
}

TEST_F(UpstreamExchange, EndlessInterimAnswersFailWithoutWaitingForTheDeadline) {
  std::string endless;
  for (int i = 0; i < 500; ++i) endless += kContinue;
  RawNode node([&endless](const RawRequest&) { return RawAnswer{endless}; });
  auto pool = pool_for(node);
  auto started = Clock::now();
  auto r = run(pool, "/x", milliseconds(20'000));
  EXPECT_EQ(r.failure, UpstreamFailure::bad_response) << to_string(r.failure) << ": " << r.error.message();
  EXPECT_LT(Clock::now() - started, milliseconds(10'000));
}

TEST_F(UpstreamExchange, SwitchingProtocolsIsABadResponse) {
  RawNode node([](const RawRequest&) {
    return RawAnswer{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"};
  });
  auto pool = pool_for(node);
  auto r = run(pool, "/x");
  EXPECT_EQ(r.failure, UpstreamFailure::bad_response) << to_string(r.failure) << ": " << r.error.message();
}

TEST_F(UpstreamExchange, BytesAfterTheAnswerRetireTheConnection) {
  RawNode node([](const RawRequest& request) {
    RawAnswer answer = answer_for(request);
    answer.bytes += kSmuggled;
    return answer;
  });
  auto pool = pool_for(node);
  for (int i = 0; i < 3; ++i) expect_answer(run(pool, "/j/" + std::to_string(i)), "/j/" + std::to_string(i));
  EXPECT_EQ(node.connections(), 3u);
}

TEST_F(UpstreamExchange, BytesArrivingWhileIdleRetireTheConnection) {
  RawNode node([](const RawRequest& request) {
    RawAnswer answer = answer_for(request);
    answer.later = kSmuggled;
    answer.later_after = milliseconds(50);
    return answer;
  });
  auto pool = pool_for(node);
  for (int i = 0; i < 3; ++i) {
    expect_answer(run(pool, "/l/" + std::to_string(i)), "/l/" + std::to_string(i));
    ASSERT_TRUE(chaos::wait_until([&] { return node.later_written() > static_cast<std::size_t>(i); },
                                  milliseconds(5000)));
  }
  EXPECT_EQ(node.connections(), 3u);
}

TEST_F(UpstreamExchange, AnswerReadUntilCloseIsNotPooled) {
  RawNode node([](const RawRequest& request) {
    // No length and no chunking: the body ends when the node closes. Keep-alive is claimed anyway.
    RawAnswer answer("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nanswer-" + request.target);
    answer.close = true;
    return answer;
  });
  auto pool = pool_for(node);
  for (int i = 0; i < 2; ++i) expect_answer(run(pool, "/e/" + std::to_string(i)), "/e/" + std::to_string(i));
  EXPECT_EQ(node.connections(), 2u);
}

TEST_F(UpstreamExchange, ConflictingFramingFails) {
  RawNode node([](const RawRequest&) {
    return RawAnswer{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"};
  });
  auto pool = pool_for(node);
  auto r = run(pool, "/x");
  EXPECT_NE(r.failure, UpstreamFailure::none);
}

}  // namespace
}  // namespace vixy::http
