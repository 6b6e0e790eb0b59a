#pragma once
// A test chain for the gapless stream tests (ws_gapless_test.cpp, ws_gapless_logs_test.cpp): the
// block at height h on fork f has hash 0x<f as 2 hex digits><h as 62 hex digits>. And the upstreams
// a notification may come over.

#include <cstdint>
#include <cstdio>
#include <string>

#include "ws/gapless.hpp"

namespace vixy::ws::gapless::testing {

// Over which upstream subscription a notification came (Via): the one the client's subscribe
// made or one a move made; live, or left behind by a later move (make-before-break).
inline constexpr Via kFirst{false, true};
inline constexpr Via kLater{false, false};
inline constexpr Via kLeft{true, true};
inline constexpr Via kLeftLater{true, false};

inline std::string hash(std::uint64_t h, int fork = 0) {
  char buffer[67];
  std::snprintf(buffer, sizeof buffer, "0x%02x%062llx", fork, static_cast<unsigned long long>(h));
  return buffer;
}

inline std::string hex(std::uint64_t n) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(n));
  return buffer;
}

}  // namespace vixy::ws::gapless::testing
