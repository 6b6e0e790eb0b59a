#!/usr/bin/env bash
# Sets up the machine, builds, and runs the main job: the incident replay scenario (fake EL nodes
# behind fault injectors, the real vixy, WebSocket clients holding several subscriptions with
# reused ids while the primary is killed, restarted and cut off four times) and prints its report.
# Extra arguments go to `vixy-chaos run` (e.g. --report out.json).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/bootstrap.sh"
# Only the three programs the scenario runs, not the tests and benchmarks.
build_dir="$("$root/scripts/build.sh" --quiet --target vixy --target vixy-fakenode --target vixy-chaos | tail -n 1)"
exec "$build_dir/chaos/vixy-chaos" run "$root/scenarios/incident-replay.json" "$@"
