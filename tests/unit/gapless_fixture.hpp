#pragma once
// A test chain for the gapless stream tests (ws_gapless_test.cpp, ws_gapless_logs_test.cpp): the
// block at height h on fork f has hash 0x<f as 2 hex digits><h as 62 hex digits>.

#include <cstdint>
#include <cstdio>
#include <string>

namespace vixy::ws::gapless::testing {

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
