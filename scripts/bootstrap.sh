#!/usr/bin/env bash
# Installs every Debian package the project needs. Idempotent: when all of them are present it only
# checks and returns, so the README's commands and .ci/run can call it on every run.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl openssl
  libboost1.81-dev libboost-url1.81-dev libssl-dev
  nlohmann-json3-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  # vixy's malloc (proxy/CMakeLists.txt).
  libjemalloc-dev
  # The fuzz targets (scripts/fuzz.sh): clang++, libFuzzer (libclang_rt.fuzzer-x86_64.a, which
  # clang only recommends) and llvm-symbolizer for readable stacks in a crash report. The
  # sanitized trees are clang's too, linked by lld (a sanitized test program: 19 s with ld, 4 s).
  clang libclang-rt-dev llvm lld
  # The package check (scripts/check-package.sh): systemd-analyze verifies the unit.
  systemd
)
# Node.js runs the client-library tests (tests/clients). Checked by command, not by package: a
# NodeSource nodejs already brings npm and conflicts with Debian's npm package.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "bootstrap: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "bootstrap: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
