#pragma once
// Checks on what CL event-stream listeners saw (GET /cl/eth/v1/events through the proxy). vixy
// relays a stream from one healthy CL node byte for byte until either side leaves or the node stops
// being routable (it stalls, lags or fails its checks while connected, and vixy ends the stream);
// when that node dies or is dropped the client's stream ends and a new request goes to a healthy
// node. So, per listener:
//  * every event is well formed: a topic it asked for; a head event's data is a JSON object with a
//    decimal slot and 32-byte hex block and state roots; a 200 answer is text/event-stream;
//  * on one stream head slots only rise (one node's stream, never two glued together or replayed);
//  * every head event for a slot names the same block root (all fake CL nodes share one chain);
//  * with a bound: the time without a head event (from its first request, across reconnections,
//    to the end of listening) stays within it, except while every CL node is down (killed, paused
//    or blackholed: see cl_outages).
// Pure: it judges recorded histories, the unit tests feed it hand-written ones.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chaos/checker.hpp"
#include "chaos/history.hpp"

namespace vixy::chaos {

struct SseCheckSpec {
  std::vector<std::string> topics{"head"};
  std::optional<std::chrono::milliseconds> max_gap;
  std::vector<std::pair<SteadyTime, SteadyTime>> outages;  // every CL node down, [from, to)
  SteadyTime stopped{};                                    // when the listeners stopped listening
};

struct SseStats {
  std::size_t listeners = 0;
  std::size_t streams = 0;           // 200 event-stream answers
  std::size_t failed_opens = 0;      // refused, reset, timed out or not a 200 event stream
  std::size_t ended_by_proxy = 0;    // streams the proxy (or its node) ended while the listener listened
  std::size_t reconnections = 0;     // streams opened after a listener's first
  std::size_t events = 0;
  std::size_t head_events = 0;
  double longest_gap_ms = 0;         // without a head event, judged periods only
  std::string longest_gap_where;     // "listener 1, 3200-5400 ms"
};

// Named "SSE" in the report.
InvariantResult check_sse(const std::vector<SseStreamHistory>& streams, SteadyTime start, const SseCheckSpec& spec,
                          SseStats& stats);

}  // namespace vixy::chaos
