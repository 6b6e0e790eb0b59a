#pragma once
// The fuzz targets' assertion: a broken invariant aborts, which libFuzzer reports as a crash and
// saves the input for. Unlike assert() it is never compiled out.
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace vixy::fuzz {

[[noreturn]] inline void check_failed(std::string_view what, const char* file, int line) {
  std::fprintf(stderr, "fuzz invariant broken: %.*s (%s:%d)\n", static_cast<int>(what.size()), what.data(), file,
               line);
  std::abort();
}

}  // namespace vixy::fuzz

#define VIXY_FUZZ_CHECK(condition, what) \
  ((condition) ? static_cast<void>(0) : ::vixy::fuzz::check_failed((what), __FILE__, __LINE__))
