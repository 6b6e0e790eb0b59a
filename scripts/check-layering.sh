#!/usr/bin/env bash
# The proxy's directories form layers, and includes only go down: a directory may include its own
# headers and those of lower layers, never a higher or a sibling one. A cycle between directories
# is what made every change rebuild (and every reader read) the whole proxy. Run by ctest.
#   scripts/check-layering.sh [PROXY_DIR]
set -euo pipefail
proxy="${1:-$(cd "$(dirname "$0")/../proxy" && pwd)}"

# Bottom to top. Directories on one line are siblings: neither may include the other.
layers=(
  "log text"
  "jsonrpc config"
  "net"            # sockets, TLS, URLs and the HTTP server plumbing the harness reuses
  "health"         # the health snapshot: what routing decides on
  "routing observability"
  "http ws"        # upstream pools, relay and request handlers; WebSocket sessions
  "monitor"        # the health monitor: checks nodes through the pools, publishes snapshots
  "server"         # the app: wiring, routes, status
)
declare -A rank
for i in "${!layers[@]}"; do
  for dir in ${layers[$i]}; do rank[$dir]=$i; done
done

problems=0
for path in "$proxy"/*/; do
  dir="$(basename "$path")"
  if [ -z "${rank[$dir]+set}" ]; then
    echo "layering: proxy/$dir/ has no layer; add it to ${BASH_SOURCE[0]}" >&2
    problems=$((problems + 1))
  fi
done
while IFS=: read -r file _ line; do
  from="${file#"$proxy"/}"
  from_dir="${from%%/*}"
  [[ "$line" =~ \#include\ \"([a-z_]+)/ ]] || continue
  to_dir="${BASH_REMATCH[1]}"
  [ "$to_dir" = "$from_dir" ] && continue
  if [ -z "${rank[$to_dir]+set}" ]; then
    echo "layering: proxy/$from includes $to_dir/, which is not part of the proxy" >&2
    problems=$((problems + 1))
  elif [ "$from" != "main.cpp" ] && [ "${rank[$to_dir]}" -ge "${rank[$from_dir]:-0}" ]; then
    echo "layering: proxy/$from ($from_dir/, layer ${rank[$from_dir]}) includes $to_dir/ (layer ${rank[$to_dir]}): includes must go down" >&2
    problems=$((problems + 1))
  fi
done < <(grep -rHn '^#include "' "$proxy" --include='*.hpp' --include='*.cpp')

if [ "$problems" -gt 0 ]; then
  echo "layering: $problems problem(s)" >&2
  exit 1
fi
echo "layering: ok"
