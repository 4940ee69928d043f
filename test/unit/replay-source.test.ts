import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChipSource } from '../../agents/sources/chip-source.ts';
import { DEFAULT_QUERY_FIELDS } from '../../agents/sources/nvidia-smi-csv.ts';
import { createReplaySource, detectReplayFormat } from '../../agents/sources/replay-source.ts';
import { createSource, type SourceOptions } from '../../agents/sources/source-registry.ts';
import { chipInfoSchema, sampleSchema, type Sample } from '../../schema/sample.ts';
import { silentLogger } from '../../common/logger.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';

const FIX = path.resolve(process.cwd(), 'test/fixtures');
const H100_CSV = path.join(FIX, 'nvidia-h100/query-gpu-250ms.csv');
const H100_NVML = path.join(FIX, 'nvidia-h100/nvml-100ms.jsonl');
const H200_CSV = path.join(FIX, 'nvidia-h200-training/query-gpu-500ms.csv');
const H200_NVML = path.join(FIX, 'nvidia-h200-training/nvml-200ms.jsonl');
const NEURON_STREAM = path.resolve(process.cwd(), 'test/fixtures/neuron/neuron-monitor-stream.jsonl');
const T0 = Date.parse('2027-03-01T12:00:00Z');

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('fleetscope-replay-');
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
  tmp.cleanup();
});

function replay(file: string, o: Partial<SourceOptions> = {}): ChipSource {
  return createSource('replay', { log: silentLogger, seed: 1, intervalMs: 1000, hostname: 'replay-host', replayFile: file, replaySpeed: 1000, ...o });
}

