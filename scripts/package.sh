#!/usr/bin/env bash
# Builds vixy's Debian package from the optimised build (build/) and prints its path on the last
# line. Only the proxy goes in it: /usr/bin/vixy, /etc/vixy/config.toml (a conffile, from
# config.example.toml) and the systemd unit (deploy/systemd/vixy.service). Install it with
#   sudo apt install ./vixy_<version>_<arch>.deb
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/bootstrap.sh"
build_dir="$("$root/scripts/build.sh" --quiet --target vixy | tail -n 1)"
# The package's paths: /usr/bin and /etc (GNUInstallDirs maps the prefix /usr to /etc).
cmake -S "$root" -B "$build_dir" -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build "$build_dir" --target vixy >/dev/null
output="$(cd "$build_dir" && cpack -G DEB 2>&1)" || { echo "$output" >&2; exit 1; }
package="$(sed -n 's/^CPack: - package: \(.*\) generated\.$/\1/p' <<<"$output")"
[ -f "$package" ] || { echo "$output" >&2; echo "package.sh: cpack named no package" >&2; exit 1; }
echo "$package"
