#!/usr/bin/env bash
# The benchmarks in one command (bench/README.md): sets up (scripts/bootstrap.sh, and nginx for the
# comparison), builds optimised in build/, runs the load comparison and the micro-benchmarks, and
# prints the markdown report that bench/RESULTS.md holds.
#   scripts/bench.sh                      full run (about 6 minutes on 2 cores)
#   scripts/bench.sh --quick              each measurement once and briefly: proves it works
#   scripts/bench.sh --build-dir DIR ...  use (and build the benchmark targets in) another build tree
# Other options go to bench/run.py (--help lists them), e.g. --out report.md --json raw.json.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
command_line="scripts/bench.sh${*:+ $*}"
"$root/scripts/bootstrap.sh"

# nginx is the comparison's reverse proxy, needed only here. Installing it must not start Debian's
# nginx service on port 80: a policy-rc.d that forbids starting services is put in place if none is.
if [ ! -x /usr/sbin/nginx ]; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  policy=/usr/sbin/policy-rc.d
  placed=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
    "${sudo_cmd[@]}" chmod +x "$policy"
    placed=1
  fi
  echo "bench: installing nginx" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends nginx >/dev/null
  [ -z "$placed" ] || "${sudo_cmd[@]}" rm -f "$policy"
fi

build_dir=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
targets=(vixy vixy-fakenode vixy-loadgen vixy_micro_bench)
if [ -z "$build_dir" ]; then
  build_dir="$(nice -n 10 "$root/scripts/build.sh" --quiet "${targets[@]/#/--target=}" | tail -n 1)"
else
  # A tree configured without the benchmarks (the sanitizer build) gets them switched on.
  grep -q '^VIXY_BUILD_BENCH:BOOL=ON' "$build_dir/CMakeCache.txt" ||
    cmake -S "$root" -B "$build_dir" -DVIXY_BUILD_BENCH=ON >/dev/null
  nice -n 10 cmake --build "$build_dir" --parallel "$(nproc)" --target "${targets[@]}" >&2
fi
exec python3 "$root/bench/run.py" --build-dir "$build_dir" --command "$command_line" "${args[@]}"
