// The relay's decisions (http/retry_policy.hpp), case by case and over every input.
#include <gtest/gtest.h>

#include <initializer_list>
#include <limits>

#include "http/retry_policy.hpp"

namespace vixy::http {
namespace {

using F = UpstreamFailure;

FailedTry attempt(F failure, bool pooled = false, bool peer_closed = false, bool deadline_passed = false) {
  return {failure, pooled, peer_closed, deadline_passed};
}

TEST(RetryPolicy, TriesTheFirstNodePlusMaxRetriesAtMost) {
  EXPECT_EQ(nodes_to_try(3, 2), 3u);
  EXPECT_EQ(nodes_to_try(5, 2), 3u);
  EXPECT_EQ(nodes_to_try(5, 0), 1u);
  EXPECT_EQ(nodes_to_try(0, 2), 0u);
  EXPECT_EQ(nodes_to_try(4, std::numeric_limits<std::uint32_t>::max()), 4u);
}

TEST(RetryPolicy, AStalePooledConnectionIsRetriedOnAFreshOne) {
  EXPECT_EQ(after_failure(attempt(F::before_response, /*pooled=*/true, /*peer_closed=*/true)),
            NextStep::fresh_connection);
}

TEST(RetryPolicy, AFreshConnectionThatFailsTheSameWayIsTheNodesFailure) {
  EXPECT_EQ(after_failure(attempt(F::before_response, /*pooled=*/false, /*peer_closed=*/true)), NextStep::next_node);
}

TEST(RetryPolicy, APooledConnectionThatFailedOtherwiseMovesOn) {
  EXPECT_EQ(after_failure(attempt(F::before_response, /*pooled=*/true, /*peer_closed=*/false)), NextStep::next_node);
  EXPECT_EQ(after_failure(attempt(F::connect, /*pooled=*/true, /*peer_closed=*/true)), NextStep::next_node);
}

TEST(RetryPolicy, ConnectFailuresMoveToTheNextNode) {
  EXPECT_EQ(after_failure(attempt(F::connect)), NextStep::next_node);
}

TEST(RetryPolicy, AWrongAnswerIsNeverSentToAnotherNode) {
  EXPECT_EQ(after_failure(attempt(F::bad_response)), NextStep::give_up);
  EXPECT_EQ(after_failure(attempt(F::bad_response, true, true, true)), NextStep::give_up);
}

TEST(RetryPolicy, NoTimeLeftEndsTheRelay) {
  EXPECT_EQ(after_failure(attempt(F::timeout)), NextStep::time_out);
  EXPECT_EQ(after_failure(attempt(F::connect, false, false, /*deadline_passed=*/true)), NextStep::time_out);
  EXPECT_EQ(after_failure(attempt(F::before_response, true, true, /*deadline_passed=*/true)), NextStep::time_out);
}

// Over every input: the rules above hold together, whatever else is true.
TEST(RetryPolicy, EveryInputKeepsTheRules) {
  for (F failure : {F::none, F::connect, F::before_response, F::timeout, F::after_response, F::bad_response}) {
    for (bool pooled : {false, true}) {
      for (bool closed : {false, true}) {
        for (bool late : {false, true}) {
          NextStep step = after_failure(attempt(failure, pooled, closed, late));
          SCOPED_TRACE(std::string(to_string(failure)) + (pooled ? " pooled" : "") + (closed ? " closed" : "") +
                       (late ? " late" : "") + " -> " + to_string(step));
          if (failure == F::bad_response) {
            EXPECT_EQ(step, NextStep::give_up);
          } else if (late || failure == F::timeout) {
            EXPECT_EQ(step, NextStep::time_out);
          }
          // A fresh connection is asked for at most once per node: never after a fresh one failed.
          if (!pooled) {
            EXPECT_NE(step, NextStep::fresh_connection);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace vixy::http
