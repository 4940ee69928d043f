/**
 * `nvidia-smi`: one long-lived `nvidia-smi --query-gpu=… --format=csv,noheader,nounits -lms N`
 * child per agent. Fields are discovered once from `--help-query-gpu` (an unknown field fails the
 * whole query). Every row becomes a sample with the tool's own timestamp; energy is the integral
 * of power (nvidia-smi has no energy field), flagged `energyDerived`. The child is restarted with
 * capped exponential backoff when it exits or stops printing.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import type { ChipInfo, HostInfo, Sample } from '../../schema/sample.ts';
import type { Logger } from '../../common/logger.ts';
import type { ChipSource, SourceHealth } from './chip-source.ts';
import {
  EnergyIntegrator,
  columnsForFields,
  parseCsvRow,
  parseHelpQueryGpu,
  rowToChipInfo,
  rowToSample,
  selectQueryFields,
  type ColumnMap,
  type NvsmiRow,
} from './nvidia-smi-csv.ts';
import type { SourceOptions } from './source-registry.ts';
import { SupervisedChild, type EndInfo, type EndReason } from './supervised-child.ts';

const KIND = 'nvidia-smi';
const START_TIMEOUT_MS = 10_000;
/** A run this long counts as healthy: the next failure starts the backoff (1 s → 30 s) from the minimum again. */
const STABLE_RUN_MS = 60_000;
const KILL_GRACE_MS = 2_000;
/** An unterminated line longer than this is dropped (a parse error). */
const MAX_LINE_CHARS = 64 * 1024;
/** A GPU absent from this many consecutive complete cycles is removed from the inventory. */
const REMOVE_AFTER_CYCLES = 3;
/** Samples kept when nobody reads (oldest dropped beyond). */
const MAX_PENDING = 100_000;

/** Options the nvidia-smi source reads. */
export type NvidiaSmiSourceOptions = Pick<SourceOptions, 'log' | 'intervalMs' | 'nvidiaSmiPath' | 'hostname'>;

/** Create the `nvidia-smi` source. Nothing runs until `start()`. */
export function createNvidiaSmiSource(opts: NvidiaSmiSourceOptions): ChipSource {
  return new NvidiaSmiSource(opts);
}

class NvidiaSmiSource implements ChipSource {
  readonly kind = KIND;
  readonly host: HostInfo;
  chips: ChipInfo[] = [];
  private readonly bin: string;
  private readonly log: Logger;
  private readonly intervalMs: number;
  private columns: ColumnMap = [];
  private fields: string[] = [];
  private child: SupervisedChild | null = null;
  /** Last stdout line of the current run that was not a row (nvidia-smi prints some errors there). */
  private badLine: string | null = null;
  private pending: Sample[] = [];
  private droppedWarned = false;
  private readonly energy = new EnergyIntegrator();
  private readonly listeners: Array<() => void> = [];
  private state: SourceHealth['state'] = 'starting';
  private parseErrors = 0;
  private lastError: string | null = null;
  private stopped = false;
  private readonly known = new Map<string, ChipInfo>();
  private cycle = new Set<string>();
  private readonly missing = new Map<string, number>();
  private inventoryReady = false;
  private startWaiter: { resolve(): void; reject(err: Error): void } | null = null;

  constructor(opts: NvidiaSmiSourceOptions) {
    this.bin = opts.nvidiaSmiPath ?? 'nvidia-smi';
    this.log = opts.log;
    this.intervalMs = Math.max(10, Math.round(opts.intervalMs));
    this.host = { hostname: opts.hostname ?? os.hostname(), instanceId: null, instanceType: null };
  }

