/**
 * The nvidia-smi source against a fake `nvidia-smi`: a Node script that answers `--help-query-gpu`
 * with the real H100 driver's output and streams the rows of a real capture for
 * `--query-gpu=… --format=csv,noheader,nounits -lms N` (requested fields, no units, original timestamps).
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChipSource } from '../../agents/sources/chip-source.ts';
import { createSource } from '../../agents/sources/source-registry.ts';
import { chipInfoSchema, sampleSchema, type Sample } from '../../schema/sample.ts';
import { silentLogger } from '../../common/logger.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';

const FIX = path.resolve(process.cwd(), 'test/fixtures');
const H100_CSV = path.join(FIX, 'nvidia-h100/query-gpu-250ms.csv');
const H200_CSV = path.join(FIX, 'nvidia-h200-training/query-gpu-500ms.csv');
const HELP = path.join(FIX, 'nvidia-h100/nvidia-smi-help-query-gpu.txt');
const UUID = 'GPU-82a2d334-d3f3-e1ce-0176-3b908d0cb49e';
const EXTRA_UUID = 'GPU-00000000-1111-2222-3333-444444444444';
const INTERVAL = 20;

interface FakeConfig {
  csv?: string;
  help?: string;
  /** Counter file: rows already printed by earlier runs (a restart continues after them). */
  state?: string;
  /** First run only: exit with code 3 after this many rows. */
  exitAfter?: number;
  /** Print only this many rows of the file, then hang silently. */
  maxRows?: number;
  /** Write every row in two chunks. */
  split?: boolean;
  /** After every Nth row: a garbage line and a truncated row. */
  garbageEvery?: number;
  /** A second GPU for rows [from, until). */
  extraGpu?: { from: number; until: number; uuid: string };
}

const FAKE = String.raw`#!/usr/bin/env node
const fs = require('fs');
const C = __CONFIG__;
const args = process.argv.slice(2);
if (args.includes('--help-query-gpu')) { process.stdout.write(fs.readFileSync(C.help, 'utf8')); process.exit(0); }
const q = args.find((a) => a.startsWith('--query-gpu='));
const li = args.indexOf('-lms');
if (!q || !args.includes('--format=csv,noheader,nounits') || li < 0) { console.error('fake nvidia-smi: unexpected arguments ' + args.join(' ')); process.exit(2); }
const fields = q.slice('--query-gpu='.length).split(',');
const [head, ...lines] = fs.readFileSync(C.csv, 'utf8').trim().split('\n');
const header = head.split(', ').map((h) => h.replace(/ \[.*\]$/, ''));
const cols = fields.map((f) => header.indexOf(f));
const unknown = fields.find((f, i) => cols[i] < 0);
if (unknown) { console.log('Field "' + unknown + '" is not a valid field to query.'); process.exit(2); }
const rows = lines.map((l) => l.split(', ').map((v) => v.replace(/ (%|W|MiB|MHz)$/, '')));
const state = C.state && fs.existsSync(C.state) ? JSON.parse(fs.readFileSync(C.state, 'utf8')) : { runs: 0, next: 0 };
state.runs++;
const save = () => C.state && fs.writeFileSync(C.state, JSON.stringify(state));
save();
const end = Math.min(rows.length, C.maxRows ?? rows.length);
const fmt = (r, uuid, index) => fields.map((f, k) => (f === 'uuid' && uuid ? uuid : f === 'index' && index ? index : r[cols[k]])).join(', ');
let emitted = 0;
const period = Number(args[li + 1]);
// one row per period; a split row's second half is written before the next row starts, as a pipe would carry it
const tick = () => {
  if (state.next >= end) { setInterval(() => {}, 1 << 30); return; }
  const i = state.next;
  const r = rows[i];
  const out = [fmt(r)];
  if (C.extraGpu && i >= C.extraGpu.from && i < C.extraGpu.until) out.push(fmt(r, C.extraGpu.uuid, '1'));
  if (C.garbageEvery && (i + 1) % C.garbageEvery === 0) out.push('this is not csv', fmt(r).slice(0, 40));
  const text = out.join('\n') + '\n';
  const done = () => {
    state.next = i + 1;
    save();
    if (state.runs === 1 && C.exitAfter && ++emitted >= C.exitAfter) { process.stderr.write('fake nvidia-smi: simulated crash\n'); process.exit(3); }
    setTimeout(tick, period);
  };
  if (C.split) { const cut = text.length >> 1; process.stdout.write(text.slice(0, cut)); setTimeout(() => (process.stdout.write(text.slice(cut)), done()), 2); }
  else { process.stdout.write(text); done(); }
};
setTimeout(tick, period);
`;

