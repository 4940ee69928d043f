/**
 * Replay with work: the H200 training capture replayed with its phases.json reports a `steps`
 * counter whose per-phase totals are the file's, mapped to the replay clock like the samples; the
 * energy per step computed from the replayed NVML energy counter falls by about a quarter under the
 * 400 W cap (the pure half of the capped-vs-uncapped proof).
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChipSource } from '../../agents/sources/chip-source.ts';
import { parseReplayPhases, replayJobId, stepSpans, stepsAt } from '../../agents/sources/replay-source.ts';
import { createSource, type SourceOptions } from '../../agents/sources/source-registry.ts';
import { workReportSchema, type WorkReport } from '../../schema/work.ts';
import type { Sample } from '../../schema/sample.ts';
import { silentLogger } from '../../common/logger.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';

const FIX = path.resolve(process.cwd(), 'test/fixtures');
const H200_DIR = path.join(FIX, 'nvidia-h200-training');
const H200_NVML = path.join(H200_DIR, 'nvml-200ms.jsonl');
const H200_PHASES = path.join(H200_DIR, 'phases.json');
const H100_NVML = path.join(FIX, 'nvidia-h100/nvml-100ms.jsonl');
const T0 = Date.parse('2027-03-01T12:00:00Z');

interface PhasesJson {
  phases: Array<{ phase: string; t: number }>;
  steps: Record<string, number>;
  model: { seq: number; batch: number };
}
const phasesJson: PhasesJson = JSON.parse(readFileSync(H200_PHASES, 'utf8'));
const firstFileMs = Math.round(JSON.parse(readFileSync(H200_NVML, 'utf8').split('\n')[0]).t * 1000);

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('fleetscope-replay-work-');
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
  tmp.cleanup();
});

function replay(file: string, o: Partial<SourceOptions> = {}): ChipSource {
  return createSource('replay', { log: silentLogger, seed: 1, intervalMs: 1000, hostname: 'replay-host', replayFile: file, replaySpeed: 10, ...o });
}

/** Drive the source with a fake clock every `tickMs` until `endMs`: all samples, and the work report of each tick. */
function drive(src: ChipSource, endMs: number, tickMs: number) {
  const samples: Sample[] = [];
  const work: WorkReport[] = [];
  for (let now = T0; now <= endMs; now += tickMs) {
    samples.push(...src.read(now));
    work.push(...src.readWork!(now));
  }
  return { samples, work };
}

/** Linear interpolation of y(x) over points sorted by x (clamped at the ends). */
function interp(points: Array<[number, number]>, x: number): number {
  if (x <= points[0][0]) return points[0][1];
  let lo = 0;
  let hi = points.length - 1;
  if (x >= points[hi][0]) return points[hi][1];
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid][0] <= x) lo = mid;
    else hi = mid;
  }
  const [x0, y0] = points[lo];
  const [x1, y1] = points[hi];
  return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
}

