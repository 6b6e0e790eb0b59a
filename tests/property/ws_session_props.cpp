// Model-based test of the WebSocket session core (ARCHITECTURE §4–5, issue 3): random sequences of
// client requests, subscribes, unsubscribes, batches and garbage, interleaved with upstream
// answers in any order, notifications, losses, connects, health changes, time, and a chain that
// grows, lags, catches up and reorgs under newHeads and logs subscriptions, with the invariants
// I1–I5 and I7 checked after every step and after draining (see ws_model.hpp and ws_model_i7.cpp).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include "check_many.hpp"
#include "ws_model_ops.hpp"

namespace vixy::ws::model {
namespace {

using ::vixy::testing::check_many;

struct Plan {};  // the rc::state model holds nothing: every choice resolves against the World

// One event for the core. Its numbers pick among whatever exists when it runs (pending answers,
// open connections, live subscriptions), so every sequence stays valid while RapidCheck shrinks it.
struct Step : rc::state::Command<Plan, World> {
  Op op;
  unsigned a, b, c;

  Step()
      : op(*rc::gen::weightedElement<Op>({{10, Op::request},
                                          {2, Op::notification},
                                          {3, Op::subscribe},
                                          {3, Op::unsubscribe},
                                          {3, Op::batch},
                                          {1, Op::garbage},
                                          {1, Op::binary},
                                          {14, Op::answer},
                                          {4, Op::notify},
                                          {3, Op::lose},
                                          {5, Op::connect_ok},
                                          {1, Op::connect_fail},
                                          {2, Op::health},
                                          {3, Op::advance},
                                          {1, Op::stray},
                                          {4, Op::produce},
                                          {1, Op::lag},
                                          {1, Op::catch_up},
                                          {1, Op::reorg}})),
        a(*rc::gen::inRange(0U, 1024U)),
        b(*rc::gen::inRange(0U, 1U << 16)),
        c(*rc::gen::inRange(0U, 8U)) {}

  void run(const Plan& /*plan*/, World& world) const override {
    run_op(world, op, a, b, c);
    if (!world.violation().empty()) RC_FAIL(world.violation());
  }

  void show(std::ostream& os) const override { os << op_name(op) << "(" << a << ", " << b << ", " << c << ")"; }
};

TEST(WsSessionModel, ClientsStayWholeAcrossUpstreamChaos) {
  check_many(::vixy::testing::sequences(10'000), 40, [] {
    const auto max_pending = *rc::gen::element<std::size_t>(2, 5, 64);
    const auto max_subscriptions = *rc::gen::element<std::size_t>(2, 16);
    const auto mask = *rc::gen::inRange(0U, 8U);
    std::vector<std::size_t> candidates;
    for (std::size_t node = 0; node < World::kNodes; ++node) {
      if ((mask >> node) & 1U) candidates.push_back(node);
    }
    World world(max_pending, max_subscriptions, candidates);
    if (!world.violation().empty()) RC_FAIL(world.violation());
    const Plan plan;
    const auto steps = *rc::state::gen::commands(plan, rc::state::gen::execOneOfWithArgs<Step>());
    rc::state::runAll(steps, plan, world);
    world.drain();
    if (!world.violation().empty()) RC_FAIL("after draining: " + world.violation());
  });
}

// Liveness, directed: subscriptions made on one upstream keep delivering under the client's ids
// after every kind of switch (loss of the active upstream, failback to a primary).
TEST(WsSessionModel, ReplayedSubscriptionsDeliverAfterEverySwitch) {
  check_many(::vixy::testing::sequences(500), 100, [] {
    World world(64, 16, {0, 1, 2});
    const auto subscriptions = *rc::gen::inRange(1, 6);
    // Every connect succeeds and every message is answered; time passes so backoffs run out.
    const auto settle = [&] {
      for (int i = 0; i < 4; ++i) {
        for (int j = 0; j < 4; ++j) world.connect_outcome(0, true);
        for (int j = 0; j < 32; ++j) world.answer(0);
        world.advance(World::kBackoffLongest + milliseconds(1));
      }
    };
    settle();
    for (int i = 0; i < subscriptions; ++i) world.subscribe(static_cast<unsigned>(i), static_cast<unsigned>(i));
    settle();
    const auto switches = *rc::gen::container<std::vector<bool>>(*rc::gen::inRange<std::size_t>(1, 5),
                                                                 rc::gen::arbitrary<bool>());
    for (const bool failback : switches) {
      if (failback) {
        world.health(0b100);  // only the backup is healthy...
        world.lose_active();
        settle();
        world.health(0b111);  // ...then the primaries are back
      } else {
        world.lose_active();
      }
      settle();
      world.check_subscriptions_live();
      if (!world.violation().empty()) RC_FAIL(world.violation());
    }
    RC_ASSERT(world.core().subscription_count() == static_cast<std::size_t>(subscriptions));
    if (!world.violation().empty()) RC_FAIL(world.violation());
  });
}

}  // namespace
}  // namespace vixy::ws::model

namespace vixy::ws::model {
namespace {

using ::vixy::testing::check_many;

// Found by the libFuzzer target (tests/fuzz/ws_session.cpp, corpus crash-i7-lagging-failback): a
// newHeads subscription on node 2 while node 0 lags; the drain fails back to node 0, whose heads
// below everything the stream remembers were taken as a new branch and sent again.
TEST(WsSessionModel, HeadsAreNotRepeatedAfterAFailbackToANodeThatLags) {
  World world(64, 16, {2});
  world.connect_outcome(0, true);
  world.subscribe(0, 0);
  world.answer(0, 0);
  world.lag(0);
  world.produce(true);
  world.produce(false);
  world.produce(true);
  world.produce(false);
  world.produce(true);
  EXPECT_EQ(world.violation(), "");
  world.drain();
  EXPECT_EQ(world.violation(), "");
}

// Found by RapidCheck: every node failed last, so the core waits out a backoff before it connects
// again; the drain must wait with it before asking whether the subscription has an upstream.
TEST(WsSessionModel, DrainWaitsOutTheBackoffOfEveryNode) {
  World world(5, 2, {0});
  world.connect_outcome(0, true);
  world.subscribe(188, 0);  // syncing: delivered only by an active upstream
  world.health(356);
  world.answer(0, 0);
  world.health(119);
  world.lose(0);
  world.connect_outcome(0, true);
  world.connect_outcome(0, true);
  world.lose(0);
  world.lose(0);
  EXPECT_EQ(world.violation(), "");
  world.drain();
  EXPECT_EQ(world.violation(), "");
}

}  // namespace
}  // namespace vixy::ws::model