let tmp: ReturnType<typeof tempDir>;
let source: ChipSource | null = null;

beforeEach(() => {
  tmp = tempDir('fleetscope-nvsmi-');
});
afterEach(async () => {
  await source?.stop();
  source = null;
  tmp.cleanup();
});

/** Write the fake as `<tmp>/nvidia-smi`; returns its path. */
function writeFake(cfg: FakeConfig): string {
  const file = path.join(tmp.dir, 'nvidia-smi');
  writeFileSync(file, FAKE.replace('__CONFIG__', JSON.stringify({ csv: H100_CSV, help: HELP, ...cfg })));
  chmodSync(file, 0o755);
  return file;
}

function makeSource(nvidiaSmiPath?: string): ChipSource {
  source = createSource('nvidia-smi', { log: silentLogger, intervalMs: INTERVAL, seed: 1, hostname: 'gpu-test-1', nvidiaSmiPath });
  return source;
}

/** Read until `n` samples have arrived (or fail after `timeoutMs`). */
async function collect(src: ChipSource, n: number, timeoutMs = 30_000, onPoll?: () => void): Promise<Sample[]> {
  const got: Sample[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < n) {
    if (Date.now() > deadline) throw new Error(`only ${got.length} of ${n} samples; health ${JSON.stringify(src.health())}`);
    got.push(...src.read(Date.now()));
    onPoll?.();
    await new Promise((r) => setTimeout(r, 20));
  }
  return got;
}

