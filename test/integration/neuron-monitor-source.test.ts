/** The neuron-monitor source against a fake `neuron-monitor` executable that replays the fixture stream. */
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChipSource } from '../../agents/sources/chip-source.ts';
import { createNeuronMonitorSource, neuronMonitorPeriod, type NeuronMonitorTiming } from '../../agents/sources/neuron-monitor-source.ts';
import { createSource } from '../../agents/sources/source-registry.ts';
import { sampleSchema, type Sample } from '../../schema/sample.ts';
import type { Logger } from '../../common/logger.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';

const FIX = fileURLToPath(new URL('../fixtures/neuron/', import.meta.url));
const STREAM = join(FIX, 'neuron-monitor-stream.jsonl');
const SYSFS = join(FIX, 'sysfs');
const TRN2_ID = 'i-0a1b2c3d4e5f60718';

/** Fake behaviour per run (1st spawn, 2nd spawn, ...; the last repeats). */
type Mode = 'loop' | 'exit' | 'hang' | 'garbage' | 'fail';

/**
 * The fake: records its argv and `-c` config to `seen-<run>.json`, then every 20 ms writes the next
 * item of one cycle: report 1 split across two writes, a garbage line, report 2, a partial
 * report 3, reports 3, 4, 5. `loop` repeats the cycle, `exit` exits 1 after it, `hang` goes
 * silent after report 1, `garbage` writes only garbage, `fail` exits 3 at once.
 */
const FAKE = `#!/usr/bin/env node
'use strict';
const fs = require('fs');
const path = require('path');
const B = __B__;
const config = JSON.parse(fs.readFileSync(process.argv[process.argv.indexOf('-c') + 1], 'utf8'));
const run = fs.readdirSync(B.dir).filter((f) => f.startsWith('seen-')).length + 1;
fs.writeFileSync(path.join(B.dir, 'seen-' + run + '.json'), JSON.stringify({ pid: process.pid, t: Date.now(), argv: process.argv.slice(2), config }));
const mode = B.runs[Math.min(run, B.runs.length) - 1];
if (mode === 'fail') { process.stderr.write('neuron-monitor: Neuron driver not loaded\\n'); process.exit(3); }
const lines = fs.readFileSync(B.streams[Math.min(run, B.streams.length) - 1], 'utf8').split('\\n').filter(Boolean);
const items = [[lines[0].slice(0, 1000), lines[0].slice(1000) + '\\n'], ['this is not json\\n'], [lines[1] + '\\n'],
  [lines[2].slice(0, 500) + '\\n'], [lines[2] + '\\n'], [lines[3] + '\\n'], [lines[4] + '\\n']];
let i = 0;
// writes strictly in sequence: the 2nd half of a split line always comes before the next item
function tick() {
  const next = () => setTimeout(tick, 20);
  if (mode === 'garbage') return process.stdout.write('garbage ' + i++ + '\\n'), next();
  if (mode === 'hang' && i >= 1) return setInterval(() => {}, 1000);
  if (mode === 'exit' && i >= items.length) process.exit(1);
  const parts = items[i++ % items.length];
  process.stdout.write(parts[0]);
  if (!parts[1]) return next();
  setTimeout(() => (process.stdout.write(parts[1]), next()), 5);
}
tick();
`;

interface Fake {
  bin: string;
  dir: string;
  seen(): Array<{ pid: number; t: number; argv: string[]; config: any }>;
}

function recordingLogger() {
  const lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const rec = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields });
  const log: Logger = { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
  return { log, lines };
}

async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function makeFake(runs: Mode[], streams: string[] = [STREAM]): Fake {
  const t = tempDir('fleetscope-fake-nm-');
  cleanups.push(t.cleanup);
  const bin = join(t.dir, 'neuron-monitor');
  writeFileSync(bin, FAKE.replace('__B__', JSON.stringify({ dir: t.dir, runs, streams })));
  chmodSync(bin, 0o755);
  const seen = () =>
    readdirSync(t.dir)
      .filter((f) => f.startsWith('seen-'))
      .sort()
      .map((f) => JSON.parse(readFileSync(join(t.dir, f), 'utf8')));
  return { bin, dir: t.dir, seen };
}

function makeSource(bin: string, timing: Partial<NeuronMonitorTiming> = {}) {
  const { log, lines } = recordingLogger();
  const src = createNeuronMonitorSource({ seed: 1, intervalMs: 1000, log, neuronMonitorPath: bin, neuronSysfsDir: SYSFS, hostname: 'fallback-host' }, timing);
  cleanups.push(() => src.stop());
  return { src, lines };
}

/** Read until `n` samples have arrived. */
async function collect(src: ChipSource, n: number): Promise<Sample[]> {
  const got: Sample[] = [];
  await waitFor(() => (got.push(...src.read(Date.now())), got.length >= n), 10_000, `${n} samples`);
  return got;
}

