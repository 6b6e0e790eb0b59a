#!/usr/bin/env bash
# Runs Prometheus's promtool with the given arguments (the alert rules' checks and unit tests). The
# promtool on PATH if there is one; otherwise the one in Debian's prometheus package, unpacked into
# a cache folder outside the repository: installing the package would start a Prometheus server.
set -euo pipefail
if command -v promtool >/dev/null; then
  exec promtool "$@"
fi
cache="${XDG_CACHE_HOME:-$HOME/.cache}/vixy"
promtool="$cache/promtool"
if [ ! -x "$promtool" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # apt-get download writes as the _apt user where it can; a private folder makes it use root.
  chmod 755 "$work"
  if ! (cd "$work" && apt-get download -qq prometheus 2>/dev/null); then
    sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    (cd "$work" && apt-get download -qq prometheus)
  fi
  dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
  mkdir -p "$cache"
  install -m 755 "$work/root/usr/bin/promtool" "$promtool"
fi
exec "$promtool" "$@"
