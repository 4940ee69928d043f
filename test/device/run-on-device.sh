#!/usr/bin/env bash
# Device run: the fleetscope agent's real `nvidia-smi` source against the real GPU for ~60 s,
# pushing to a capture hub; an independent `nvidia-smi -l 1` reference, an NVML energy counter
# reading (python3 ctypes, optional) and a GPU load in the middle (torch, optional) run alongside.
# Needs no Node.js on the machine: the kit brings its own node binary (packed, unpacked here).
#
#   OUT=/some/dir bash device-kit/run-on-device.sh      (built by test/device/build-device-kit.sh)
#
# Env: OUT (default ./device-out), NVIDIA_SMI (nvidia-smi to use; default: on PATH),
#      DURATION (agent run, s, default 60), LOAD_AT (s after agent start, default 12),
#      LOAD_S (default 25), INTERVAL (agent --interval, default 1s).
# Writes to OUT (6 files): nvidia-smi-q.txt, frames.jsonl, agent.log, reference.csv, run.log, summary.txt.
# Optional parts that are missing are noted in run.log and skipped; exit 0 unless the agent run
# itself could not happen (no node, hub did not start).
set -u
KIT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:-$PWD/device-out}
DURATION=${DURATION:-60}
LOAD_AT=${LOAD_AT:-12}
LOAD_S=${LOAD_S:-25}
INTERVAL=${INTERVAL:-1s}
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fleetscope-device.XXXXXX" 2>/dev/null) || { WORK=$KIT/.work; mkdir -p "$WORK"; }
RUNLOG=$OUT/run.log
: > "$RUNLOG"
: > "$OUT/frames.jsonl"
now_ms() { date +%s%3N; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S.%3N)" "$*" | tee -a "$RUNLOG" >&2; }
meta() { printf 'META %s=%s\n' "$1" "$2" >> "$RUNLOG"; }
fatal() {
  log "FATAL: $*"
  printf 'device run failed before the agent could run: %s\nsee run.log\n' "$*" > "$OUT/summary.txt"
  [ -n "${HUB_PID:-}" ] && kill "$HUB_PID" 2>/dev/null
  rm -rf "$WORK" "$KIT/.node"
  exit 1
}
alive() { kill -0 "$1" 2>/dev/null; }
# stop PID: TERM, wait up to $2 s, then KILL; prints the exit status
stop_pid() {
  local pid=$1 grace=${2:-5} i
  alive "$pid" && kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < grace * 10; i++)); do alive "$pid" || break; sleep 0.1; done
  alive "$pid" && { kill -KILL "$pid" 2>/dev/null; log "pid $pid did not stop in ${grace} s: killed"; }
  wait "$pid" 2>/dev/null
}
T_BEGIN=$(now_ms)
log "kit $KIT, out $OUT, duration ${DURATION}s, interval $INTERVAL"
meta duration_s "$DURATION"
meta host "$(hostname 2>/dev/null || cat /etc/hostname 2>/dev/null)"
[ -f "$KIT/MANIFEST.txt" ] && sed 's/^/manifest: /' "$KIT/MANIFEST.txt" >> "$RUNLOG"

# ---------- node (the kit's own; never one from PATH) ----------
# Unpacked into the scratch dir (not into the kit: the kit must stay small enough to carry).
NODE=
[ -x "$KIT/node" ] && NODE=$KIT/node
if [ -z "$NODE" ]; then
  TGZ=$(ls "$KIT"/node-*.tar.gz 2>/dev/null | head -1)
  [ -n "$TGZ" ] || fatal "no node binary or node-*.tar.gz in $KIT"
  for d in "$WORK/node" "$KIT/.node"; do
    if mkdir -p "$d" 2>/dev/null && tar -xzf "$TGZ" -C "$d" 2>>"$RUNLOG" && "$d/node" --version > /dev/null 2>>"$RUNLOG"; then NODE=$d/node; break; fi
  done
  [ -n "$NODE" ] || fatal "could not unpack and run node from $TGZ"
  log "unpacked node to $NODE"
fi
NODE_V=$("$NODE" --version 2>>"$RUNLOG") || fatal "$NODE does not run"
meta node "$NODE_V ($NODE)"

# ---------- nvidia-smi ----------
if [ -n "${NVIDIA_SMI:-}" ]; then NVSMI=$NVIDIA_SMI; else NVSMI=$(command -v nvidia-smi || true); fi
if [ -z "$NVSMI" ]; then log "nvidia-smi not on PATH (set NVIDIA_SMI); trying plain 'nvidia-smi' anyway"; NVSMI=nvidia-smi; fi
meta nvidia_smi "$NVSMI"
# (the timeouts keep a hanging nvidia-smi from pushing the run past 3 minutes)
nvsmi_info() {
  local t=$1 rc
  shift
  echo "### $NVSMI $*"
  timeout "$t" "$NVSMI" "$@" 2>&1
  rc=$?
  echo "### exit $rc"
  return $rc
}
{
  nvsmi_info 15 -L
  if [ $? -eq 124 ]; then
    echo "### nvidia-smi -L hung: skipping the other queries"
  else
    nvsmi_info 10 --version
    nvsmi_info 15
    nvsmi_info 30 -q
    nvsmi_info 15 --help-query-gpu
  fi
} > "$OUT/nvidia-smi-q.txt"
meta driver "$(timeout 10 "$NVSMI" --query-gpu=driver_version,name --format=csv,noheader 2>&1 | head -1)"
sed -n '2,/^### exit/p' "$OUT/nvidia-smi-q.txt" | grep -v '^###' | sed 's/^/nvidia-smi -L: /' >> "$RUNLOG"