beforeAll(() => {
  // the fake's `#!/usr/bin/env node` must find this node
  process.env.PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
});

describe('neuronMonitorPeriod', () => {
  it.each([[1000, '1s'], [250, '1s'], [1499, '1s'], [1500, '2s'], [5000, '5s'], [Number.NaN, '1s']])('%d ms → %s', (ms, p) => {
    expect(neuronMonitorPeriod(ms)).toBe(p);
  });
});

describe('neuron-monitor source (fake neuron-monitor)', () => {
  it('is registered as --source neuron-monitor', () => {
    const src = createSource('neuron-monitor', { seed: 1, intervalMs: 1000, log: recordingLogger().log, neuronMonitorPath: '/nonexistent/nm' });
    expect(src.kind).toBe('neuron-monitor');
    expect(src.health()).toMatchObject({ kind: 'neuron-monitor', state: 'starting', restarts: 0, parseErrors: 0 });
  });

  it('streams the fixture reports as samples with sysfs power, derived energy and ECC totals', async () => {
    const fake = makeFake(['loop']);
    const { src } = makeSource(fake.bin);
    await src.start();
    const [run] = fake.seen();
    expect(run!.argv).toEqual(['-c', expect.stringContaining('monitor.json')]);
    expect(run!.config.period).toBe('1s');
    expect(run!.config.neuron_runtimes[0].metrics.map((m: any) => m.type)).toEqual(['neuroncore_counters', 'memory_used']);
    expect(run!.config.system_metrics.map((m: any) => m.type)).toEqual(['neuron_hw_counters']);
    expect(src.host).toEqual({ hostname: 'trn2-train-a-017', instanceId: TRN2_ID, instanceType: 'trn2.48xlarge' });
    expect(src.chips).toHaveLength(16);
    expect(src.chips[0]).toMatchObject({ chipId: `${TRN2_ID}-neuron0`, model: 'Trainium2', cores: 4, ratedPowerW: 500 });

    const samples = (await collect(src, 5 * 16)).slice(0, 5 * 16);
    for (const s of samples) expect(sampleSchema.safeParse(s).error).toBeUndefined();
    const reports = Array.from({ length: 5 }, (_, r) => samples.slice(r * 16, r * 16 + 16));
    const col = (i: number, f: (s: Sample) => unknown) => reports.map((r) => f(r[i]!));
    expect(col(0, (s) => s.chipId)).toEqual(Array(5).fill(`${TRN2_ID}-neuron0`));
    // report 2: counters error for devices 0-1; report 3: no runtime; report 4: no system_data
    expect(col(0, (s) => s.utilPct)).toEqual([87.26, null, null, 85.6, 86.23]);
    expect(col(4, (s) => s.utilPct)).toEqual([21.88, 23, null, 25.25, 26.38]);
    expect(reports[0]![0]!.extras).toMatchObject({ nc0: 84.15, pnc0: 85.46 });
    expect(reports[2]![0]!.extras).toBeUndefined();
    // power: neuron0 VALID 78.66 % of 500 W, neuron4 VALID 30 %; 1 NO_DATA, 2 INVALID, 3 no file
    expect(col(0, (s) => s.powerW)).toEqual(Array(5).fill(393.3));
    expect(col(4, (s) => s.powerW)).toEqual(Array(5).fill(150));
    for (const i of [1, 2, 3, 5]) expect(col(i, (s) => [s.powerW, s.energyJ, s.flags])).toEqual(Array(5).fill([null, null, undefined]));
    expect(col(0, (s) => s.flags)).toEqual(Array(5).fill({ powerEstimated: true, energyDerived: true }));
    // energy: 0 at the first power reading, then power × arrival-time gaps
    const e0 = col(0, (s) => s.energyJ) as number[];
    expect(e0[0]).toBe(0);
    for (let r = 1; r < 5; r++) {
      expect(e0[r]).toBeGreaterThan(e0[r - 1]!);
      expect(e0[r]).toBeCloseTo((393.3 * (reports[r]![0]!.ts - reports[0]![0]!.ts)) / 1000, 2);
    }
    // ECC per report 3, 1, 0, (missing), 3 → monotonic totals
    expect(col(5, (s) => s.eccCorrected)).toEqual([3, 4, 4, null, 7]);
    expect(col(9, (s) => s.eccUncorrected)).toEqual([0, 0, 0, null, 1]);
    // the garbage line and the partial line were skipped and counted
    expect(src.health()).toMatchObject({ state: 'ok', restarts: 0 });
    expect(src.health().parseErrors).toBeGreaterThanOrEqual(2);

    await src.stop();
    expect(() => process.kill(run!.pid, 0)).toThrow();
    expect(existsSync(run!.argv[1]!)).toBe(false);
  });

  it('restarts the child after it exits (1 s backoff) and reports an inventory change', async () => {
    const t = tempDir('fleetscope-nm-stream-');
    cleanups.push(t.cleanup);
    const eight = join(t.dir, 'eight.jsonl');
    const lines = readFileSync(STREAM, 'utf8').split('\n').filter(Boolean);
    writeFileSync(eight, lines.map((l) => l.replace('"neuron_device_count":16', '"neuron_device_count":8')).join('\n') + '\n');
    const fake = makeFake(['exit', 'loop'], [STREAM, eight]);
    const { src, lines: logs } = makeSource(fake.bin);
    let inventoryChanges = 0;
    src.onInventoryChange!(() => inventoryChanges++);
    await src.start();
    expect(src.chips).toHaveLength(16);
    await waitFor(() => src.health().restarts === 1 && src.chips.length === 8, 10_000, 'restart');
    await waitFor(() => src.health().state === 'ok', 5000, 'ok after restart');
    expect(inventoryChanges).toBe(1);
    const [a, b] = fake.seen();
    expect(b!.t - a!.t).toBeGreaterThanOrEqual(1000);
    expect(b!.config.period).toBe('1s');
    const restart = logs.find((l) => l.msg.includes('restarting'));
    expect(restart?.fields).toMatchObject({ reason: 'exited with code 1', delayMs: 1000 });
    const after = await collect(src, 8);
    expect(new Set(after.slice(-8).map((s) => s.chipId)).size).toBe(8);
    expect(src.health().restarts).toBe(1);
  });

  it('kills and restarts a child that stops reporting', async () => {
    const fake = makeFake(['hang', 'loop']);
    // Long enough for the fake to start and send its first report on a loaded machine (with 300 ms
    // the hang was once declared before the first report, failing start()).
    const { src, lines: logs } = makeSource(fake.bin, { hangTimeoutMs: 1000, restartInitialMs: 50 });
    await src.start();
    await waitFor(() => src.health().restarts === 1 && src.health().state === 'ok', 10_000, 'restart after hang');
    expect(logs.find((l) => l.msg.includes('restarting'))?.fields?.reason).toMatch(/no report for .* \(hung\)/);
    const [hung] = fake.seen();
    expect(() => process.kill(hung!.pid, 0)).toThrow();
  });

  it.each<[string, () => string, RegExp]>([
    ['a missing binary', () => '/nonexistent/dir/neuron-monitor', /cannot run "\/nonexistent\/dir\/neuron-monitor": not found \(ENOENT\); install aws-neuronx-tools or pass --neuron-monitor PATH/],
    ['a non-executable file', () => {
      const t = tempDir();
      cleanups.push(t.cleanup);
      writeFileSync(join(t.dir, 'neuron-monitor'), '#!/bin/sh\n');
      return join(t.dir, 'neuron-monitor');
    }, /not executable \(EACCES\).*--neuron-monitor PATH/],
    ['a child that exits at once', () => makeFake(['fail']).bin, /exited with code 3: neuron-monitor: Neuron driver not loaded \(before its first report\)/],
  ])('start() rejects clearly for %s', async (_n, bin, message) => {
    const { src } = makeSource(bin());
    await expect(src.start()).rejects.toThrow(message);
    expect(src.health()).toMatchObject({ state: 'failed', restarts: 0 });
  });

  it('start() rejects when no report arrives in time (garbage only), counting the garbage', async () => {
    const fake = makeFake(['garbage']);
    // Long enough for the fake to start and write a few lines on a loaded machine.
    const { src } = makeSource(fake.bin, { hangTimeoutMs: 1500 });
    await expect(src.start()).rejects.toThrow(/sent no report for .* \(hung\)/);
    expect(src.health().state).toBe('failed');
    expect(src.health().parseErrors).toBeGreaterThan(3);
  });

  it('start() rejects when neuron-monitor sees no Neuron device', async () => {
    const t = tempDir('fleetscope-nm-stream-');
    cleanups.push(t.cleanup);
    const none = join(t.dir, 'none.jsonl');
    const lines = readFileSync(STREAM, 'utf8').split('\n').filter(Boolean);
    writeFileSync(none, lines.map((l) => l.replace(/"neuron_hardware_info":\{[^}]*\}/, '"neuron_hardware_info":{"error":"Neuron driver not loaded"}')).join('\n') + '\n');
    const fake = makeFake(['loop'], [none]);
    const { src } = makeSource(fake.bin);
    await expect(src.start()).rejects.toThrow(/no Neuron devices/);
    await waitFor(() => !fake.seen().some((r) => existsSync(`/proc/${r.pid}`)), 5000, 'child killed');
  });
});