describe('replay of the H200 training capture with its phases.json', () => {
  const SPEED = 10;
  /** A phases.json time (epoch s) on the replay clock. */
  const replayTime = (t: number) => T0 + (t * 1000 - firstFileMs) / SPEED;

  it('reports steps per phase as phases.json says, and energy per step falls ~26 % under the 400 W cap', async () => {
    const src = replay(H200_NVML); // phases.json found next to the capture
    await src.start();
    expect(src.readWork!(T0 - 1)).toEqual([{ ts: T0 - 1, job: 'replay/nvidia-h200-training', counters: { steps: 0, tokens: 0 }, chips: ['replay-nvml-200ms-gpu0'], labels: { generation: 'H200' } }]);
    const end = replayTime(phasesJson.phases.at(-1)!.t) + 100;
    const { samples, work } = drive(src, end, 2);
    expect(samples).toHaveLength(readFileSync(H200_NVML, 'utf8').trim().split('\n').length);
    for (const w of work) expect(workReportSchema.parse(w)).toEqual(w);
    for (let i = 1; i < work.length; i++) {
      expect(work[i].ts).toBeGreaterThan(work[i - 1].ts);
      expect(work[i].counters.steps!).toBeGreaterThanOrEqual(work[i - 1].counters.steps!);
      expect(work[i].counters.tokens!).toBeGreaterThanOrEqual(work[i - 1].counters.tokens!);
    }
    const total = Object.values(phasesJson.steps).reduce((a, b) => a + b, 0);
    expect(work.at(-1)!.counters).toEqual({ steps: total, tokens: total * phasesJson.model.seq * phasesJson.model.batch });

    const stepsAtT = work.map((w): [number, number] => [w.ts, w.counters.steps!]);
    const energyAtT = samples.map((s): [number, number] => [s.ts, s.energyJ!]);
    const phases = phasesJson.phases;
    const per = phases.slice(0, -1).map((p, i) => {
      const a = replayTime(p.t);
      const b = replayTime(phases[i + 1].t);
      return { phase: p.phase, steps: interp(stepsAtT, b) - interp(stepsAtT, a), joules: interp(energyAtT, b) - interp(energyAtT, a) };
    });
    const trains = per.filter((p) => p.phase.startsWith('train'));
    expect(trains.map((p) => p.phase)).toEqual(['train', 'train', 'train_dataloader_stalls', 'train_power_capped_400w']);
    Object.values(phasesJson.steps).forEach((want, k) => expect(Math.abs(trains[k].steps - want), `${trains[k].phase} #${k}`).toBeLessThanOrEqual(1));
    for (const p of per.filter((x) => !x.phase.startsWith('train'))) expect(p.steps, p.phase).toBeLessThanOrEqual(1);

    const [train1, train2, , capped] = trains;
    const uncappedJPerStep = (train1.joules + train2.joules) / (train1.steps + train2.steps);
    const cappedJPerStep = capped.joules / capped.steps;
    const fall = 1 - cappedJPerStep / uncappedJPerStep;
    console.info(`H200 replay: ${uncappedJPerStep.toFixed(2)} J/step in training, ${cappedJPerStep.toFixed(2)} J/step capped at 400 W: ${(fall * 100).toFixed(1)} % less`);
    expect(uncappedJPerStep).toBeGreaterThan(15);
    expect(uncappedJPerStep).toBeLessThan(19);
    expect(Math.abs(fall - 0.26)).toBeLessThanOrEqual(0.02);
    // and the step rate kept ~86 % at ~63 % of the power
    const rate = (p: (typeof per)[number], i: number) => p.steps / (phases[i + 1].t - phases[i].t);
    const idx = (name: string, nth = 0) => phases.map((p, i) => (p.phase === name ? i : -1)).filter((i) => i >= 0)[nth];
    const trainRate = (train1.steps + train2.steps) / (phases[idx('train') + 1].t - phases[idx('train')].t + phases[idx('train', 1) + 1].t - phases[idx('train', 1)].t);
    expect(rate(capped, idx('train_power_capped_400w')) / trainRate).toBeCloseTo(0.86, 1);
  });

  it('keeps counting up when looping, by the file steps per pass', async () => {
    const src = replay(H200_NVML, { replayLoop: true, replaySpeed: 100 });
    await src.start();
    const rows = readFileSync(H200_NVML, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: number });
    const spanMs = (rows.at(-1)!.t - rows[0].t) * 1000;
    const { work } = drive(src, T0 + (2.5 * spanMs) / 100, 5);
    for (let i = 1; i < work.length; i++) expect(work[i].counters.steps!).toBeGreaterThanOrEqual(work[i - 1].counters.steps!);
    const total = Object.values(phasesJson.steps).reduce((a, b) => a + b, 0);
    const last = work.at(-1)!.counters.steps!;
    expect(last).toBeGreaterThan(2 * total);
    expect(last).toBeLessThan(3 * total);
    expect(src.health().lastError).toBeNull();
  });

  it('stops counting when a replay without looping ends', async () => {
    const src = replay(H200_NVML);
    await src.start();
    const total = Object.values(phasesJson.steps).reduce((a, b) => a + b, 0);
    expect(src.readWork!(T0 + 1e7)[0].counters.steps).toBe(total);
    expect(src.readWork!(T0 + 2e7)[0].counters.steps).toBe(total);
  });

  it('takes an explicit phases file (steps as a list; the k-th count to the k-th train* phase)', async () => {
    const capture = path.join(tmp.dir, 'run.jsonl');
    copyFileSync(H200_NVML, capture);
    const file = path.join(tmp.dir, 'my-phases.json');
    writeFileSync(file, JSON.stringify({ phases: phasesJson.phases, steps: [100, 0, 0, 50] }));
    const src = replay(capture, { replayPhases: file });
    await src.start();
    const w = src.readWork!(T0 + 1e7)[0];
    expect(w.job).toBe(`replay/${path.basename(tmp.dir)}`);
    expect(w.counters).toEqual({ steps: 150 }); // no model: no tokens
    // halfway through the first training phase, half its steps
    const p = phasesJson.phases;
    const half = src.readWork!((replayTime(p[2].t) + replayTime(p[3].t)) / 2)[0].counters.steps!;
    expect(Math.abs(half - 50)).toBeLessThanOrEqual(1);
  });

  it('reports no work without a phases file with steps (H100 phases.json is a bare list)', async () => {
    const src = replay(H100_NVML);
    await src.start();
    expect(src.readWork!(T0 + 1e6)).toEqual([]);
    const lone = path.join(tmp.dir, 'lone.jsonl');
    copyFileSync(H200_NVML, lone);
    const src2 = replay(lone);
    await src2.start();
    expect(src2.readWork!(T0 + 1e6)).toEqual([]);
  });

  it.each([
    ['missing', null, /cannot read phases file .*no such file/],
    ['not JSON', '{oops', /is not JSON/],
    ['no steps', JSON.stringify({ phases: [] }), /has no "steps"/],
    ['more counts than train phases', JSON.stringify({ phases: [{ phase: 'train', t: 1795692158 }], steps: [1, 2] }), /2 step counts but only 1 phases/],
    ['bad count', JSON.stringify({ phases: [{ phase: 'train', t: 1795692158 }], steps: { a: -1 } }), /step counts/],
    ['phases out of order', JSON.stringify({ phases: [{ phase: 'a', t: 1795692158 }, { phase: 'train', t: 1795692100 }], steps: [1] }), /time order/],
  ])('an explicit phases file that is %s rejects start()', async (_name, text, err) => {
    const file = path.join(tmp.dir, 'p.json');
    if (text !== null) writeFileSync(file, text);
    const src = replay(H200_NVML, { replayPhases: file });
    await expect(src.start()).rejects.toThrow(err);
    expect(src.health().state).toBe('failed');
    expect(src.read(T0 + 1e6)).toEqual([]);
  });

  it('ignores a malformed phases.json found next to the capture', async () => {
    const capture = path.join(tmp.dir, 'run.jsonl');
    copyFileSync(H200_NVML, capture);
    writeFileSync(path.join(tmp.dir, 'phases.json'), '{oops');
    const src = replay(capture);
    await src.start();
    expect(src.readWork!(T0 + 1e6)).toEqual([]);
    expect(src.read(T0 + 1e6).length).toBeGreaterThan(0);
  });
});

