/**
 * The rollup tiers against brute force: random telemetry (nulls, counter resets, gaps, duplicates,
 * late samples, hour and day boundaries) is stored through the real SQLite store in many folds;
 * every stored bucket must equal the same aggregation computed straight from the raw samples.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Sample } from '../../schema/sample.ts';
import { bucketize } from '../../server/rollups/bucketize.ts';
import type { RollupBucket } from '../../server/rollups/rollup-bucket.ts';
import { fleetKey, ROLLUP_FIELDS, TIERS, type RollupTier } from '../../server/rollups/rollup-fields.ts';
import { openSqliteStore } from '../../server/store/sqlite-store.ts';
import type { Store } from '../../server/store/store.ts';
import { assembleSeries, SeriesBuilder } from '../../server/history/series-assembly.ts';
import { AGGS } from '../../server/history/step-buckets.ts';
import { RangeSummaries, summarize } from '../../server/history/range-summary.ts';
import { createPrng } from '../../agents/sources/prng.ts';
import { CHIPS, mergeBuckets, randomTelemetry as sharedTelemetry } from '../helpers/store-contract.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';

// 22:50 UTC: the data crosses hour boundaries and midnight (a 1h-tier row boundary).
const T0 = Date.UTC(2026, 10, 25, 22, 50);
const SPAN = 150 * 60_000;
const reg = { agentId: 'agent-r', agentVersion: 't', intervalMs: 1000, host: { hostname: 'h-r', instanceId: null, instanceType: null }, chips: CHIPS };

/** The contract suite's random telemetry (nulls, a 7-minute outage, a counter reset), by chip. */
function randomTelemetry(seed: number): Map<string, Sample[]> {
  const out = new Map(CHIPS.map((c) => [c.chipId, [] as Sample[]]));
  for (const s of sharedTelemetry(seed, T0, SPAN)) out.get(s.chipId)!.push(s);
  return out;
}

function expectSameBuckets(actual: RollupBucket[] | undefined, expected: RollupBucket[], label: string) {
  expect(actual?.map((b) => b.start), `${label}: bucket starts`).toEqual(expected.map((b) => b.start));
  expected.forEach((e, i) => {
    const a = actual![i];
    const at = `${label} @ ${new Date(e.start).toISOString()}`;
    expect(a.n, `${at} n`).toBe(e.n);
    expect(a.energyPairs, `${at} energy pairs`).toBe(e.energyPairs);
    expect(a.energyJ, `${at} energy`).toBeCloseTo(e.energyJ, 3);
    ROLLUP_FIELDS.forEach((f, k) => {
      const [x, y] = [a.f[k], e.f[k]];
      if (!y) return expect(x, `${at} ${f}`).toBeNull();
      expect(x, `${at} ${f}`).not.toBeNull();
      expect({ cnt: x!.cnt, min: x!.min, max: x!.max, last: x!.last, lastTs: x!.lastTs }, `${at} ${f}`).toEqual({ cnt: y.cnt, min: y.min, max: y.max, last: y.last, lastTs: y.lastTs });
      expect(x!.sum, `${at} ${f} sum`).toBeCloseTo(y.sum, 6);
    });
  });
}

async function checkAgainstRaw(store: Store) {
  const from = T0 - 86_400_000;
  const to = T0 + SPAN + 86_400_000;
  for (const tier of Object.keys(TIERS) as RollupTier[]) {
    const stepMs = TIERS[tier].bucketMs;
    const expectedByChip = new Map<string, RollupBucket[]>();
    for (const chip of CHIPS) {
      const raw = await store.chipSamples(chip.chipId, from, to, 1e6);
      expectedByChip.set(chip.chipId, bucketize(raw, stepMs));
    }
    const keys = [...CHIPS.map((c) => c.chipId), fleetKey('nvidia', 'H100'), fleetKey('aws', 'Trainium2')];
    const got = await store.rollups(tier, keys, from, to);
    for (const chip of CHIPS) expectSameBuckets(got.get(chip.chipId), expectedByChip.get(chip.chipId)!, `${tier} ${chip.chipId}`);
    expectSameBuckets(got.get(fleetKey('nvidia', 'H100')), mergeBuckets([expectedByChip.get('GPU-test-0')!, expectedByChip.get('GPU-test-1')!]), `${tier} fleet H100`);
    expectSameBuckets(got.get(fleetKey('aws', 'Trainium2')), expectedByChip.get('i-0abc-neuron0')!, `${tier} fleet Trainium2`);
    await checkSeries(store, tier, expectedByChip);
    await checkRangeSummaries(store, tier, expectedByChip);
  }
}

