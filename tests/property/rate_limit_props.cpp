// Properties of [limits] (routing/rate_limit.hpp) over random rates, bursts and arrival sequences:
// what is admitted never exceeds the burst plus the rate over any stretch of time, a client that
// keeps to the rate is never refused, and a refusal's Retry-After is when it would be admitted.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "routing/rate_limit.hpp"

namespace vixy::routing {
namespace {

using Nanos = RateLimiter::Nanos;
constexpr std::int64_t kSecond = 1'000'000'000;

struct Arrival {
  std::int64_t at;  // ns
  std::uint64_t cost;
};

std::vector<Arrival> gen_arrivals(std::int64_t interval) {
  auto n = *rc::gen::inRange<std::size_t>(1, 80);
  std::vector<Arrival> out;
  std::int64_t now = kSecond;  // any start; the limiter only compares times
  for (std::size_t i = 0; i < n; ++i) {
    now += *rc::gen::inRange<std::int64_t>(0, 3 * interval);
    // Mostly single requests and small batches, now and then one larger than any burst drawn.
    auto cost = *rc::gen::weightedElement<std::uint64_t>({{6, 1}, {3, *rc::gen::inRange<std::uint64_t>(2, 8)},
                                                          {1, *rc::gen::inRange<std::uint64_t>(8, 100)}});
    out.push_back({now, cost});
  }
  return out;
}

// Over admitted requests i..j, no more than the burst plus what the rate paid for in between; a
// batch larger than the burst may overdraw by its excess, but only the last one of a stretch can
// (the next admission waits until it is paid).
RC_GTEST_PROP(RateLimit, NoStretchOfTimeAdmitsMoreThanTheBurstPlusTheRate, ()) {
  const auto per_second = *rc::gen::inRange<std::uint64_t>(1, 2000);
  const auto burst = *rc::gen::inRange<std::uint64_t>(1, 40);
  const std::int64_t interval = kSecond / static_cast<std::int64_t>(per_second);
  RateLimiter limiter(per_second, burst);
  std::vector<Arrival> admitted;
  for (const auto& arrival : gen_arrivals(interval)) {
    if (limiter.admit(7, arrival.cost, Nanos(arrival.at)).allowed) admitted.push_back(arrival);
  }
  for (std::size_t i = 0; i < admitted.size(); ++i) {
    std::uint64_t total = 0;
    for (std::size_t j = i; j < admitted.size(); ++j) {
      total += admitted[j].cost;
      auto elapsed = static_cast<std::uint64_t>(admitted[j].at - admitted[i].at);
      auto overdraft = admitted[j].cost > burst ? admitted[j].cost - burst : 0;
      RC_ASSERT(total <= burst + overdraft + elapsed / static_cast<std::uint64_t>(interval));
    }
  }
}

// On average the rate, whatever the batch sizes: a client sending only batches larger than its
// burst, as soon as each is let in, gets no more over a long run than the rate gives.
RC_GTEST_PROP(RateLimit, BatchesLargerThanTheBurstAreChargedInFull, ()) {
  const auto per_second = *rc::gen::inRange<std::uint64_t>(1, 100);
  const auto burst = *rc::gen::inRange<std::uint64_t>(1, 10);
  const auto cost = burst + *rc::gen::inRange<std::uint64_t>(1, 50);
  const std::int64_t interval = kSecond / static_cast<std::int64_t>(per_second);
  RateLimiter limiter(per_second, burst);
  std::int64_t now = kSecond;
  std::uint64_t admitted = 0;
  for (int i = 0; i < 200; ++i) {
    auto verdict = limiter.admit(3, cost, Nanos(now));
    if (verdict.allowed) {
      admitted += cost;
    } else {
      now += verdict.retry_after.count();
    }
  }
  auto elapsed = static_cast<std::uint64_t>(now - kSecond);
  RC_ASSERT(admitted <= burst + cost + elapsed / static_cast<std::uint64_t>(interval));
}

RC_GTEST_PROP(RateLimit, AClientKeepingToTheRateIsNeverRefusedWhateverOthersDo, ()) {
  const auto per_second = *rc::gen::inRange<std::uint64_t>(1, 2000);
  const auto burst = *rc::gen::inRange<std::uint64_t>(1, 40);
  const std::int64_t interval = kSecond / static_cast<std::int64_t>(per_second);
  RateLimiter limiter(per_second, burst);
  std::int64_t now = kSecond;
  for (int i = 0; i < 60; ++i) {
    auto cost = *rc::gen::inRange<std::uint64_t>(1, burst + 1);
    RC_ASSERT(limiter.admit(1, cost, Nanos(now)).allowed);
    // Another client floods meanwhile.
    for (int k = 0; k < 3; ++k) limiter.admit(2 + static_cast<std::uint64_t>(k), burst, Nanos(now));
    now += static_cast<std::int64_t>(cost) * interval;
  }
}

RC_GTEST_PROP(RateLimit, ARefusedRequestIsAdmittedOnceItsRetryAfterHasPassed, ()) {
  const auto per_second = *rc::gen::inRange<std::uint64_t>(1, 2000);
  const auto burst = *rc::gen::inRange<std::uint64_t>(1, 40);
  const std::int64_t interval = kSecond / static_cast<std::int64_t>(per_second);
  RateLimiter limiter(per_second, burst);
  for (const auto& arrival : gen_arrivals(interval)) {
    auto verdict = limiter.admit(9, arrival.cost, Nanos(arrival.at));
    if (verdict.allowed) continue;
    RC_ASSERT(verdict.retry_after.count() > 0);
    RC_ASSERT(!limiter.admit(9, arrival.cost, Nanos(arrival.at) + verdict.retry_after - Nanos(1)).allowed);
    RC_ASSERT(limiter.admit(9, arrival.cost, Nanos(arrival.at) + verdict.retry_after).allowed);
    return;
  }
}

// More clients than the table has slots: each still gets its burst after a quiet time, because a
// full bucket's slot is free for another client.
TEST(RateLimit, FullBucketsGiveTheirSlotsToNewClients) {
  RateLimiter limiter(10, 2);
  const std::int64_t start = kSecond;
  for (std::uint64_t client = 0; client < RateLimiter::kSlots * 2; ++client) {
    ASSERT_TRUE(limiter.admit(client, 1, Nanos(start + static_cast<std::int64_t>(client) * kSecond)).allowed);
  }
  // After that churn a client's bucket is still its own: its burst, then a refusal.
  const Nanos later(start + static_cast<std::int64_t>(RateLimiter::kSlots) * 2 * kSecond);
  EXPECT_TRUE(limiter.admit(5, 2, later).allowed);
  EXPECT_FALSE(limiter.admit(5, 1, later).allowed);
  EXPECT_TRUE(limiter.admit(6, 2, later).allowed) << "another client's bucket is not the first's";
}

// A client whose home slot another client holds keeps its (emptied) bucket further along, also
// once the holder's bucket has refilled and its slot is free to take: it must not start afresh there.
TEST(RateLimit, AClientKeepsItsOwnBucketWhenAnEarlierSlotFreesUp) {
  RateLimiter limiter(10, 4, /*salt=*/0);
  const std::uint64_t first = 1;
  std::uint64_t second = 2;
  while (limiter.home(second) != limiter.home(first)) ++second;
  const std::int64_t t0 = kSecond, interval = kSecond / 10;
  ASSERT_TRUE(limiter.admit(first, 1, Nanos(t0)).allowed);   // holds the home slot until t0 + interval
  ASSERT_TRUE(limiter.admit(second, 4, Nanos(t0)).allowed);  // the next slot; its bucket is empty
  // The first client's bucket is full again; the second has one request back, not two.
  EXPECT_FALSE(limiter.admit(second, 2, Nanos(t0 + interval)).allowed);
  EXPECT_TRUE(limiter.admit(second, 1, Nanos(t0 + interval)).allowed);
}

TEST(RateLimit, RetryAfterIsWholeSecondsAndNamesTheLimit) {
  EXPECT_EQ(retry_after_seconds(Nanos(1)), 1u);
  EXPECT_EQ(retry_after_seconds(Nanos(kSecond)), 1u);
  EXPECT_EQ(retry_after_seconds(Nanos(kSecond + 1)), 2u);
  EXPECT_EQ(rate_limited_message(5, 10, 2),
            "rate limit exceeded: 5 requests per second (burst 10) per client address; retry after 2 s");
}

}  // namespace
}  // namespace vixy::routing