# ---------- capture hub ----------
"$NODE" "$KIT/capture-hub.mjs" "$OUT/frames.jsonl" > "$WORK/hub.out" 2>&1 &
HUB_PID=$!
PORT=
for ((i = 0; i < 100; i++)); do
  PORT=$(sed -n 's/^capture-hub listening on port \([0-9]*\)$/\1/p' "$WORK/hub.out")
  [ -n "$PORT" ] && break
  alive "$HUB_PID" || break
  sleep 0.1
done
[ -n "$PORT" ] || { cat "$WORK/hub.out" >> "$RUNLOG"; fatal "capture hub did not start"; }
log "capture hub pid $HUB_PID on port $PORT"

# ---------- independent reference + NVML energy counter ----------
timeout $((DURATION + 40)) "$NVSMI" --query-gpu=timestamp,uuid,utilization.gpu,power.draw,temperature.gpu,memory.used \
  --format=csv -l 1 > "$OUT/reference.csv" 2> "$WORK/ref.err" &
REF_PID=$!
NVML_PID=
if command -v python3 > /dev/null; then
  timeout $((DURATION + 40)) python3 - > "$WORK/nvml.txt" 2>&1 <<'PY' &
import ctypes, sys, time
try:
    nv = ctypes.CDLL('libnvidia-ml.so.1')
except OSError as e:
    print('NVML_SKIP cannot load libnvidia-ml.so.1:', e); sys.exit(0)
if nv.nvmlInit_v2() != 0:
    print('NVML_SKIP nvmlInit failed'); sys.exit(0)
n = ctypes.c_uint()
nv.nvmlDeviceGetCount_v2(ctypes.byref(n))
devs = []
for i in range(n.value):
    h = ctypes.c_void_p()
    if nv.nvmlDeviceGetHandleByIndex_v2(i, ctypes.byref(h)) != 0: continue
    buf = ctypes.create_string_buffer(96)
    nv.nvmlDeviceGetUUID(h, buf, 96)
    devs.append((h, buf.value.decode()))
print('NVML_INFO devices', len(devs), flush=True)
while True:
    t = int(time.time() * 1000)
    for h, u in devs:
        e = ctypes.c_ulonglong()
        rc = nv.nvmlDeviceGetTotalEnergyConsumption(h, ctypes.byref(e))
        print(f'NVML_ENERGY {t} {u} {e.value}' if rc == 0 else f'NVML_SKIP energy rc {rc} {u}', flush=True)
    time.sleep(1)
PY
  NVML_PID=$!
else
  log "python3 not found: no NVML energy reference, no torch load"
fi
sleep 1

# ---------- agent ----------
start_agent() {
  "$NODE" "$KIT/fleetscope-agent.mjs" --hub "ws://127.0.0.1:$PORT" --source nvidia-smi --interval "$INTERVAL" \
    --spool none --nvidia-smi "$NVSMI" --log-format json --log-level debug >> "$OUT/agent.log" 2>&1 &
  AGENT_PID=$!
  log "agent pid $AGENT_PID started"
}
: > "$OUT/agent.log"
AGENT_START=$(now_ms)
meta agent_start_ms "$AGENT_START"
start_agent

# ---------- GPU load in the middle (optional) ----------
DEADLINE_MS=$((AGENT_START + (DURATION - 8) * 1000))
(
  sleep "$LOAD_AT"
  if command -v python3 > /dev/null; then
    timeout $((LOAD_S + 40)) python3 - "$LOAD_S" "$DEADLINE_MS" <<'PY' && exit 0
import sys, time
try:
    import torch
except Exception as e:
    print('LOAD_SKIP torch not importable:', e); sys.exit(3)
if not torch.cuda.is_available():
    print('LOAD_SKIP torch.cuda not available'); sys.exit(3)
dur, deadline = float(sys.argv[1]), float(sys.argv[2]) / 1000
n = 8192
a = torch.randn(n, n, device='cuda', dtype=torch.bfloat16)
b = torch.randn(n, n, device='cuda', dtype=torch.bfloat16)
c = a @ b
torch.cuda.synchronize()
t0 = time.time()
print('LOAD_START', int(t0 * 1000), flush=True)
end, k = min(t0 + dur, deadline), 0
while time.time() < end:
    for _ in range(10): c = a @ b
    torch.cuda.synchronize(); k += 10
t1 = time.time()
print('LOAD_END', int(t1 * 1000), flush=True)
print(f'LOAD_INFO torch {torch.__version__} {torch.cuda.get_device_name(0)}: {k} bf16 {n}^3 matmuls in {t1 - t0:.1f} s = {2 * n**3 * k / (t1 - t0) / 1e12:.0f} TFLOP/s', flush=True)
PY
  fi
  for tool in dcgmproftester12 gpu_burn gpu-burn; do
    command -v "$tool" > /dev/null || continue
    echo "LOAD_START $(now_ms)"
    if [ "$tool" = dcgmproftester12 ]; then timeout $((LOAD_S + 15)) "$tool" --no-dcgm-validation -t 1004 -d "$LOAD_S"; else timeout $((LOAD_S + 15)) "$tool" "$LOAD_S"; fi
    echo "LOAD_INFO $tool exit $?"
    echo "LOAD_END $(now_ms)"
    exit 0
  done
  echo "LOAD_SKIP no load tool (torch+cuda, dcgmproftester12, gpu_burn)"
) > "$WORK/load.txt" 2>&1 &
LOAD_PID=$!

