#!/usr/bin/env bash
# Sets up the machine (scripts/bootstrap.sh), builds with AddressSanitizer + UndefinedBehaviorSanitizer
# and warnings as errors, and runs every test (unit, property, integration against the real
# binaries). Then vixy built with ThreadSanitizer runs the tests that drive its threads and the
# whole chaos scenario library, beside batches of the deterministic simulation; fuzz batches (a fixed seed and a fresh one) run against the
# sanitized vixy, then the libFuzzer targets. Any sanitizer report fails the test that produced it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# Where the time goes (issue 15's CI budget), one line per phase.
phase_start=$SECONDS
phase() {
  echo "test.sh: $1 took $((SECONDS - phase_start)) s" >&2
  phase_start=$SECONDS
}
"$root/scripts/bootstrap.sh"
# The client-library tests' npm packages (ctest's fixture would install them too; here a registry
# problem shows before the build).
"$root/scripts/npm-clients.sh"
phase "set-up"
build_dir="$("$root/scripts/build.sh" --sanitize --quiet | tail -n 1)"
phase "sanitized build"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$build_dir"
ctest --output-on-failure --timeout 300 -j "$(nproc)"
phase "ctest"

# vixy's threads (one per CPU by default, two on a 2-core machine) under ThreadSanitizer: a data race
# is reported and makes vixy's exit status non-zero, which fails the test or scenario that ran it.
# vixy-chaos too, for the simulation below (optimised, unlike the sanitized tree's).
tsan_dir="$("$root/scripts/build.sh" --tsan --quiet --target vixy-chaos | tail -n 1)"
tsan_vixy="$tsan_dir/proxy/vixy"
phase "ThreadSanitizer build"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
VIXY_TEST_PROXY_BIN="$tsan_vixy" ctest --output-on-failure --timeout 300 -j "$(nproc)" \
  -R '^(Threads|Process|HostileClient|HealthFailover|WsFailover|ClEventStream)\.'
phase "ThreadSanitizer ctest"

chaos="$build_dir/chaos/vixy-chaos"
# Work that needs CPU runs at the lowest priority (its own process group, killed if this script
# stops early) beside phases that mostly wait on timelines: the scenarios and the fuzz batches.
# Not beside ctest: a ThreadSanitizer build there starved ChaosSoak's sanitized proxy (a median
# latency of 5.8 s; two runs of two). A background build that fails is run again in the
# foreground, which shows why.
background_groups=()
trap 'for g in "${background_groups[@]}"; do kill -- -"$g" 2>/dev/null || true; done' EXIT
at_low_priority() {
  setsid nice -n 19 "$@" >/dev/null 2>&1 &
  background_groups+=("$!")
}
# The whole library, against the ThreadSanitizer vixy; scenarios/extended/ (full-size variants,
# minutes each) is run by hand. Each run's picture stays in the build folder (a failing one's is
# what to open first). Meanwhile the libFuzzer tree and the benchmarks are built (fuzz.sh and
# bench.sh below then find them built).
at_low_priority bash -c '"$1/scripts/build.sh" --fuzz --quiet &&
  cmake -S "$1" -B "$2" -DVIXY_BUILD_BENCH=ON &&
  cmake --build "$2" --parallel "$(nproc)" --target vixy-loadgen vixy_micro_bench' prebuild "$root" "$build_dir"
prebuild=$!
# The deterministic simulation (vixy-chaos sim, no sockets, a virtual clock): a fixed seed and a
# fresh one (printed with any failure, with the command that replays it), 40 runs of 5 simulated
# minutes each. The TSan tree's vixy-chaos: optimised (-O1), unlike the sanitized tree's (-O0),
# whose run of the same simulation takes seven times as long.
sim_log="$build_dir/sim.log"
setsid nice -n 19 bash -c '"$1" sim --seed 1 --runs 40 --minutes 5 && "$1" sim --seed "$2" --runs 40 --minutes 5' \
  sim "$tsan_dir/chaos/vixy-chaos" "$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')" >"$sim_log" 2>&1 &
sim=$!
background_groups+=("$sim")
"$chaos" run "$root"/scenarios/*.json --proxy-bin "$tsan_vixy" --report "$build_dir/scenarios-report.json" \
  --html "$build_dir/scenario-pages"
phase "scenario library"
wait "$prebuild" || true
sim_status=0
wait "$sim" || sim_status=$?
grep -v '^sim seed [0-9]*: OK ' "$sim_log" || true  # failures in full, and each batch's summary
[ "$sim_status" -eq 0 ] || exit "$sim_status"
phase "deterministic simulation (the rest of it)"

# libFuzzer targets (tests/fuzz, a clang tree of their own in build-fuzz/): the committed corpus
# once as regression tests, then 60 s of fuzzing in all (a shorter CI; scripts/fuzz.sh alone runs 90 s).
# They run one at a time on one core, at the lowest priority, beside the chaos fuzz batches, which
# mostly wait on their timelines; the libFuzzer log is printed after the batches.
libfuzzer_log="$build_dir/libfuzzer.log"
setsid nice -n 19 "$root/scripts/fuzz.sh" --seconds 60 >"$libfuzzer_log" 2>&1 &
libfuzzer=$!
background_groups+=("$libfuzzer")
# A fixed seed keeps CI comparable; a fresh one (printed, so a failure can be replayed) widens it.
"$chaos" fuzz --seed 1 --runs 3 --out "$build_dir/fuzz-failures"
"$chaos" fuzz --seed "$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')" --runs 3 --out "$build_dir/fuzz-failures"
phase "chaos fuzz"
libfuzzer_status=0
wait "$libfuzzer" || libfuzzer_status=$?
cat "$libfuzzer_log"
[ "$libfuzzer_status" -eq 0 ] || exit "$libfuzzer_status"
phase "libFuzzer (the rest of it)"

# Benchmarks (bench/README.md) are not tests: built in this tree and each run once briefly to prove
# it works; nothing about speed is asserted. The report goes to a file, not into the test log.
"$root/scripts/bench.sh" --quick --build-dir "$build_dir" --out "$build_dir/bench-quick.md" >/dev/null
phase "benchmarks"
