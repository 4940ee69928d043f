/**
 * `neuron-monitor`: a real AWS Neuron host. Runs ONE long-lived `neuron-monitor -c <config>` child,
 * reads its JSON-lines reports from stdout, adds power from the driver sysfs (estimated) and
 * energy integrated from it (derived), and restarts the child with capped backoff when it exits,
 * crashes or hangs.
 *
 * Decisions:
 * - Config `period` is whole seconds (the documented form, "1s", "2s"): round(intervalMs / 1000),
 *   at least "1s"; faster agent intervals just read no new report on some ticks.
 * - Sample ts = arrival time of the report line (reports carry no timestamp).
 * - Power is read from sysfs once per device per report (the file changes once a minute).
 * - energyJ is null until a chip's first known power, then a monotonic running total: each
 *   report adds power × time since the previous report (gap capped at 60 s, the sysfs refresh);
 *   intervals with unknown power add nothing (the total undercounts rather than guesses).
 * - ECC counts are per report in neuron-monitor; they are summed into monotonic totals here.
 * - Inventory comes from the first report; later changes fire the listeners. A report without
 *   devices after that (transient hardware-info error) is skipped, not an inventory change. If a
 *   report lacks the instance id the chips already have, its chip ids are mapped back by index.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname as osHostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChipInfo, HostInfo, Sample } from '../../schema/sample.ts';
import type { ChipSource, SourceHealth } from './chip-source.ts';
import { createEccAccumulator, parseNeuronMonitorReport } from './neuron-monitor-report.ts';
import { DEFAULT_NEURON_SYSFS_DIR, readNeuronPowerW } from './neuron-sysfs-power.ts';
import type { SourceOptions } from './source-registry.ts';
import { CHILD_RESTART_BACKOFF, SupervisedChild, type EndInfo, type EndReason } from './supervised-child.ts';

const KIND = 'neuron-monitor';
/** Samples kept between reads (oldest dropped beyond it). */
const MAX_BUFFERED_SAMPLES = 100_000;
/** A line longer than this without a newline is garbage. */
const MAX_LINE_CHARS = 64 * 2 ** 20;
const MAX_ENERGY_GAP_MS = 60_000;

/** Timing knobs (tests shorten them). */
export interface NeuronMonitorTiming {
  restartInitialMs: number;
  restartMaxMs: number;
  /** No report for this long: kill and restart (default 5 × period + 5 s). */
  hangTimeoutMs: number;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopGraceMs: number;
}

/** The config `period` for an agent interval: whole seconds, at least "1s". */
export function neuronMonitorPeriod(intervalMs: number): string {
  return `${Number.isFinite(intervalMs) ? Math.max(1, Math.round(intervalMs / 1000)) : 1}s`;
}

/** The neuron-monitor config file (instance_info and neuron_hardware_info are always emitted). */
export function neuronMonitorConfig(period: string): object {
  return {
    period,
    neuron_runtimes: [{ tag_filter: '.*', metrics: [{ type: 'neuroncore_counters' }, { type: 'memory_used' }] }],
    system_metrics: [{ type: 'neuron_hw_counters' }],
  };
}

function spawnErrorMessage(bin: string, err: NodeJS.ErrnoException): string {
  const hint = 'install aws-neuronx-tools or pass --neuron-monitor PATH';
  if (err.code === 'ENOENT') return `cannot run ${JSON.stringify(bin)}: not found (ENOENT); ${hint}`;
  if (err.code === 'EACCES') return `cannot run ${JSON.stringify(bin)}: not executable (EACCES); ${hint}`;
  return `cannot run ${JSON.stringify(bin)}: ${err.message}`;
}

/**
 * Create the `neuron-monitor` source: `opts.neuronMonitorPath` (default `neuron-monitor` on PATH),
 * `opts.neuronSysfsDir` (default `/sys/devices/virtual/neuron_device`), `opts.intervalMs` → period,
 * `opts.hostname` → host name / chip-id fallback when instance_info is unavailable.
 */