# ---------- wait ----------
RETRIED=
AGENT_EXIT=
for ((i = 0; i < DURATION; i++)); do
  if ! alive "$AGENT_PID"; then
    wait "$AGENT_PID"; rc=$?
    # One retry when it failed to start (e.g. a cold nvidia-smi slower than the agent's 10 s start timeout).
    if [ -z "$RETRIED" ] && [ "$i" -lt $((DURATION / 2)) ] && [ "$rc" -ne 0 ]; then
      log "agent exited with code $rc after ${i} s; starting it once more"
      meta agent_retry "first start exited with code $rc after ${i} s"
      RETRIED=1
      start_agent
    else
      log "agent exited early (code $rc), after ${i} s"
      AGENT_EXIT=$rc
      break
    fi
  fi
  sleep 1
done

# ---------- stop ----------
if alive "$LOAD_PID"; then
  log "load still running: stopping it"
  command -v pkill > /dev/null && pkill -TERM -P "$LOAD_PID"
  stop_pid "$LOAD_PID" 5
fi
if [ -n "$AGENT_EXIT" ]; then
  meta agent_exit_reason "exited on its own before SIGTERM"
elif alive "$AGENT_PID"; then
  log "SIGTERM to agent"
  kill -TERM "$AGENT_PID"
  for ((i = 0; i < 150; i++)); do alive "$AGENT_PID" || break; sleep 0.1; done
  if alive "$AGENT_PID"; then kill -KILL "$AGENT_PID"; meta agent_exit_reason "did not exit within 15 s of SIGTERM: killed"; fi
  wait "$AGENT_PID"; AGENT_EXIT=$?
else
  wait "$AGENT_PID"; AGENT_EXIT=$?
  meta agent_exit_reason "exited on its own before SIGTERM"
fi
meta agent_stop_ms "$(now_ms)"
meta agent_exit "$AGENT_EXIT"
log "agent exit code $AGENT_EXIT"
sleep 0.5
stop_pid "$HUB_PID" 5
stop_pid "$REF_PID" 5
[ -n "$NVML_PID" ] && stop_pid "$NVML_PID" 5

# ---------- collect ----------
LOAD_START=$(sed -n 's/^LOAD_START \([0-9]*\).*/\1/p' "$WORK/load.txt" | head -1)
LOAD_END=$(sed -n 's/^LOAD_END \([0-9]*\).*/\1/p' "$WORK/load.txt" | head -1)
[ -n "$LOAD_START" ] && meta load_start_ms "$LOAD_START"
[ -n "$LOAD_END" ] && meta load_end_ms "$LOAD_END"
meta load "$({ grep -m1 -E '^(LOAD_INFO|LOAD_SKIP)' "$WORK/load.txt" || echo none; } | cut -c1-300)"
REF_LINES=$(wc -l < "$OUT/reference.csv")
meta reference_rows "$((REF_LINES > 0 ? REF_LINES - 1 : 0))"
{
  echo "--- capture hub output"; cat "$WORK/hub.out"
  echo "--- reference nvidia-smi stderr"; head -c 4000 "$WORK/ref.err"
  echo "--- load output"; tail -c 8000 "$WORK/load.txt"
  echo "--- NVML sampler"; [ -f "$WORK/nvml.txt" ] && head -c 1000000 "$WORK/nvml.txt"
} >> "$RUNLOG" 2>&1
"$NODE" "$KIT/summarize.mjs" "$OUT" > /dev/null 2> "$WORK/sum.err" || { log "summary failed:"; cat "$WORK/sum.err" >> "$RUNLOG"; }
for f in "$OUT"/*; do
  [ -f "$f" ] || continue
  if [ "$(wc -c < "$f")" -gt 8000000 ]; then truncate -s 7900000 "$f"; log "truncated $(basename "$f") to 7.9 MB"; fi
done
log "done in $((($(now_ms) - T_BEGIN) / 1000)) s; files: $(cd "$OUT" && ls | tr '\n' ' ')"
rm -rf "$WORK" "$KIT/.node"
[ -f "$OUT/summary.txt" ] && cat "$OUT/summary.txt"
exit 0
