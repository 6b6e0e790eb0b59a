#!/usr/bin/env bash
# Installs the client libraries the client-library tests run (tests/clients: ethers, viem, web3.js)
# exactly as package-lock.json pins them, and only when that lock changed since the last install:
# a copy of the lock inside node_modules says which lock it was installed from. Run by scripts/test.sh
# and, as a CTest fixture, before those tests when ctest is run by hand.
set -euo pipefail
clients="$(cd "$(dirname "$0")/../tests/clients" && pwd)"
if cmp -s "$clients/package-lock.json" "$clients/node_modules/.vixy-installed-lock.json"; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "npm-clients: npm is not installed; scripts/bootstrap.sh installs it (Debian's nodejs and npm)" >&2
  exit 1
fi
if ! npm ci --prefix "$clients" --no-audit --no-fund --loglevel=error >/dev/null; then
  echo "npm-clients: 'npm ci --prefix $clients' failed; the client-library tests need the npm registry" \
       "($(npm config get registry)) once, to install what tests/clients/package-lock.json pins" >&2
  exit 1
fi
cp "$clients/package-lock.json" "$clients/node_modules/.vixy-installed-lock.json"