/** The capture's rows parsed independently: header names → values without units. */
function captureRows(file: string) {
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const header = head.split(', ').map((h) => h.replace(/ \[.*\]$/, ''));
  return lines.map((line) => {
    const cells = line.split(', ');
    const v = (name: string) => cells[header.indexOf(name)];
    const n = (name: string) => parseFloat(v(name));
    return {
      ts: Date.parse(v('timestamp').replace(/\//g, '-').replace(' ', 'T')),
      uuid: v('uuid'),
      utilPct: n('utilization.gpu'),
      memUtilPct: n('utilization.memory'),
      memUsedBytes: n('memory.used') * 2 ** 20,
      memTotalBytes: n('memory.total') * 2 ** 20,
      powerW: n('power.draw'),
      powerLimitW: n('power.limit'),
      tempC: n('temperature.gpu'),
      smClockMhz: n('clocks.current.sm'),
    };
  });
}

function expectRowsMatch(got: Sample[], want: ReturnType<typeof captureRows>): void {
  expect(got).toHaveLength(want.length);
  got.forEach((s, i) => {
    const w = want[i];
    expect(sampleSchema.safeParse(s).success, `row ${i}`).toBe(true);
    expect(s.ts, `row ${i} ts`).toBe(w.ts);
    expect(s.chipId).toBe(w.uuid);
    expect(s.powerW! - w.powerW, `row ${i} power`).toBeCloseTo(0, 2);
    expect({ util: s.utilPct, memUtil: s.memUtilPct, used: s.memUsedBytes, total: s.memTotalBytes, limit: s.powerLimitW, temp: s.tempC, sm: s.smClockMhz }).toEqual({
      util: w.utilPct,
      memUtil: w.memUtilPct,
      used: w.memUsedBytes,
      total: w.memTotalBytes,
      limit: w.powerLimitW,
      temp: w.tempC,
      sm: w.smClockMhz,
    });
  });
}

describe('nvidia-smi source (fake nvidia-smi on PATH)', { timeout: 60_000 }, () => {
  it('delivers every row of the real H100 capture with its values and timestamps; energy derived and monotonic', async () => {
    writeFake({ split: true });
    const savedPath = process.env.PATH;
    process.env.PATH = `${tmp.dir}${path.delimiter}${savedPath}`;
    try {
      const src = makeSource();
      await src.start();
      expect(src.chips).toEqual([{ chipId: UUID, vendor: 'nvidia', model: 'H100', index: 0, cores: null, memTotalBytes: 81559 * 2 ** 20, ratedPowerW: 700 }]);
      chipInfoSchema.parse(src.chips[0]);
      expect(src.host).toEqual({ hostname: 'gpu-test-1', instanceId: null, instanceType: null });
      const want = captureRows(H100_CSV);
      const got = await collect(src, want.length);
      expectRowsMatch(got, want);
      expect(got.every((s) => s.flags?.energyDerived === true)).toBe(true);
      expect(got[0].energyJ).toBe(0);
      let trapezoid = 0;
      for (let i = 1; i < got.length; i++) {
        expect(got[i].energyJ!).toBeGreaterThanOrEqual(got[i - 1].energyJ!);
        trapezoid += ((want[i - 1].powerW + want[i].powerW) / 2) * ((want[i].ts - want[i - 1].ts) / 1000);
      }
      expect(got.at(-1)!.energyJ!).toBeCloseTo(trapezoid, 3);
      expect(src.health()).toEqual({ kind: 'nvidia-smi', state: 'ok', restarts: 0, parseErrors: 0, lastError: null });
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it('restarts a child that exits mid-way and loses no row', async () => {
    const src = makeSource(writeFake({ state: path.join(tmp.dir, 'state.json'), exitAfter: 12, maxRows: 30 }));
    await src.start();
    const states = new Set<string>();
    const got = await collect(src, 30, 15_000, () => states.add(src.health().state));
    expectRowsMatch(got, captureRows(H100_CSV).slice(0, 30));
    const h = src.health();
    expect(h.restarts).toBe(1);
    expect(h.state).toBe('ok');
    expect(h.lastError).toMatch(/exited with code 3.*simulated crash/);
    expect(states).toContain('restarting');
    expect(got.map((s) => s.energyJ!).every((e, i, a) => i === 0 || e >= a[i - 1])).toBe(true);
  });

  it('counts garbage and partial lines as parse errors and skips them', async () => {
    const src = makeSource(writeFake({ garbageEvery: 5, maxRows: 25, split: true }));
    await src.start();
    const got = await collect(src, 25);
    expectRowsMatch(got, captureRows(H100_CSV).slice(0, 25));
    await new Promise((r) => setTimeout(r, 100));
    expect(src.read(Date.now())).toEqual([]);
    expect(src.health().parseErrors).toBe(10); // 5 × (garbage + truncated row)
    expect(src.health().lastError).toMatch(/skipped line/);
    expect(src.health().state).toBe('ok');
  });

  it('fires inventory listeners when a GPU appears and when it is gone', async () => {
    const src = makeSource(writeFake({ extraGpu: { from: 5, until: 20, uuid: EXTRA_UUID }, maxRows: 30 }));
    const seen: string[][] = [];
    src.onInventoryChange!(() => seen.push(src.chips.map((c) => c.chipId)));
    await src.start();
    expect(src.chips.map((c) => c.chipId)).toEqual([UUID]);
    const got = await collect(src, 30 + 15);
    expect(seen).toEqual([[UUID, EXTRA_UUID], [UUID]]);
    expect(got.filter((s) => s.chipId === EXTRA_UUID)).toHaveLength(15);
  });

  it('queries only the fields this nvidia-smi supports', async () => {
    // a driver without the corrected-ECC field, streaming the H200 capture (which lacks it too)
    const help = readFileSync(HELP, 'utf8').replace('"ecc.errors.corrected.volatile.total"', '"something.else"');
    writeFileSync(path.join(tmp.dir, 'help.txt'), help);
    const src = makeSource(writeFake({ csv: H200_CSV, help: path.join(tmp.dir, 'help.txt'), maxRows: 10 }));
    await src.start();
    expect(src.chips[0]).toMatchObject({ model: 'H200', memTotalBytes: 143771 * 2 ** 20 });
    const got = await collect(src, 10);
    expectRowsMatch(got, captureRows(H200_CSV).slice(0, 10));
    expect(got[0].eccCorrected).toBeNull();
    expect(got[0].eccUncorrected).toBe(0);
  });

  it('kills and restarts a child that stops printing', async () => {
    const src = makeSource(writeFake({ maxRows: 5 }));
    await src.start();
    await collect(src, 5);
    const deadline = Date.now() + 25_000;
    while (src.health().restarts < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(src.health()).toMatchObject({ restarts: 1, state: 'restarting' }); // the new child prints nothing either
    expect(src.health().lastError).toMatch(/no output for \d+ s; killed/);
  });

  it('start() rejects clearly when the binary does not exist', async () => {
    const src = makeSource(path.join(tmp.dir, 'no-such-nvidia-smi'));
    await expect(src.start()).rejects.toThrow(/no-such-nvidia-smi.*not found.*--nvidia-smi PATH/);
    expect(src.health().state).toBe('failed');
  });

  it('start() rejects with the tool output when the query fails', async () => {
    const help = readFileSync(HELP, 'utf8') + '\n"made.up.field"\n';
    writeFileSync(path.join(tmp.dir, 'help.txt'), help);
    // the fake's CSV has no such column, so it fails like nvidia-smi does for an unknown field
    const src = makeSource(writeFake({ csv: H200_CSV, help: path.join(tmp.dir, 'help.txt') }));
    await expect(src.start()).rejects.toThrow(/exited with code 2 before reporting any GPU.*ecc\.errors\.corrected\.volatile\.total" is not a valid field/);
  });
});
