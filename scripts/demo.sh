#!/usr/bin/env bash
# Sets up the machine, builds, and runs the main job: fake EL/CL nodes and the real vixy binary on
# loopback ports, requests through the proxy, a primary killed, the failover shown and summarised.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/bootstrap.sh"
build_dir="$("$root/scripts/build.sh" | tail -n 1)"
exec "$build_dir/chaos/vixy-chaos" demo "$@"