describe('phases file helpers', () => {
  it('spreads steps evenly over each train* phase in order', () => {
    const p = parseReplayPhases(
      JSON.stringify({ phases: [{ phase: 'warmup', t: 1_000_000_000 }, { phase: 'train_a', t: 1_000_000_010 }, { phase: 'eval', t: 1_000_000_020 }, { phase: 'train_b', t: 1_000_000_030 }], steps: { x: 100, y: 40 }, model: { seq: 4, batch: 2 } }),
      'p.json',
    )!;
    expect(p.tokensPerStep).toBe(8);
    const spans = stepSpans(p, 1_000_000_050_000);
    expect(spans).toEqual([
      { phase: 'train_a', startTs: 1_000_000_010_000, endTs: 1_000_000_020_000, steps: 100 },
      { phase: 'train_b', startTs: 1_000_000_030_000, endTs: 1_000_000_050_000, steps: 40 },
    ]);
    expect.soft(stepsAt(spans, 1_000_000_000_000)).toBe(0);
    expect(stepsAt(spans, 1_000_000_015_000)).toBe(50);
    expect(stepsAt(spans, 1_000_000_025_000)).toBe(100);
    expect(stepsAt(spans, 1_000_000_040_000)).toBe(120);
    expect(stepsAt(spans, 2_000_000_000_000)).toBe(140);
    expect(parseReplayPhases('[{"phase": "idle", "t": 1000000000}]', 'p.json')).toBeNull();
  });

  it('names the job after the capture folder', () => {
    expect(replayJobId('test/fixtures/nvidia-h200-training/nvml-200ms.jsonl')).toBe('replay/nvidia-h200-training');
    expect(replayJobId('/data/my run (2)/x.csv')).toBe('replay/my-run--2-');
  });
});
