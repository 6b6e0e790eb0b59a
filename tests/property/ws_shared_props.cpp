// Model-based test of sessions sharing node multiplexers (issue 13): random interleavings of many
// clients' requests (ids colliding within and across clients), identical and different
// subscriptions, unsubscribes of held, foreign and unknown ids, clients leaving, sockets failing
// and dropping, health changes that switch and fail back, and time; each client's I1–I5 (and I7
// as far as one chain shows it) checked after every step, then liveness and clean-up after a
// drain (ws_shared_model.hpp).
#include <cstdio>
#include <cstdlib>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include "check_many.hpp"
#include "ws_shared_model.hpp"

namespace vixy::ws::shared_model {
namespace {

enum class SharedOp {
  request, read_block, subscribe, unsubscribe, leave, socket_open, socket_lost, answer, produce, notify_pending,
  health, advance, refuse, stray,
};

struct SharedPlan {};  // nothing to plan: every choice resolves against the Cluster when it runs

// Its numbers pick among whatever exists when it runs, so every sequence stays valid while
// RapidCheck shrinks it.
struct SharedStep : rc::state::Command<SharedPlan, Cluster> {
  SharedOp op;
  unsigned a, b;

  SharedStep()
      : op(*rc::gen::weightedElement<SharedOp>({{10, SharedOp::request},
                                                {3, SharedOp::read_block},
                                                {6, SharedOp::subscribe},
                                                {3, SharedOp::unsubscribe},
                                                {1, SharedOp::leave},
                                                {6, SharedOp::socket_open},
                                                {2, SharedOp::socket_lost},
                                                {16, SharedOp::answer},
                                                {3, SharedOp::produce},
                                                {2, SharedOp::notify_pending},
                                                {2, SharedOp::health},
                                                {3, SharedOp::advance},
                                                {2, SharedOp::refuse},
                                                {1, SharedOp::stray}})),
        a(0),
        b(0) {
    // One draw for both numbers: under ASan, generating is a fair share of the run time.
    const auto both = *rc::gen::inRange(0U, 1U << 20);
    a = both & 1023U;
    b = both >> 10;
  }

  void run(const SharedPlan& /*plan*/, Cluster& cluster) const override {
    static constexpr int kAdvanceMs[] = {1, 50, 200, 600, 1'100};
    switch (op) {
      case SharedOp::request: cluster.request(a, b, b / 16); break;
      case SharedOp::read_block: cluster.read_block(a, b); break;
      case SharedOp::subscribe: cluster.subscribe(a, b); break;
      case SharedOp::unsubscribe: cluster.unsubscribe(a, b); break;
      case SharedOp::leave: cluster.leave(a); break;
      case SharedOp::socket_open: cluster.socket_open(a); break;
      case SharedOp::socket_lost: cluster.socket_lost(a); break;
      case SharedOp::answer: cluster.answer(a); break;
      case SharedOp::produce: cluster.produce(); break;
      case SharedOp::notify_pending: cluster.notify_pending(a); break;
      case SharedOp::health: cluster.health(1 + a % 7); break;
      case SharedOp::advance: cluster.advance(milliseconds(kAdvanceMs[a % std::size(kAdvanceMs)])); break;
      case SharedOp::refuse: cluster.answer(a, true); break;
      case SharedOp::stray: cluster.stray(a, b); break;
    }
    if (!cluster.violation().empty()) RC_FAIL(cluster.violation());
  }

  void show(std::ostream& os) const override {
    static constexpr const char* kNames[] = {"request", "read_block", "subscribe", "unsubscribe", "leave", "socket_open",
                                             "socket_lost", "answer", "produce", "notify_pending", "health", "advance",
                                             "refuse",      "stray"};
    os << kNames[static_cast<int>(op)] << "(" << a << ", " << b << ")";
  }
};

// Issue 13 asks for 10,000 sequences per run: 7–11 s optimised.
TEST(WsSharedModel, EverySessionStaysWholeOnSharedSockets) {
  vixy::testing::check_many(vixy::testing::sequences(10'000), 150, [] {
    const auto sessions = *rc::gen::inRange<std::size_t>(2, 7);
    const auto max_pending = *rc::gen::element<std::size_t>(4, 64);
    const auto max_sockets = *rc::gen::inRange<std::size_t>(1, 4);
    const auto mask = *rc::gen::inRange(1U, 8U);
    Cluster cluster(sessions, max_pending, max_sockets, mask);
    if (!cluster.violation().empty()) RC_FAIL(cluster.violation());
    const SharedPlan plan;
    const auto steps = *rc::state::gen::commands(plan, rc::state::gen::execOneOfWithArgs<SharedStep>());
    rc::state::runAll(steps, plan, cluster);
    cluster.drain();
    if (cluster.violation().empty()) cluster.check_live();
    if (cluster.violation().empty()) cluster.check_released();
    static const bool stats = std::getenv("WS_SHARED_STATS") != nullptr;
    if (stats) std::fprintf(stderr, "%zu steps: %s\n", steps.size(), cluster.stats().c_str());
    if (!cluster.violation().empty()) RC_FAIL("at the end: " + cluster.violation());
  });
}

}  // namespace
}  // namespace vixy::ws::shared_model