/** CSV capture parsed independently of the source: header name → cell without unit. */
function csvRows(file: string) {
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const header = head.split(', ').map((h) => h.replace(/ \[.*\]$/, ''));
  return lines.map((line) => {
    const cells = line.split(', ');
    const n = (name: string) => parseFloat(cells[header.indexOf(name)]);
    return {
      fileTs: Date.parse(cells[0].replace(/\//g, '-').replace(' ', 'T')),
      values: { utilPct: n('utilization.gpu'), memUsedBytes: n('memory.used') * 2 ** 20, powerLimitW: n('power.limit'), tempC: n('temperature.gpu'), smClockMhz: n('clocks.current.sm') },
      powerW: n('power.draw'),
    };
  });
}

const nvmlRows = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

function expectValid(samples: Sample[]): void {
  for (const s of samples) expect(sampleSchema.safeParse(s).success, JSON.stringify(s)).toBe(true);
  const byChip = new Map<string, Sample[]>();
  for (const s of samples) byChip.set(s.chipId, [...(byChip.get(s.chipId) ?? []), s]);
  for (const list of byChip.values()) {
    for (let i = 1; i < list.length; i++) {
      expect(list[i].ts).toBeGreaterThan(list[i - 1].ts);
      if (list[i].energyJ !== null) expect(list[i].energyJ!).toBeGreaterThanOrEqual(list[i - 1].energyJ!);
    }
  }
}

describe('format detection', () => {
  it.each([
    [readFileSync(H100_CSV, 'utf8').split('\n')[0], 'nvidia-smi-csv'],
    ['timestamp, index, uuid, name, utilization.gpu, memory.used', 'nvidia-smi-csv'],
    [`2026/11/26 10:55:48.518, 0, GPU-82a2d334-d3f3-e1ce-0176-3b908d0cb49e, NVIDIA H100 80GB HBM3, 0, 0, 0, 81559, 90.78, 700.00, 39, 345, 0, 0`, 'nvidia-smi-csv'],
    [readFileSync(H100_NVML, 'utf8').split('\n')[0], 'nvml-jsonl'],
    ['{"neuron_hardware_info": {"neuron_device_count": 1}}', 'neuron-monitor'],
    ['{"neuron_runtime_data": []}', 'neuron-monitor'],
    ['{"hello": 1}', null],
    ['{not json', null],
    ['2026/11/26 10:55:48.518, 0, GPU-1, NVIDIA H100', null], // rows without a header in another order
    ['hello world', null],
  ])('%#: %s', (line, format) => expect(detectReplayFormat(line)).toBe(format));
});

describe('replay source', () => {
  it('replays the H100 nvidia-smi CSV: every row, its values, re-stamped at 100x; energy derived', async () => {
    const src = replay(H100_CSV, { replaySpeed: 100 });
    expect(src.health().state).toBe('starting');
    await src.start();
    expect(src.chips).toEqual([{ chipId: 'GPU-82a2d334-d3f3-e1ce-0176-3b908d0cb49e', vendor: 'nvidia', model: 'H100', index: 0, cores: null, memTotalBytes: 81559 * 2 ** 20, ratedPowerW: 700 }]);
    expect(src.host).toEqual({ hostname: 'replay-host', instanceId: null, instanceType: null });
    const want = csvRows(H100_CSV);
    const got: Sample[] = [];
    for (let now = T0; got.length < want.length && now < T0 + 2000; now += 7) got.push(...src.read(now));
    expect(got).toHaveLength(want.length);
    expectValid(got);
    got.forEach((s, i) => {
      expect(s.ts, `row ${i}`).toBe(Math.round(T0 + (want[i].fileTs - want[0].fileTs) / 100));
      expect(s.powerW! - want[i].powerW).toBeCloseTo(0, 2);
      expect(s).toMatchObject(want[i].values);
      expect(s.flags).toEqual({ energyDerived: true });
    });
    expect(got[0].energyJ).toBe(0);
    expect(src.health()).toEqual({ kind: 'replay', state: 'ok', restarts: 0, parseErrors: 0, lastError: 'replay finished' });
    expect(src.read(T0 + 1e6)).toEqual([]);
  });

  it('paces rows by the file timestamps divided by the speed', async () => {
    const src = replay(H200_CSV, { replaySpeed: 10 });
    await src.start();
    const want = csvRows(H200_CSV);
    const at = (k: number) => T0 + (want[k].fileTs - want[0].fileTs) / 10;
    expect(src.read(T0)).toHaveLength(1);
    expect(src.read(at(10) - 1)).toHaveLength(9);
    const r = src.read(at(10));
    expect(r).toHaveLength(1);
    expect(r[0].ts).toBe(Math.round(at(10)));
    expect(src.read(at(10))).toEqual([]);
    expect(src.health().lastError).toBeNull();
    expect(src.read(at(want.length - 1))).toHaveLength(want.length - 11);
    expect(src.health().lastError).toBe('replay finished');
  });

  it('replays NVML JSON lines with the real energy counter (not derived)', async () => {
    const src = replay(H100_NVML);
    await src.start();
    expect(src.chips).toEqual([{ chipId: 'replay-nvml-100ms-gpu0', vendor: 'nvidia', model: 'H100', index: 0, cores: null, memTotalBytes: 85_520_809_984, ratedPowerW: 700 }]);
    const want = nvmlRows(H100_NVML);
    const got = src.read(T0 + 1e6);
    expect(got).toHaveLength(want.length);
    expectValid(got);
    got.forEach((s, i) => {
      const w = want[i];
      expect(s).toMatchObject({ chipId: 'replay-nvml-100ms-gpu0', utilPct: w.util_gpu, memUtilPct: w.util_mem, memUsedBytes: w.mem_used, memTotalBytes: w.mem_total, tempC: w.temp_c, smClockMhz: w.sm_mhz });
      expect(s.powerW).toBeCloseTo(w.power_mw / 1000, 6);
      expect(s.powerLimitW).toBeCloseTo(w.power_limit_mw / 1000, 6);
      expect(s.energyJ).toBeCloseTo(w.energy_mj / 1000, 6);
      expect(s.flags).toBeUndefined();
      expect(s.ts).toBe(Math.max(Math.round(T0 + (w.t - want[0].t)), i === 0 ? 0 : got[i - 1].ts + 1));
    });
  });

  it('loops: rows repeat, time and energy keep increasing', async () => {
    const src = replay(H200_NVML, { replayLoop: true });
    await src.start();
    expect(src.chips[0]).toMatchObject({ model: 'H200', memTotalBytes: null, ratedPowerW: 700 });
    const want = nvmlRows(H200_NVML);
    const spanMs = (want.at(-1).t - want[0].t) * 1000;
    const got = src.read(T0 + (2.5 * spanMs) / 1000);
    expect(got.length).toBeGreaterThan(2 * want.length);
    expect(got.length).toBeLessThan(3 * want.length);
    expectValid(got);
    const second = got.slice(want.length, 2 * want.length);
    second.forEach((s, i) => expect(s.powerW).toBeCloseTo(want[i].power_mw / 1000, 6));
    const perLoop = (want.at(-1).energy_mj - want[0].energy_mj) / 1000;
    expect(got[2 * want.length].energyJ! - got[want.length].energyJ!).toBeCloseTo(perLoop, 6);
    expect(src.health().lastError).toBeNull();
  });

  it('loops a CSV capture with derived energy continuing from the previous pass', async () => {
    const src = replay(H100_CSV, { replayLoop: true });
    await src.start();
    const n = csvRows(H100_CSV).length;
    const got = src.read(T0 + 200);
    expect(got.length).toBeGreaterThan(2 * n);
    expectValid(got);
    expect(got[n].energyJ).toBe(got[n - 1].energyJ);
    expect(got[2 * n - 1].energyJ).toBeCloseTo(2 * got[n - 1].energyJ!, 6);
  });

  it('accepts noheader CSV rows in the default query order', async () => {
    const want = csvRows(H100_CSV);
    const [head, ...lines] = readFileSync(H100_CSV, 'utf8').trim().split('\n');
    const header = head.split(', ').map((h) => h.replace(/ \[.*\]$/, ''));
    const rows = lines.map((l) => {
      const cells = l.split(', ').map((c) => c.replace(/ (%|W|MiB|MHz)$/, ''));
      return DEFAULT_QUERY_FIELDS.map((f) => cells[header.indexOf(f)]).join(', ');
    });
    const file = path.join(tmp.dir, 'noheader.csv');
    writeFileSync(file, rows.join('\n') + '\nnot a row\n');
    const src = replay(file);
    await src.start();
    const got = src.read(T0 + 1e6);
    expect(got).toHaveLength(want.length);
    got.forEach((s, i) => expect(s).toMatchObject(want[i].values));
    expect(src.health().parseErrors).toBe(1);
  });

  it('counts unreadable NVML lines and keeps the rest', async () => {
    const file = path.join(tmp.dir, 'nvml.jsonl');
    const lines = readFileSync(H100_NVML, 'utf8').trim().split('\n').slice(0, 20);
    lines.splice(5, 0, '{"t": "yesterday"}', '{broken');
    writeFileSync(file, lines.join('\n'));
    const src = createReplaySource({ log: silentLogger, replayFile: file, replaySpeed: 1000, model: 'H100' });
    await src.start();
    expect(src.read(T0 + 1e6)).toHaveLength(20);
    expect(src.health().parseErrors).toBe(2);
    expect(src.chips[0].chipId).toBe('replay-nvml-gpu0');
  });

  it('replays neuron-monitor reports spaced by their periods, host from the report', async () => {
    const src = replay(NEURON_STREAM);
    await src.start();
    expect(src.host.instanceId).toMatch(/^i-/);
    expect(src.chips.length).toBeGreaterThan(0);
    for (const c of src.chips) chipInfoSchema.parse(c);
    const first = src.read(T0);
    expect(first).toHaveLength(src.chips.length);
    const all = [...first, ...src.read(T0 + 1e6)];
    expectValid(all);
    expect(all.length).toBeGreaterThan(first.length);
    expect(new Set(all.map((s) => s.ts)).size).toBeGreaterThan(1);
    expect(src.health().lastError).toBe('replay finished');
  });

  it.each([
    ['no file', undefined, /no capture file given \(--replay FILE\)/],
    ['missing file', '/nonexistent/capture.csv', /cannot read "\/nonexistent\/capture.csv": no such file/],
  ])('start() rejects: %s', async (_name, file, error) => {
    const src = replay(file as string);
    await expect(src.start()).rejects.toThrow(error);
    expect(src.health().state).toBe('failed');
  });

  it('start() rejects an unknown format and a bad speed', async () => {
    const file = path.join(tmp.dir, 'x.txt');
    writeFileSync(file, 'hello\nworld\n');
    await expect(replay(file).start()).rejects.toThrow(/cannot tell the format/);
    await expect(replay(H100_CSV, { replaySpeed: 0 }).start()).rejects.toThrow(/speed must be a positive number/);
  });
});
