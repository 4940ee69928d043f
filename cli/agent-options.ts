/** The `fleetscope agent` command line: options, help, and their validation into AgentOptions. */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseDuration } from '../schema/duration.ts';
import { intOption, UsageError, type CommandSpec } from '../common/cli-args.ts';
import { SOURCE_KINDS } from '../agents/sources/source-registry.ts';
import type { FrameEncoding } from '../agents/hub-link.ts';

export const agentSpec = {
  name: 'agent',
  summary: 'read per-chip telemetry every interval and push it to the hub',
  usage: 'fleetscope agent --hub ws://HOST:PORT --source KIND[:MODEL] [--source …] [--interval 1s] [options]',
  options: {
    hub: { type: 'string', multiple: true },
    source: { type: 'string', multiple: true },
    interval: { type: 'string' },
    seed: { type: 'string' },
    model: { type: 'string' },
    chips: { type: 'string' },
    hostname: { type: 'string' },
    'agent-id': { type: 'string' },
    token: { type: 'string' },
    ca: { type: 'string' },
    spool: { type: 'string' },
    'spool-max': { type: 'string' },
    frames: { type: 'string' },
    'nvidia-smi': { type: 'string' },
    'neuron-monitor': { type: 'string' },
    'neuron-sysfs': { type: 'string' },
    replay: { type: 'string' },
    speed: { type: 'string' },
    'replay-phases': { type: 'string' },
    loop: { type: 'boolean' },
    config: { type: 'string' },
    'log-format': { type: 'string' },
    'log-level': { type: 'string' },
    'metrics-port': { type: 'string' },
    'metrics-host': { type: 'string' },
    'work-port': { type: 'string' },
    'work-socket': { type: 'string' },
    'job-file': { type: 'string' },
    'job-env': { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  },
  help: {
    hub: 'hub URL (ws://, wss://); repeat to fail over between hubs',
    source: 'telemetry source, repeatable (see Sources below); KIND:MODEL picks a simulated model',
    interval: 'sampling interval, e.g. 1s, 500ms (default 1s; a bare number is seconds)',
    seed: 'seed for simulated sources (default 1): same seed, same telemetry',
    model: 'chip model for simulated sources, e.g. H200, B200, Trainium3, Inferentia2',
    chips: 'number of chips for simulated sources (default per instance type)',
    hostname: 'host name to report (default: this machine, or the simulated host)',
    'agent-id': 'stable agent id (default: the host name)',
    token: 'token sent to the hub as Authorization: Bearer',
    ca: 'PEM file with the CA certificate(s) to trust for wss:// hubs',
    spool: "directory for unacknowledged batches (default ~/.local/state/fleetscope/spool/<agent-id>; 'none' = memory only)",
    'spool-max': 'spool size limit, e.g. 256MB (default); the oldest data is dropped and counted beyond it',
    frames: 'batch encoding: auto (default: binary frames to a hub that takes them) or json (JSON text, to read on the wire)',
    'nvidia-smi': 'path of nvidia-smi for --source nvidia-smi (default: on PATH)',
    'neuron-monitor': 'path of neuron-monitor for --source neuron-monitor (default: on PATH)',
    'neuron-sysfs': 'Neuron driver sysfs directory (default /sys/devices/virtual/neuron_device)',
    replay: 'capture file for --source replay (nvidia-smi CSV, NVML JSON lines, neuron-monitor JSON lines)',
    speed: 'replay speed factor (default 1 = real time)',
    'replay-phases': "a capture's phases file with training steps per phase, replayed as a steps counter (default: phases.json beside the capture, when it has steps)",
    loop: 'replay the file again from the start when it ends',
    config: 'JSON config file; keys are these long option names',
    'log-format': 'text (default) or json',
    'log-level': 'debug, info (default), warn or error',
    'metrics-port': "serve the agent's own metrics (Prometheus text) at http://HOST:PORT/metrics (default: off; the host bundle reads its metrics code from fleetscope-agent-telemetry.mjs beside it)",
    'metrics-host': 'address for --metrics-port (default 0.0.0.0)',
    'work-port': 'accept work counters from local jobs at http://127.0.0.1:PORT/v1/work (default: off; 0 = any free port, logged; the Python helper python/fleetscope_work.py posts to 9465 unless told otherwise)',
    'work-socket': 'accept work counters as JSON lines on this Unix socket (default: off)',
    'job-file': 'file naming the job on this host: JSON {"job", "labels", "chips"} or KEY=VALUE lines (job=…); re-read when it changes',
    'job-env': 'environment variable(s) naming the job, comma-separated, the first set wins (e.g. SLURM_JOB_ID,POD_NAME)',
    help: 'show this help',
  },
  examples: [
    'fleetscope agent --hub ws://localhost:8080 --source sim-nvml',
    'fleetscope agent --hub ws://hub-a:8080 --hub ws://hub-b:8080 --source nvidia-smi --interval 1s',
    'fleetscope agent --hub ws://localhost:8080 --source sim-neuron --source sim-nvml:H200 --hostname mixed-1',
    'fleetscope agent --hub ws://localhost:8080 --source replay --replay h100.csv --speed 10 --loop',
    'fleetscope agent --hub ws://localhost:8080 --source nvidia-smi --work-port 9465 --job-env SLURM_JOB_ID',
  ],
} satisfies CommandSpec<Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>>;

export function sourcesHelp(): string {
  return `Sources:\n${Object.entries(SOURCE_KINDS).map(([k, v]) => `  ${k.padEnd(16)} ${v.describe}`).join('\n')}\n\nEvery option can also be set as FLEETSCOPE_<OPTION> (e.g. FLEETSCOPE_HUB, FLEETSCOPE_TOKEN; lists comma-separated) or in --config FILE.\n`;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

export function parseSize(name: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?b?)\s*$/i.exec(text);
  if (!m) throw new UsageError(`--${name}: invalid size ${JSON.stringify(text)}; use e.g. 64MB, 1GB`);
  return Math.round(Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()]);
}

export function parseInterval(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (err) {
    throw new UsageError(`--interval: ${(err as Error).message}`);
  }
  if (ms < 10 || ms > 3_600_000) throw new UsageError('--interval must be between 10ms and 1h');
  return ms;
}

export function parseFrames(raw: string | undefined): FrameEncoding | undefined {
  if (raw === undefined || raw === 'auto' || raw === 'json') return raw;
  throw new UsageError(`--frames must be auto or json, got ${JSON.stringify(raw)}`);
}

export function validateHubs(hubs: string[] | undefined): string[] {
  if (!hubs?.length) throw new UsageError("--hub is required, e.g. --hub ws://localhost:8080\nRun 'fleetscope agent --help' for usage.");
  for (const h of hubs) {
    if (!/^(wss?|https?):\/\/[^/]+/.test(h)) throw new UsageError(`--hub ${JSON.stringify(h)} is not a ws:// or wss:// URL`);
  }
  return hubs;
}

export function defaultSpoolDir(agentId: string): string {
  const state = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(state, 'fleetscope', 'spool', agentId);
}

export function readCa(path: string | undefined): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`--ca: cannot read ${path}: ${(err as Error).message}`);
  }
}

export function positiveNumber(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

/** `--job-env A,B --job-env C` → [A, B, C]; each must look like an environment variable name. */
export function parseJobEnv(raw: string[] | undefined): string[] | undefined {
  if (!raw?.length) return undefined;
  const names = raw.flatMap((r) => r.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n)) throw new UsageError(`--job-env: ${JSON.stringify(n)} is not an environment variable name`);
  }
  return names.length ? names : undefined;
}

export { intOption };
