#!/usr/bin/env bash
# The soak: the incident's workload against one optimised vixy for an hour (`--minutes N` for
# another length), a fault every 30 s, every minute checked like a scenario run. Prints each
# minute's verdict with vixy's resident memory and open descriptors, then whether they stayed flat
# (a leak grows them minute after minute). Exit 1 on a violation or growth. Not part of CI.
#   scripts/soak.sh [--minutes N] [--segment-ms MS] [--report out.json] [--proxy-bin PATH]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/bootstrap.sh"
build_dir="$("$root/scripts/build.sh" --quiet --target vixy --target vixy-fakenode --target vixy-chaos | tail -n 1)"
exec "$build_dir/chaos/vixy-chaos" soak "$@"
