#!/usr/bin/env bash
# Configures and builds the project into build/ (or build-asan/ with --sanitize).
# Usage: scripts/build.sh [--sanitize] [extra cmake -D options...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="$root/build"
options=(-DVIXY_WERROR=ON)
if [ "${1:-}" = "--sanitize" ]; then
  shift
  build_dir="$root/build-asan"
  options+=(-DVIXY_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DVIXY_BUILD_BENCH=OFF)
fi
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build_dir" "${generator[@]}" "${options[@]}" "$@" >&2
fi
cmake --build "$build_dir" --parallel "$(nproc)" >&2
echo "$build_dir"