  async start(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    try {
      const help = await this.helpQueryGpu();
      if (this.stopped) throw new Error('nvidia-smi: stopped while starting');
      const supported = parseHelpQueryGpu(help);
      if (supported.size === 0) throw new Error(`${this.bin} --help-query-gpu listed no fields: ${JSON.stringify(help.slice(0, 200))}`);
      this.fields = selectQueryFields(supported);
      this.columns = columnsForFields(this.fields);
      this.log.info('nvidia-smi fields', { bin: this.bin, fields: this.fields.join(',') });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          const why = this.lastError ? `; last error: ${this.lastError}` : '';
          reject(new Error(`nvidia-smi: no complete GPU cycle within ${START_TIMEOUT_MS / 1000} s from ${this.bin}${why}`));
        }, Math.max(0, deadline - Date.now()));
        this.startWaiter = {
          resolve: () => (clearTimeout(timer), resolve()),
          reject: (err) => (clearTimeout(timer), reject(err)),
        };
        this.spawnChild();
      });
    } catch (err) {
      this.state = 'failed';
      this.lastError = (err as Error).message;
      await this.stop();
      throw err;
    } finally {
      this.startWaiter = null;
    }
  }

  read(_now: number): Sample[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.startWaiter?.reject(new Error('nvidia-smi: stopped while starting'));
    await this.child?.stop();
  }

  health(): SourceHealth {
    return { kind: KIND, state: this.state, restarts: this.child?.restarts ?? 0, parseErrors: this.parseErrors, lastError: this.lastError };
  }

  onInventoryChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** `nvidia-smi --help-query-gpu`, with errors that say what to do. */
  private helpQueryGpu(): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.bin, ['--help-query-gpu'], { timeout: START_TIMEOUT_MS, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const code = (err as NodeJS.ErrnoException).code;
        const cannot = code === 'ENOENT' ? 'not found (is the NVIDIA driver installed?)' : code === 'EACCES' ? 'permission denied' : null;
        if (cannot) return reject(new Error(`nvidia-smi: cannot run ${JSON.stringify(this.bin)}: ${cannot}; --nvidia-smi PATH overrides it`));
        const why = err.killed ? `timed out after ${START_TIMEOUT_MS / 1000} s` : err.message.split('\n')[0];
        const out = `${stderr}\n${stdout}`.trim().slice(0, 500);
        reject(new Error(`nvidia-smi: ${this.bin} --help-query-gpu failed (${why})${out ? `: ${out}` : ''}`));
      });
    });
  }

  private spawnChild(): void {
    this.child = new SupervisedChild({
      command: this.bin,
      args: [`--query-gpu=${this.fields.join(',')}`, '--format=csv,noheader,nounits', '-lms', String(this.intervalMs)],
      maxLineChars: MAX_LINE_CHARS,
      hangTimeoutMs: 5 * this.intervalMs + 5_000,
      stableRunMs: STABLE_RUN_MS,
      stopGraceMs: KILL_GRACE_MS,
      onStart: () => {
        this.cycle = new Set();
        this.badLine = null;
      },
      onLine: (line) => this.onLine(line),
      onOverflow: () => this.parseErrors++,
      onEnd: (why, info) => this.onChildEnd(why, info),
    });
    this.child.start();
  }

  private onChildEnd(end: EndReason, info: EndInfo): void {
    if (info.unterminated !== null) this.onLine(info.unterminated);
    const why =
      end === 'error' ? `cannot run ${JSON.stringify(this.bin)}: ${info.error!.message}` : info.signal ? `killed by ${info.signal}` : `exited with code ${info.code}`;
    const stderr = info.stderr.trim().split('\n').slice(-3).join(' | ');
    if (end === 'hung') {
      this.lastError = `nvidia-smi: no output for ${Math.round(info.silentMs / 1000)} s; killed`;
      this.log.warn('nvidia-smi hangs; killing it', { pid: info.pid });
    } else this.lastError = `nvidia-smi ${why}${stderr ? `: ${stderr}` : ''}`;
    if (!this.inventoryReady) {
      if (this.known.size > 0) this.completeCycle();
      else {
        const out = [stderr, this.badLine].filter(Boolean).join(' | ');
        return this.startWaiter?.reject(new Error(`nvidia-smi: ${this.bin} ${why} before reporting any GPU${out ? `: ${out}` : ''}`));
      }
    }
    this.state = 'restarting';
    this.log.warn('nvidia-smi ended; restarting', { why, stderr, delayMs: info.restartInMs });
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    const r = parseCsvRow(line, this.columns);
    if (!r.ok) {
      this.parseErrors++;
      this.badLine = line.slice(0, 300);
      this.lastError = `nvidia-smi: skipped line (${r.error}): ${JSON.stringify(line.slice(0, 160))}`;
      const fields = { error: r.error, parseErrors: this.parseErrors };
      if (this.parseErrors === 1) this.log.warn('nvidia-smi: unparsable line', fields);
      else this.log.debug('nvidia-smi: unparsable line', fields);
      return;
    }
    this.track(r.row);
    const energyJ = this.energy.add(r.row.uuid, r.row.ts, r.row.powerW);
    this.pending.push(rowToSample(r.row, energyJ));
    if (this.pending.length > MAX_PENDING) {
      this.pending.splice(0, this.pending.length - MAX_PENDING);
      if (!this.droppedWarned) this.log.warn('nvidia-smi: samples not read; dropping the oldest', { kept: MAX_PENDING });
      this.droppedWarned = true;
    }
    if (this.inventoryReady && this.state === 'restarting') this.state = 'ok';
  }

  /** Inventory: a UUID seen again closes the current cycle; new UUIDs join at once. */
  private track(row: NvsmiRow): void {
    if (this.cycle.has(row.uuid)) this.completeCycle();
    this.cycle.add(row.uuid);
    if (this.known.has(row.uuid)) return;
    this.known.set(row.uuid, rowToChipInfo(row, this.known.size));
    if (!this.inventoryReady) return;
    this.log.info('nvidia-smi: GPU appeared', { chipId: row.uuid, index: row.index });
    this.publish();
  }

  private completeCycle(): void {
    const seen = this.cycle;
    this.cycle = new Set();
    if (!this.inventoryReady) {
      this.inventoryReady = true;
      this.state = 'ok';
      this.chips = this.sortedChips();
      this.log.info('nvidia-smi: GPUs found', { count: this.chips.length });
      this.startWaiter?.resolve();
      return;
    }
    let removed = false;
    for (const id of [...this.known.keys()]) {
      if (seen.has(id)) {
        this.missing.delete(id);
        continue;
      }
      const n = (this.missing.get(id) ?? 0) + 1;
      this.missing.set(id, n);
      if (n < REMOVE_AFTER_CYCLES) continue;
      this.known.delete(id);
      this.missing.delete(id);
      removed = true;
      this.log.warn('nvidia-smi: GPU disappeared', { chipId: id });
    }
    if (removed) this.publish();
  }

  private sortedChips(): ChipInfo[] {
    return [...this.known.values()].sort((a, b) => a.index - b.index);
  }

  private publish(): void {
    this.chips = this.sortedChips();
    for (const l of this.listeners) {
      try {
        l();
      } catch (err) {
        this.log.error('inventory listener failed', { error: (err as Error).message });
      }
    }
  }
}
