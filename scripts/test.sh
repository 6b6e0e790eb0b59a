#!/usr/bin/env bash
# Sets up the machine (scripts/bootstrap.sh), builds with AddressSanitizer + UndefinedBehaviorSanitizer
# and warnings as errors, and runs every test (unit, property, integration against the real
# binaries). Then vixy built with ThreadSanitizer runs the tests that drive its threads and the
# whole chaos scenario library; then batches of the deterministic simulation, fuzz batches (a fixed
# seed and a fresh one) against the sanitized vixy, and the libFuzzer targets; the benchmarks once,
# and the Debian package built and checked. Any sanitizer report fails the test that produced it.
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
# Two tests per CPU: most of the integration tests wait on timelines and sockets (one per CPU kept
# 1.04 of 2 cores busy: 211 s of CPU in 202 s); the load-sensitive one, WsScale, runs alone anyway.
ctest --output-on-failure --timeout 300 -j "$((2 * $(nproc)))"
phase "ctest"

# vixy's threads (one per CPU by default, two on a 2-core machine) under ThreadSanitizer: a data race
# is reported and makes vixy's exit status non-zero, which fails the test or scenario that ran it.
tsan_vixy="$("$root/scripts/build.sh" --tsan --quiet | tail -n 1)/proxy/vixy"
phase "ThreadSanitizer build"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
VIXY_TEST_PROXY_BIN="$tsan_vixy" ctest --output-on-failure --timeout 300 -j "$(nproc)" \
  -R '^(Threads|Process|Service|Reload|HostileClient|HealthFailover|WsFailover|ClEventStream)\.'
phase "ThreadSanitizer ctest"

chaos="$build_dir/chaos/vixy-chaos"
# The whole library, against the ThreadSanitizer vixy, one scenario per CPU at a time (their
# timelines, 207 s in all, are what takes the time: one at a time kept 0.4 of a core busy);
# scenarios/extended/ (full-size variants, minutes each) is run by hand. Each run's picture stays in
# the build folder (a failing one's is what to open first). Meanwhile the libFuzzer tree, the
# benchmarks and the optimised vixy (for the package) are built at the lowest priority, in a
# session of their own that a failing scenario's exit takes down (the steps below build whatever
# this did not, and show why). A new session is a new scheduler autogroup where the kernel has them
# (Debian's does): nice then ranks only within the session, and the sessions share the CPUs evenly,
# so the whole session's autogroup is lowered too. Nothing else runs beside the scenarios: with the
# simulation running here too (before the autogroup was lowered), incident-replay's proxy was
# starved (median latency 8 s), and a TSan build beside ctest did the same to ChaosSoak's.
setsid nice -n 19 bash -c '{ echo 19 >/proc/self/autogroup; } 2>/dev/null || true
  "$1/scripts/build.sh" --fuzz --quiet &&
  cmake -S "$1" -B "$2" -DVIXY_BUILD_BENCH=ON &&
  cmake --build "$2" --parallel "$(nproc)" --target vixy-loadgen vixy_micro_bench &&
  "$1/scripts/build.sh" --quiet --target vixy' prebuild "$root" "$build_dir" \
  >/dev/null 2>&1 &
prebuild=$!
trap 'kill -- -"$prebuild" 2>/dev/null || true' EXIT
"$chaos" run "$root"/scenarios/*.json --jobs "$(nproc)" --proxy-bin "$tsan_vixy" \
  --report "$build_dir/scenarios-report.json" --html "$build_dir/scenario-pages"
phase "scenario library"
wait "$prebuild" || true
trap - EXIT

# The deterministic simulation (the cores, simulated nodes and network, a virtual clock), as
# vixy-sim: `vixy-chaos sim` built alone in this tree, optimised and without sanitizers (ten times
# faster). A fixed seed and a fresh one (a failure prints its faults and the command that replays
# it), side by side, 200 runs of 5 simulated minutes each: 2,000 simulated minutes.
sim="$build_dir/chaos/vixy-sim"
"$sim" --seed 1 --runs 200 --minutes 5 >"$build_dir/sim-fixed.log" 2>&1 &
fixed=$!
sim_status=0
"$sim" --seed "$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')" --runs 200 --minutes 5 >"$build_dir/sim-fresh.log" 2>&1 ||
  sim_status=$?
wait "$fixed" || sim_status=$?
grep -hv '^sim seed [0-9]*: OK ' "$build_dir/sim-fixed.log" "$build_dir/sim-fresh.log" || true  # failures in full, summaries
[ "$sim_status" -eq 0 ] || exit "$sim_status"
phase "deterministic simulation"

# libFuzzer targets (tests/fuzz, a clang tree of their own in build-fuzz/): the committed corpus
# once as regression tests, then 30 s of fuzzing, the targets one per CPU at a time (scripts/fuzz.sh
# alone runs 90 s). Beside the chaos fuzz batches below, whose timelines leave CPU idle, at the
# lowest priority in a session of its own (as the prebuild above): its budget is wall time, so it
# costs no time of its own, only fuzzing inputs where the batches need the CPU.
setsid nice -n 19 bash -c '{ echo 19 >/proc/self/autogroup; } 2>/dev/null || true
  exec "$1/scripts/fuzz.sh" --seconds 30' libfuzzer "$root" >"$build_dir/libfuzzer.log" 2>&1 &
libfuzzer=$!
trap 'kill -- -"$libfuzzer" 2>/dev/null || true' EXIT

# A fixed seed keeps CI comparable; a fresh one (printed, so a failure can be replayed) widens it.
# Side by side (timelines again, not CPU), each into its own log, printed in this order after.
"$chaos" fuzz --seed 1 --runs 3 --out "$build_dir/fuzz-failures" >"$build_dir/fuzz-fixed.log" 2>&1 &
fixed=$!
fuzz_status=0
"$chaos" fuzz --seed "$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')" --runs 3 --out "$build_dir/fuzz-failures" \
  >"$build_dir/fuzz-fresh.log" 2>&1 || fuzz_status=$?
wait "$fixed" || fuzz_status=$?
cat "$build_dir/fuzz-fixed.log" "$build_dir/fuzz-fresh.log"
[ "$fuzz_status" -eq 0 ] || exit "$fuzz_status"
phase "chaos fuzz"

libfuzzer_status=0
wait "$libfuzzer" || libfuzzer_status=$?
trap - EXIT
cat "$build_dir/libfuzzer.log"
[ "$libfuzzer_status" -eq 0 ] || exit "$libfuzzer_status"
phase "libFuzzer (what was left of it)"

# Benchmarks (bench/README.md) are not tests: built in this tree and each run once briefly to prove
# it works; nothing about speed is asserted. The report goes to a file, not into the test log.
"$root/scripts/bench.sh" --quick --build-dir "$build_dir" --out "$build_dir/bench-quick.md" >/dev/null
phase "benchmarks"

# The Debian package as an operator installs it (scripts/package.sh, from the optimised vixy the
# prebuild above made): metadata, contents, the systemd unit verified, and the unpacked binary with
# the packaged config serving /el and /cl from fake nodes.
package="$("$root/scripts/package.sh" | tail -n 1)"
"$root/scripts/check-package.sh" "$package" "$build_dir/fakenodes/vixy-fakenode"
phase "package"

# The alert rules (deploy/prometheus): valid, and each alert fires when its unit test says. That
# they and the dashboard name only metrics vixy exports is the Deploy integration test's part.
"$root/scripts/promtool.sh" check rules "$root/deploy/prometheus/alerts.yml"
"$root/scripts/promtool.sh" test rules "$root/deploy/prometheus/alerts_test.yml"
phase "alert rules"
