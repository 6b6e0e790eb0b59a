#!/usr/bin/env bash
# Configures and builds the project. Prints the build folder on its last line.
#   scripts/build.sh              optimised build in build/ (the demo and benchmarks use it)
#   scripts/build.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer (clang) in build-asan/
#   scripts/build.sh --fuzz       only the libFuzzer targets (clang) in build-fuzz/ (scripts/fuzz.sh)
#   scripts/build.sh --tsan       vixy (and any --target after it) under ThreadSanitizer (clang) in build-tsan/
#   --target NAME (repeatable)    only these targets (and what they need), not everything
#   --quiet                       one progress line instead of the compiler's output; the whole
#                                 log goes to BUILD_DIR/build.log and is printed if the build fails
# Other arguments go to CMake's first configure. Warnings are errors in all.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="$root/build"
options=(-DVIXY_WERROR=ON)
# The clang trees link with lld: the sanitized programs (up to 280 MB) take ld four times as long.
lld=(-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld)
targets=()
quiet=0
configure_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize)
      build_dir="$root/build-asan"
      # -O0 with line tables only: sanitizer reports keep file:line, and the build stays short on 2 cores.
      # clang: at -O0 with the sanitizers it compiles this tree in about half GCC's CPU time.
      options+=(-DVIXY_SANITIZE=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-g1"
                -DVIXY_BUILD_BENCH=OFF "${lld[@]}")
      shift ;;
    --tsan)
      build_dir="$root/build-tsan"
      # clang: it compiles this tree faster than GCC, and its ThreadSanitizer is the reference one.
      # -O1: ThreadSanitizer's own advice; at -O0 a threaded vixy is too slow for the scenarios' timing.
      options+=(-DVIXY_TSAN=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=None "-DCMAKE_CXX_FLAGS=-O1 -g1"
                -DVIXY_BUILD_TESTS=OFF -DVIXY_BUILD_BENCH=OFF "${lld[@]}")
      targets=(--target vixy)
      shift ;;
    --fuzz)
      build_dir="$root/build-fuzz"
      # tests/fuzz/CMakeLists.txt sets the optimisation and sanitizer flags itself.
      options+=(-DVIXY_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=None "${lld[@]}")
      shift ;;
    --target) targets+=(--target "$2"); shift 2 ;;
    --target=*) targets+=(--target "${1#--target=}"); shift ;;
    --quiet) quiet=1; shift ;;
    *) configure_args+=("$1"); shift ;;
  esac
done
# ccache, when installed, lets helper worktrees and rebuilds reuse each other's objects; CI has none.
if command -v ccache >/dev/null; then
  options+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}" CCACHE_NOHASHDIR=1
fi
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

build() {
  # A tree configured with another compiler (build-asan/ was GCC's until 2026-12) is configured anew:
  # CMake cannot switch the compiler of an existing cache.
  local wanted=c++ option
  for option in "${options[@]}" "${configure_args[@]}"; do
    [[ "$option" == -DCMAKE_CXX_COMPILER=* ]] && wanted="${option#-DCMAKE_CXX_COMPILER=}"
  done
  if [ -f "$build_dir/CMakeCache.txt" ] &&
    ! grep -q "^CMAKE_CXX_COMPILER:[A-Z]*=$(command -v "$wanted")\$" "$build_dir/CMakeCache.txt"; then
    rm -rf "$build_dir/CMakeCache.txt" "$build_dir/CMakeFiles"
  fi
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build_dir" "${generator[@]}" "${options[@]}" "${configure_args[@]}"
  fi
  cmake --build "$build_dir" --parallel "$(nproc)" "${targets[@]}"
}

# Ninja and Make both print their progress ("[done/total]", "[ NN%]") at the start of a step's line.
# Shown on a terminal only; a CI log gets the "built" line alone.
progress() {
  local line
  if [ ! -t 2 ]; then
    cat >/dev/null
    return
  fi
  while IFS= read -r line; do
    if [[ "$line" =~ ^\[([0-9]+/[0-9]+)\] ]] || [[ "$line" =~ ^\[\ *([0-9]+%)\] ]]; then
      printf '\rbuilding %s: %s\033[K' "${build_dir##*/}" "${BASH_REMATCH[1]}" >&2
    fi
  done
}

if [ "$quiet" = 0 ]; then
  build >&2
else
  mkdir -p "$build_dir"
  log="$build_dir/build.log"
  if ! build 2>&1 | tee "$log" | progress; then
    if [ -t 2 ]; then printf '\n' >&2; fi
    cat "$log" >&2
    echo "build: failed; the log above is also in $log" >&2
    exit 1
  fi
  if [ -t 2 ]; then printf '\r\033[K' >&2; fi
  printf 'built %s (log: %s)\n' "${build_dir##*/}" "$log" >&2
fi
echo "$build_dir"