/** /energy and /top's per-chip figures read column-wise from the store equal those of the brute-force buckets. */
async function checkRangeSummaries(store: Store, tier: RollupTier, expectedByChip: Map<string, RollupBucket[]>) {
  const { bucketMs } = TIERS[tier];
  // Whole buckets around the data, and a range cutting into it.
  for (const [from, to] of [[T0 - (T0 % bucketMs), T0 + SPAN + bucketMs], [T0 - (T0 % bucketMs) + bucketMs, T0 - (T0 % bucketMs) + 3 * bucketMs]]) {
    const got = new RangeSummaries(bucketMs, from, to, () => reg.intervalMs);
    await store.rollupsInto(tier, CHIPS.map((c) => c.chipId), from, to - 1, undefined, (chipId, cols) => got.add(chipId, cols));
    const want = summarize(expectedByChip, bucketMs, from, to, () => reg.intervalMs);
    expect([...got.byChip.keys()].sort(), `${tier} summaries ${from}`).toEqual([...want.keys()].sort());
    for (const [chipId, w] of want) {
      const g = got.byChip.get(chipId)!;
      const label = `${tier} summary of ${chipId} over [${from}, ${to})`;
      expect(g.chipMs, label).toBe(w.chipMs);
      expectSameBuckets([g.merged], [w.merged], label);
    }
  }
}

/**
 * /series answers read column-wise from the store (rollupsInto: stored rows plus unfolded samples)
 * equal the answer assembled from the brute-force buckets: per chip and per fleet group, every
 * aggregate, at the tier's step and a coarser one.
 */
async function checkSeries(store: Store, tier: RollupTier, expectedByChip: Map<string, RollupBucket[]>) {
  const from = T0 - 60 * 60_000;
  const to = T0 + SPAN + 60 * 60_000;
  const fleetH100 = fleetKey('nvidia', 'H100');
  const expected = new Map([...expectedByChip, [fleetH100, mergeBuckets([expectedByChip.get('GPU-test-0')!, expectedByChip.get('GPU-test-1')!])]]);
  const groups = [...CHIPS.map((c) => ({ label: c.chipId, tags: {}, keys: [c.chipId] })), { label: 'H100', tags: {}, keys: [fleetH100] }, { label: 'two', tags: {}, keys: ['GPU-test-1', 'i-0abc-neuron0'] }];
  const fields = ['utilPct', 'powerW', 'tempC', 'energyJ'] as const;
  for (const stepMs of [TIERS[tier].bucketMs, 5 * TIERS[tier].bucketMs]) {
    for (const agg of AGGS) {
      const input = { from, to, stepMs, fields, agg, groups };
      const builder = new SeriesBuilder(input);
      await store.rollupsInto(tier, builder.keys(), from - (from % TIERS[tier].bucketMs), to, fields, (key, cols) => builder.add(key, cols));
      const got = builder.columns();
      const want = assembleSeries({ ...input, buckets: expected });
      const label = `${tier} series step ${stepMs} ${agg}`;
      expect(got.series, label).toEqual(want.series);
      expect(got.data[0], label).toEqual(want.data[0]);
      for (let c = 1; c < want.data.length; c++) {
        expect(got.data[c].map((v) => v === null), `${label} column ${c}: nulls`).toEqual(want.data[c].map((v) => v === null));
        want.data[c].forEach((v, i) => v !== null && expect(got.data[c][i], `${label} column ${c} point ${i}`).toBeCloseTo(v, 2));
      }
    }
  }
}

