#!/usr/bin/env bash
# Configures and builds the project. Prints the build folder on its last line.
#   scripts/build.sh              optimised build in build/ (the demo and benchmarks use it)
#   scripts/build.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/
#   scripts/build.sh --fuzz       only the libFuzzer targets (clang) in build-fuzz/ (scripts/fuzz.sh)
# Warnings are errors in all.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="$root/build"
options=(-DVIXY_WERROR=ON)
if [ "${1:-}" = "--sanitize" ]; then
  shift
  build_dir="$root/build-asan"
  # -O0 with line tables only: sanitizer reports keep file:line, and the build stays short on 2 cores.
  options+=(-DVIXY_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-g1" -DVIXY_BUILD_BENCH=OFF)
elif [ "${1:-}" = "--fuzz" ]; then
  shift
  build_dir="$root/build-fuzz"
  # tests/fuzz/CMakeLists.txt sets the optimisation and sanitizer flags itself.
  options+=(-DVIXY_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=None)
fi
# ccache, when installed, lets helper worktrees and rebuilds reuse each other's objects; CI has none.
if command -v ccache >/dev/null; then
  options+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}" CCACHE_NOHASHDIR=1
fi
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build_dir" "${generator[@]}" "${options[@]}" "$@" >&2
fi
cmake --build "$build_dir" --parallel "$(nproc)" >&2
echo "$build_dir"