export function createNeuronMonitorSource(opts: SourceOptions, timing: Partial<NeuronMonitorTiming> = {}): ChipSource {
  const bin = opts.neuronMonitorPath ?? 'neuron-monitor';
  const sysfsDir = opts.neuronSysfsDir ?? DEFAULT_NEURON_SYSFS_DIR;
  const period = neuronMonitorPeriod(opts.intervalMs);
  const t: NeuronMonitorTiming = { restartInitialMs: 1000, restartMaxMs: 30_000, hangTimeoutMs: 5 * parseInt(period, 10) * 1000 + 5000, stopGraceMs: 2000, ...timing };
  const fallbackHostname = opts.hostname ?? osHostname();
  const log = opts.log;
  const host: HostInfo = { hostname: fallbackHostname, instanceId: null, instanceType: null };
  const h: Omit<SourceHealth, 'restarts'> = { kind: KIND, state: 'starting', parseErrors: 0, lastError: null };
  const listeners: Array<() => void> = [];
  const energy = new Map<string, { j: number; lastTs: number }>();
  const accumulateEcc = createEccAccumulator();
  let chips: ChipInfo[] = [];
  let haveInventory = false;
  let buffer: Sample[] = [];
  let configDir: string | null = null;
  let child: SupervisedChild | null = null;
  let stopped = false;
  let pendingStart: { resolve(): void; reject(e: Error): void } | null = null;

  const parseError = (msg: string) => {
    h.parseErrors += 1;
    h.lastError = msg;
    log[h.parseErrors === 1 ? 'warn' : 'debug']('neuron-monitor: skipped a line', { error: msg, parseErrors: h.parseErrors });
  };

  function integrate(chipId: string, powerW: number | null, ts: number): number | null {
    const e = energy.get(chipId);
    if (powerW === null) {
      if (e) e.lastTs = ts;
      return e ? Math.round(e.j * 1000) / 1000 : null;
    }
    if (!e) {
      energy.set(chipId, { j: 0, lastTs: ts });
      return 0;
    }
    e.j += (powerW * Math.min(Math.max(0, ts - e.lastTs), MAX_ENERGY_GAP_MS)) / 1000;
    e.lastTs = ts;
    return Math.round(e.j * 1000) / 1000;
  }

  function onReport(line: string): void {
    const ts = Date.now();
    let p: ReturnType<typeof parseNeuronMonitorReport>;
    try {
      p = parseNeuronMonitorReport(line, { ts, fallbackHostname });
    } catch (err) {
      parseError((err as Error).message);
      return;
    }
    // a report is the sign of life, and a run that reports is a working one (next restart after the initial delay)
    child?.alive();
    child?.markStable();
    if (p.chips.length === 0) {
      const msg = 'neuron-monitor reports no Neuron devices (neuron_hardware_info missing or in error: is the Neuron driver loaded?)';
      if (!haveInventory) return failStart(msg);
      h.lastError = msg;
      return;
    }
    if (haveInventory && p.host.instanceId === null && host.instanceId !== null) {
      const ids = new Map(p.chips.map((c) => [c.chipId, `${host.instanceId}-neuron${c.index}`]));
      for (const c of p.chips) c.chipId = ids.get(c.chipId)!;
      for (const s of p.samples) s.chipId = ids.get(s.chipId) ?? s.chipId;
    } else if (!haveInventory || p.host.instanceId !== null) {
      Object.assign(host, p.host);
    }
    if (!haveInventory || JSON.stringify(p.chips) !== JSON.stringify(chips)) {
      const changed = haveInventory;
      chips = p.chips;
      haveInventory = true;
      if (changed) {
        log.info('neuron-monitor: inventory changed', { chips: chips.length });
        for (const l of listeners) l();
      }
    }
    for (const s of p.samples) {
      const chip = p.chips.find((c) => c.chipId === s.chipId);
      const watts = chip && chip.ratedPowerW !== null ? readNeuronPowerW(chip.index, chip.ratedPowerW, sysfsDir) : null;
      if (watts !== null) s.powerW = watts;
      s.energyJ = integrate(s.chipId, s.powerW, ts);
      if (s.powerW !== null) s.flags = { ...s.flags, powerEstimated: true };
      if (s.energyJ !== null) s.flags = { ...s.flags, energyDerived: true };
    }
    accumulateEcc(p.samples);
    buffer.push(...p.samples);
    if (buffer.length > MAX_BUFFERED_SAMPLES) buffer = buffer.slice(buffer.length - MAX_BUFFERED_SAMPLES);
    h.state = 'ok';
    if (pendingStart) {
      const ps = pendingStart;
      pendingStart = null;
      log.info('neuron-monitor: first report', { chips: chips.length, model: chips[0]?.model, period });
      ps.resolve();
    }
  }

  function onChildEnd(end: EndReason, info: EndInfo): void {
    if (info.unterminated?.trim()) parseError('partial line at end of output');
    const last = info.stderr.trim().split('\n').pop();
    const why =
      end === 'error'
        ? spawnErrorMessage(bin, info.error!)
        : end === 'hung'
          ? `sent no report for ${Math.round(t.hangTimeoutMs / 1000)} s (hung)`
          : `exited with ${info.signal ? `signal ${info.signal}` : `code ${info.code}`}${last ? `: ${last}` : ''}`;
    if (pendingStart) return failStart(`${why} (before its first report)`);
    h.state = 'restarting';
    h.lastError = `neuron-monitor ${why}`;
    log.warn('neuron-monitor: child ended, restarting', { reason: why, delayMs: info.restartInMs, restarts: child?.restarts ?? 0 });
  }

  function failStart(msg: string): void {
    const ps = pendingStart;
    pendingStart = null;
    h.state = 'failed';
    h.lastError = msg;
    void shutdown();
    ps?.reject(new Error(`neuron-monitor source: ${msg}`));
  }

  async function shutdown(): Promise<void> {
    stopped = true;
    await child?.stop();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
    configDir = null;
  }

  return {
    kind: KIND,
    get host() {
      return host;
    },
    get chips() {
      return chips;
    },
    start() {
      if (configDir || stopped) return Promise.reject(new Error('neuron-monitor source: start() called twice or after stop()'));
      configDir = mkdtempSync(join(tmpdir(), 'fleetscope-neuron-monitor-'));
      const configPath = join(configDir, 'monitor.json');
      writeFileSync(configPath, JSON.stringify(neuronMonitorConfig(period), null, 2) + '\n');
      const started = new Promise<void>((resolve, reject) => (pendingStart = { resolve, reject }));
      child = new SupervisedChild({
        command: bin,
        args: ['-c', configPath],
        maxLineChars: MAX_LINE_CHARS,
        hangTimeoutMs: t.hangTimeoutMs,
        liveness: 'manual',
        backoff: { ...CHILD_RESTART_BACKOFF, initialMs: t.restartInitialMs, maxMs: t.restartMaxMs },
        stableRunMs: Infinity, // stable = it reported (markStable), however long it ran
        stopGraceMs: t.stopGraceMs,
        onLine: (line) => {
          if (line.trim()) onReport(line);
        },
        onOverflow: () => parseError(`line longer than ${MAX_LINE_CHARS} characters`),
        onEnd: onChildEnd,
      });
      child.start();
      return started;
    },
    read(_now: number): Sample[] {
      const out = buffer;
      buffer = [];
      return out;
    },
    stop: shutdown,
    health: () => ({ ...h, restarts: child?.restarts ?? 0 }),
    onInventoryChange(listener: () => void) {
      listeners.push(listener);
    },
  };
}
