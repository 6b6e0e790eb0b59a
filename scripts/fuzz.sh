#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang, ASan + UBSan) in build-fuzz/, runs each one's
# committed corpus once as a regression test (ctest), then fuzzes each target from its corpus for
# a share of the time budget, one target per CPU at a time. Fails when a target crashes, printing
# the input and how to replay it.
#   scripts/fuzz.sh                  90 s of fuzzing (scripts/test.sh, and so CI, runs 30 s)
#   scripts/fuzz.sh --seconds 600    a longer session
#   scripts/fuzz.sh --target json_scan --seconds 300   one target
# New inputs the fuzzer finds go to build-fuzz/fuzz-work/<target>/new, crashes to
# build-fuzz/fuzz-work/<target>/; neither goes into the repository by itself (README, Fuzzing).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds=90
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --target) only="$2"; shift 2 ;;
    *) echo "usage: $0 [--seconds N] [--target NAME]" >&2; exit 2 ;;
  esac
done

build_dir="$("$root/scripts/build.sh" --fuzz | tail -n 1)"

# libFuzzer reports leaks and sanitizer findings itself and saves the input; these only make sure
# every UBSan finding stops the run with a stack.
export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# Quietly: the summary line of the main suite's ctest stays the test command's last.
if ! (cd "$build_dir" && ctest --output-on-failure --timeout 120 -L fuzz -j "$(nproc)") >"$build_dir/corpus-replay.log" 2>&1; then
  cat "$build_dir/corpus-replay.log" >&2
  echo "fuzz: an input of the committed corpus (tests/fuzz/corpus) fails" >&2
  exit 1
fi
echo "fuzz: the committed corpus replays cleanly"

# tests/fuzz/CMakeLists.txt lists every target with its -max_len.
mapfile -t targets < "$build_dir/tests/fuzz/fuzz_targets.txt"
if [ -n "$only" ]; then
  mapfile -t targets < <(printf '%s\n' "${targets[@]}" | awk -v t="$only" '$1 == t')
  [ ${#targets[@]} -eq 1 ] || { echo "fuzz: no target named $only" >&2; exit 2; }
fi
# The budget is wall time: the targets run one per CPU at a time, in rounds that share it.
slots=$(nproc)
rounds=$(( (${#targets[@]} + slots - 1) / slots ))
share=$(( seconds / rounds ))
[ "$share" -ge 1 ] || share=1

fuzz_one() {
  local name="$1" max_len="$2"
  local binary="$build_dir/tests/fuzz/$name"
  local corpus="$root/tests/fuzz/corpus/$name"
  local work="$build_dir/fuzz-work/$name"
  mkdir -p "$work/new"
  rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$work/failure.txt"  # a previous run's
  local log="$work/fuzz.log"
  # The first corpus folder receives what the fuzzer finds: the scratch one, not the repository's.
  # -timeout: one input taking this long is a hang, reported like a crash.
  if "$binary" "$work/new" "$corpus" -max_total_time="$share" -max_len="$max_len" -timeout=10 \
       -rss_limit_mb=2048 -artifact_prefix="$work/" -print_final_stats=1 >"$log" 2>&1; then
    echo "fuzz: $name: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') inputs in ${share}s, no crash"
    return 0
  fi
  # One report at a time on stderr: the targets beside it may end meanwhile.
  {
    echo "fuzz: $name FAILED; the end of its log ($log):"
    tail -n 60 "$log"
    for input in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
      [ -e "$input" ] || continue
      echo "fuzz: $name: input $input; replay: $binary $input"
    done
  } >"$work/failure.txt"
  return 1
}

failed=0
running=0
for line in "${targets[@]}"; do
  read -r name max_len <<< "$line"
  if [ "$running" -ge "$slots" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  fuzz_one "$name" "$max_len" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
for line in "${targets[@]}"; do
  read -r name _ <<< "$line"
  [ ! -e "$build_dir/fuzz-work/$name/failure.txt" ] || cat "$build_dir/fuzz-work/$name/failure.txt" >&2
done
exit "$failed"
