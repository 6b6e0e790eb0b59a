#!/usr/bin/env bash
# Checks vixy's Debian package (scripts/package.sh) as an operator would meet it: its metadata and
# contents, the systemd unit (systemd-analyze verify), then the unpacked binary with the packaged
# config, its nodes pointed at fake nodes on 127.0.0.1, answering through /el and /cl.
#   scripts/check-package.sh PACKAGE.deb FAKENODE_BINARY
# Every process it starts is stopped by PID on exit; everything it writes is in a temporary folder.
set -euo pipefail
package="$1"
fakenode="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
version="$(sed -n 's/^project(vixy VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")"
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "check-package: $*" >&2
  exit 1
}

# Metadata.
info="$(dpkg-deb -f "$package" Package Version Architecture Depends Section)"
grep -qx "Package: vixy" <<<"$info" || fail "package name: $info"
grep -qx "Version: $version" <<<"$info" || fail "version is not $version: $info"
grep -qx "Architecture: $(dpkg --print-architecture)" <<<"$info" || fail "architecture: $info"
for library in libboost-url1.81.0 libssl3 libtomlplusplus3 libstdc++6 libjemalloc2; do
  grep -q "^Depends:.*$library" <<<"$info" || fail "no dependency on $library: $info"
done
dpkg-deb --ctrl-tarfile "$package" | tar -xO ./conffiles | grep -qx /etc/vixy/config.toml ||
  fail "/etc/vixy/config.toml is not a conffile"
# The maintainer scripts: present, executable, valid sh, the same as deploy/debian's.
control="$work/control"
mkdir -p "$control"
dpkg-deb -e "$package" "$control"
for script in postinst prerm postrm; do
  [ -x "$control/$script" ] || fail "no executable $script"
  sh -n "$control/$script" || fail "$script is not valid sh"
  cmp -s "$control/$script" "$root/deploy/debian/$script" || fail "$script is not deploy/debian/$script"
done

# Contents: the proxy, its config and its unit; nothing of the harness.
files="$(dpkg-deb -c "$package" | awk '$1 !~ /^d/ {print $6}' | sort)"
expected="$(printf '%s\n' ./etc/vixy/config.toml ./usr/bin/vixy ./usr/lib/systemd/system/vixy.service)"
[ "$files" = "$expected" ] || fail "files are not the expected ones:"$'\n'"$files"

unpacked="$work/root"
dpkg-deb -x "$package" "$unpacked"
cmp -s "$unpacked/etc/vixy/config.toml" "$root/config.example.toml" || fail "the config is not config.example.toml"
"$unpacked/usr/bin/vixy" --version | grep -qx "vixy $version" || fail "the binary is not version $version"

# The unit, with its binary at the unpacked path (verify checks that the commands exist). Any
# complaint fails: verify exits 0 on a misspelt setting it ignores.
unit="$work/vixy.service"
sed "s|/usr/bin/vixy|$unpacked/usr/bin/vixy|g" "$unpacked/usr/lib/systemd/system/vixy.service" >"$unit"
cmp -s <(sed "s|$unpacked||g" "$unit") "$root/deploy/systemd/vixy.service" || fail "the unit is not deploy/systemd/vixy.service"
verified="$(systemd-analyze verify "$unit" 2>&1)" || fail "systemd-analyze verify: $verified"
[ -z "$verified" ] || fail "systemd-analyze verify: $verified"

# The packaged binary and config against fake nodes.
wait_listening() {  # LOG WHAT -> prints the port
  local i
  for i in $(seq 200); do
    if port="$(sed -n "s/.*msg=listening what=$2 addr=127\.0\.0\.1:\([0-9]*\).*/\1/p" "$1" | head -n 1)" && [ -n "$port" ]; then
      echo "$port"
      return 0
    fi
    sleep 0.05
  done
  fail "no 'listening what=$2' in $1: $(cat "$1")"
}
"$fakenode" el --listen 127.0.0.1:0 --admin 127.0.0.1:0 --name el >"$work/el.log" 2>&1 &
pids+=($!)
"$fakenode" cl --listen 127.0.0.1:0 --admin 127.0.0.1:0 --name cl >"$work/cl.log" 2>&1 &
pids+=($!)
el_port="$(wait_listening "$work/el.log" rpc)"
cl_port="$(wait_listening "$work/cl.log" rpc)"
config="$work/config.toml"
sed -e "s|^http_url = .*|http_url = \"http://127.0.0.1:$el_port\"|" \
    -e "s|^ws_url = .*|ws_url = \"ws://127.0.0.1:$el_port\"|" \
    -e "s|^url = .*|url = \"http://127.0.0.1:$cl_port\"|" "$unpacked/etc/vixy/config.toml" >"$config"
! grep -Eq '(localhost|example\.com)' "$config" || fail "a node of the packaged config was left unchanged"
"$unpacked/usr/bin/vixy" --check-config "$config" >/dev/null || fail "--check-config refused the packaged config"
"$unpacked/usr/bin/vixy" --config "$config" --listen 127.0.0.1:0 >"$work/vixy.log" 2>&1 &
pids+=($!)
proxy_port="$(wait_listening "$work/vixy.log" proxy)"
for i in $(seq 200); do
  curl -sf "http://127.0.0.1:$proxy_port/ready" >/dev/null && break
  [ "$i" = 200 ] && fail "not ready: $(cat "$work/vixy.log")"
  sleep 0.05
done
answer="$(curl -sf -H 'Content-Type: application/json' \
  -d '{"jsonrpc":"2.0","id":7,"method":"eth_blockNumber","params":[]}' "http://127.0.0.1:$proxy_port/el")"
grep -Eq '"result":"0x[0-9a-f]+"' <<<"$answer" || fail "eth_blockNumber through the packaged vixy: $answer"
beacon="$(curl -sf "http://127.0.0.1:$proxy_port/cl/eth/v1/node/syncing")"
grep -q '"head_slot"' <<<"$beacon" || fail "/cl/eth/v1/node/syncing through the packaged vixy: $beacon"
echo "check-package: $(basename "$package") OK (metadata, contents, unit, served /el and /cl)"
