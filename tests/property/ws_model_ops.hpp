#pragma once
// The events a test can drive the model World with (ws_model.hpp), each a name and three numbers
// that pick among whatever exists when it runs. Shared by the RapidCheck test
// (ws_session_props.cpp) and the libFuzzer target (tests/fuzz/ws_session.cpp), which only differ
// in where the numbers come from.

#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>

#include "ws_model.hpp"

namespace vixy::ws::model {

enum class Op {
  request, notification, subscribe, unsubscribe, batch, garbage, binary,
  answer, notify, lose, connect_ok, connect_fail, health, advance, stray,
  produce, lag, catch_up, reorg,
};
inline constexpr int kOpCount = static_cast<int>(Op::reorg) + 1;

constexpr std::string_view op_name(Op op) {
  constexpr std::string_view names[] = {"request", "notification", "subscribe", "unsubscribe", "batch",
                                        "garbage", "binary",       "answer",    "notify",      "lose",
                                        "connect_ok", "connect_fail", "health", "advance",     "stray",
                                        "produce",  "lag",          "catch_up", "reorg"};
  return names[static_cast<int>(op)];
}

// `a` < 1024, `b` < 65536, `c` < 8 are the ranges the numbers are drawn from; any values work.
inline void run_op(World& world, Op op, unsigned a, unsigned b, unsigned c) {
  static constexpr int kAdvanceMs[] = {1, 50, 200, 600, 1'100, 3'000};
  // WS_MODEL_TRACE=1 (ws_model.cpp) prints each event before what the core did in it.
  static const bool trace = std::getenv("WS_MODEL_TRACE") != nullptr;
  if (trace) std::fprintf(stderr, "event %s(%u, %u, %u)\n", std::string(op_name(op)).c_str(), a, b, c);
  switch (op) {
    case Op::request: world.request(kMethods[a % std::size(kMethods)], b, c); break;
    case Op::notification: world.client_notification(kMethods[a % std::size(kMethods)]); break;
    case Op::subscribe: world.subscribe(a, c); break;
    case Op::unsubscribe: world.unsubscribe(a); break;
    case Op::batch: world.batch(a, b); break;
    case Op::garbage: world.garbage(a); break;
    case Op::binary: world.binary(); break;
    case Op::answer: world.answer(a, c); break;
    case Op::notify: world.notify(a); break;
    case Op::lose: world.lose(a); break;
    case Op::connect_ok: world.connect_outcome(a, true); break;
    case Op::connect_fail: world.connect_outcome(a, false); break;
    case Op::health: world.health(a); break;
    case Op::advance: world.advance(milliseconds(kAdvanceMs[a % std::size(kAdvanceMs)])); break;
    case Op::stray: world.stray(a); break;
    case Op::produce: world.produce(c % 2 == 0); break;
    case Op::lag: world.lag(a); break;
    case Op::catch_up: world.catch_up(a, c % 2 == 0); break;
    // Depth 1 .. backfill_depth + 1: a reorg a fill can follow, and one it cannot.
    case Op::reorg: world.reorg(1 + a % (World::kBackfillDepth + 1), b, c % 2 == 0); break;
  }
}

}  // namespace vixy::ws::model
