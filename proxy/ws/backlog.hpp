#pragma once
// When a WebSocket client that reads more slowly than its answers and notifications arrive must be
// closed (I5, and ARCHITECTURE §4: a client that cannot keep up is closed, never allowed to hold
// the others back). The socket adapter (ws/session.cpp) asks after every message it queues.

#include <algorithm>
#include <cstddef>

namespace vixy::ws {

struct BacklogLimits {
  std::size_t per_client = 16 * 1024 * 1024;  // [websocket] max_client_backlog_bytes
  std::size_t process = 256 * 1024 * 1024;    // [server] max_buffered_bytes
  // Past the process-wide bound, clients holding this much, or their fair share of the bound if
  // that is less, are closed: a client that keeps up holds almost nothing, and must not pay for
  // the ones that do not.
  std::size_t process_floor = 1024 * 1024;
};

enum class Overflow { none, backlog, process_buffer };

// `waiting_bytes` and `waiting_messages`: what this client has queued behind the write in progress;
// `process_bytes`: what all `sessions` clients have queued, this one included. One waiting message
// of any size is always allowed (a large eth_getLogs answer is not a slow reader); the write in
// progress is bounded in time instead (client_write_timeout_ms).
inline Overflow check_backlog(const BacklogLimits& limits, std::size_t waiting_bytes, std::size_t waiting_messages,
                              std::size_t process_bytes, std::size_t sessions) {
  if (waiting_messages > 1 && waiting_bytes > limits.per_client) return Overflow::backlog;
  if (process_bytes > limits.process && waiting_bytes > 0) {
    std::size_t fair_share = limits.process / std::max<std::size_t>(sessions, 1);
    if (waiting_bytes >= std::min(limits.process_floor, fair_share)) return Overflow::process_buffer;
  }
  return Overflow::none;
}

inline const char* to_string(Overflow overflow) {
  switch (overflow) {
    case Overflow::none: return "none";
    case Overflow::backlog: return "backlog";
    case Overflow::process_buffer: return "process_buffer";
  }
  return "unknown";
}

}  // namespace vixy::ws
