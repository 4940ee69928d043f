#!/usr/bin/env bash
# Runs device-kit/run-on-device.sh here, without a GPU, against test/device/fake-nvidia-smi.cjs,
# to prove the whole pipeline before the one run on a real GPU machine. A `node` that fails loudly
# is put first on PATH: the kit must only use its own node binary (the device has none).
#
#   bash test/device/build-device-kit.sh && bash test/device/try-kit-locally.sh [OUT]
#
# Env: DURATION etc. are passed through to run-on-device.sh; VIA=env tells it the fake's path with
# NVIDIA_SMI instead of PATH.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${1:-/tmp/devout}
SYSTEM_NODE=$(command -v node)
BIN=$(mktemp -d /tmp/fleetscope-fakebin.XXXXXX)
trap 'rm -rf "$BIN"' EXIT
mkdir -p "$BIN/gpu" "$BIN/poison"
# The fake stands in for a device binary: it may use this machine's node; the kit may not.
printf '#!/bin/sh\nexec %q %q "$@"\n' "$SYSTEM_NODE" "$ROOT/test/device/fake-nvidia-smi.cjs" > "$BIN/gpu/nvidia-smi"
printf '#!/bin/sh\necho "system node was used: node $*" >> %q\necho "node from PATH must not be used" >&2\nexit 99\n' "$BIN/poison.log" > "$BIN/poison/node"
chmod +x "$BIN/gpu/nvidia-smi" "$BIN/poison/node"
rm -rf "$OUT"
mkdir -p "$OUT"
if [ "${VIA:-path}" = env ]; then
  env PATH="$BIN/poison:$PATH" NVIDIA_SMI="$BIN/gpu/nvidia-smi" OUT="$OUT" bash "$ROOT/device-kit/run-on-device.sh"
else
  env PATH="$BIN/gpu:$BIN/poison:$PATH" OUT="$OUT" bash "$ROOT/device-kit/run-on-device.sh"
fi
echo "---- $OUT"
ls -l "$OUT"
if [ -s "$BIN/poison.log" ]; then
  cat "$BIN/poison.log"
  echo "FAIL: the kit used a node from PATH" >&2
  exit 1
fi
echo "OK: no node from PATH was used"