describe('rollup tiers equal brute-force aggregation over the raw samples', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  beforeEach(async () => {
    tmp = tempDir();
    store = await openSqliteStore(join(tmp.dir, 'fleet.db'));
    await store.registerAgent(reg, T0);
  });
  afterEach(async () => {
    await store.close();
    tmp.cleanup();
  });

  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: in-order, late and duplicate samples over many folds`, async () => {
      const rng = createPrng(seed * 7919);
      const data = randomTelemetry(seed);
      // Interleave the chips in time order, then hold ~15% back to send late, and resend ~5%.
      const all = [...data.values()].flat().sort((a, b) => a.ts - b.ts);
      const onTime: Sample[] = [];
      const late: Sample[] = [];
      for (const s of all) (rng.next() < 0.15 ? late : onTime).push(s);
      let seq = 0;
      let since = 0;
      for (let i = 0; i < onTime.length; i += 20) {
        const part = onTime.slice(i, i + 20);
        // A resent sample with other values: the first stored copy must win and count once.
        if (rng.next() < 0.3) part.push({ ...part[0], powerW: 9999, utilPct: 0 });
        await store.insertBatch('agent-r', seq++, part);
        if (++since >= rng.int(1, 12)) {
          since = 0;
          await store.flush();
        }
        if (late.length && rng.next() < 0.2) await store.insertBatch('agent-r', seq++, late.splice(0, rng.int(1, 15)), { backfill: true });
      }
      await store.insertBatch('agent-r', seq++, late, { backfill: true });
      await store.flush();
      expect(await store.countSamples()).toBe(all.length);
      await checkAgainstRaw(store);
    });
  }

  it('answers with samples not yet folded (overlay), equal to brute force, before and after the fold', async () => {
    const data = randomTelemetry(9);
    const all = [...data.values()].flat().sort((a, b) => a.ts - b.ts);
    const cut = Math.floor(all.length * 0.8);
    await store.insertBatch('agent-r', 0, all.slice(0, cut));
    await store.flush();
    // In order after the folded part, still in the sample log.
    await store.insertBatch('agent-r', 1, all.slice(cut));
    await checkAgainstRaw(store);
    await store.flush();
    await checkAgainstRaw(store);
  });

  it('survives a restart: the energy pairing of the first fold after it uses the stored readings', async () => {
    const data = randomTelemetry(4);
    const all = [...data.values()].flat().sort((a, b) => a.ts - b.ts);
    const half = Math.floor(all.length / 2);
    await store.insertBatch('agent-r', 0, all.slice(0, half));
    await store.flush();
    const path = join(tmp.dir, 'fleet.db');
    await store.close();
    store = await openSqliteStore(path);
    await store.insertBatch('agent-r', 1, all.slice(half));
    await store.flush();
    await checkAgainstRaw(store);
  });

  it('a stop between a fold and the deletion of its log rows: the next open folds them again and adds nothing', async () => {
    const data = randomTelemetry(5);
    const all = [...data.values()].flat().sort((a, b) => a.ts - b.ts);
    const path = join(tmp.dir, 'fleet.db');
    for (let i = 0; i < all.length; i += 50) await store.insertBatch('agent-r', i, all.slice(i, i + 50));
    // The committed log rows, as a fold would find them.
    const raw = new Database(path);
    const logged = raw.prepare('SELECT id, received_at, n, data FROM sample_log ORDER BY id').all() as { id: number; received_at: number; n: number; data: Buffer }[];
    expect(logged.reduce((n, r) => n + r.n, 0)).toBe(all.length);
    await store.flush();
    expect(raw.prepare('SELECT count(*) AS c FROM sample_log').get()).toEqual({ c: 0 });
    await store.close();
    // As if the process had stopped after the fold's commit and before its rows were deleted.
    const put = raw.prepare('INSERT INTO sample_log (id, received_at, n, data) VALUES (?, ?, ?, ?)');
    for (const r of logged) put.run(r.id, r.received_at, r.n, r.data);
    raw.close();
    store = await openSqliteStore(path);
    expect(await store.countSamples()).toBe(all.length);
    await checkAgainstRaw(store);
    const after = new Database(path, { readonly: true });
    expect(after.prepare('SELECT count(*) AS c FROM sample_log').get()).toEqual({ c: 0 });
    after.close();
  });
});
