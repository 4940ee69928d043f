/**
 * The Store contract: the same behaviour tests against every adapter (SQLite on a temporary file,
 * PostgreSQL in a fresh schema, memory) — inventory, idempotent and duplicate writes, backfill,
 * raw reads with limits, latest samples, rollups against brute force over the raw samples (before
 * and after folding), retention per tier, counts, alert writes and close. Then the PostgreSQL
 * store's own promises: day partitions ahead, retention that drops a day partition, chunks that
 * never cross a day, a clear error for a server that does not answer.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sample } from '../../schema/sample.ts';
import type { Store } from '../../server/store/store.ts';
import { bucketize } from '../../server/rollups/bucketize.ts';
import { bucketsOf } from '../../server/rollups/rollup-columns.ts';
import { mergeBucket, type RollupBucket } from '../../server/rollups/rollup-bucket.ts';
import { fleetKey, ROLLUP_FIELDS, TIERS, type RollupTier } from '../../server/rollups/rollup-fields.ts';
import { openPgStore } from '../../server/store/pg/pg-store.ts';
import { partitionName, dayOf, DAY_MS } from '../../server/store/pg/partitions.ts';
import type { AlertEvent } from '../../server/alerts/alert-events.ts';
import { chipInfo, sample } from '../helpers/frames.ts';
import { ADAPTERS, CHIPS, mergeBuckets, pgClient, PG_URL, postgres, randomTelemetry, type StoreHarness } from '../helpers/store-contract.ts';
import { createPrng } from '../../agents/sources/prng.ts';

const T0 = Date.UTC(2026, 10, 26, 10);
const reg = { agentId: 'agent-a', agentVersion: 't', intervalMs: 1000, host: { hostname: 'h1', instanceId: 'i-1', instanceType: 'p5.48xlarge' }, chips: [chipInfo(0), chipInfo(1)] };
const regR = { agentId: 'agent-r', agentVersion: 't', intervalMs: 1000, host: { hostname: 'h-r', instanceId: null, instanceType: null }, chips: CHIPS };

function expectSameBuckets(actual: RollupBucket[] | undefined, expected: RollupBucket[], label: string) {
  expect(actual?.map((b) => b.start) ?? [], `${label}: bucket starts`).toEqual(expected.map((b) => b.start));
  expected.forEach((e, i) => {
    const a = actual![i];
    const at = `${label} @ ${new Date(e.start).toISOString()}`;
    expect(a.n, `${at} n`).toBe(e.n);
    expect(a.energyPairs, `${at} energy pairs`).toBe(e.energyPairs);
    expect(a.energyJ, `${at} energy`).toBeCloseTo(e.energyJ, 3);
    ROLLUP_FIELDS.forEach((f, k) => {
      const [x, y] = [a.f[k], e.f[k]];
      if (!y) return expect(x, `${at} ${f}`).toBeNull();
      expect({ cnt: x!.cnt, min: x!.min, max: x!.max, last: x!.last, lastTs: x!.lastTs }, `${at} ${f}`).toEqual({ cnt: y.cnt, min: y.min, max: y.max, last: y.last, lastTs: y.lastTs });
      expect(x!.sum, `${at} ${f} sum`).toBeCloseTo(y.sum, 6);
    });
  });
}

/** Every tier's buckets (chips and fleet groups, rollups and rollupsInto) equal brute force over the stored raw samples. */
async function expectRollupsEqualRaw(store: Store, from: number, to: number) {
  for (const tier of Object.keys(TIERS) as RollupTier[]) {
    const step = TIERS[tier].bucketMs;
    const raw = new Map<string, RollupBucket[]>();
    for (const c of CHIPS) raw.set(c.chipId, bucketize(await store.chipSamples(c.chipId, from, to, 1e6), step));
    const h100 = fleetKey('nvidia', 'H100');
    const expected = new Map([...raw, [h100, mergeBuckets([raw.get('GPU-test-0')!, raw.get('GPU-test-1')!])], [fleetKey('aws', 'Trainium2'), raw.get('i-0abc-neuron0')!]]);
    const keys = [...expected.keys()];
    const got = await store.rollups(tier, keys, from, to);
    for (const key of keys) expectSameBuckets(got.get(key), expected.get(key)!, `${tier} ${key} (rollups)`);
    // rollupsInto: the sink cuts to [from, to] and merges equal starts.
    const into = new Map<string, Map<number, RollupBucket>>();
    await store.rollupsInto(tier, keys, from, to, undefined, (key, cols) => {
      const m = into.get(key) ?? new Map<number, RollupBucket>();
      into.set(key, m);
      for (const b of bucketsOf(cols)) {
        if (b.start < from || b.start > to) continue;
        const had = m.get(b.start);
        if (had) mergeBucket(had, b);
        else m.set(b.start, b);
      }
    });
    for (const key of keys) expectSameBuckets([...(into.get(key)?.values() ?? [])].sort((a, b) => a.start - b.start), expected.get(key)!, `${tier} ${key} (rollupsInto)`);
  }
}

describe.each(ADAPTERS)('Store contract: $name', (adapter) => {
  let harness: StoreHarness;
  let store: Store;
  beforeEach(async () => {
    harness = await adapter.create();
    store = await harness.open();
  });
  afterEach(async () => {
    await store?.close();
    await harness?.cleanup();
  });

  it('registers agents, hosts and chips; a chip stays with its agent until moveChip; token bindings are kept', async () => {
    expect(await store.getAgent('agent-a')).toBeNull();
    await store.registerAgent({ ...reg, tokenId: 'tok-1' }, T0);
    expect(await store.getAgent('agent-a')).toEqual({ agentId: 'agent-a', hostname: 'h1', version: 't', tokenId: 'tok-1' });
    // Another agent claiming chip 1 does not take it; a later hello of agent-a keeps its token.
    await store.registerAgent({ ...reg, agentId: 'agent-b', host: { hostname: 'h2', instanceId: null, instanceType: null }, chips: [chipInfo(1), chipInfo(2)] }, T0 + 1000);
    await store.registerAgent({ ...reg, intervalMs: 250, tokenId: 'tok-2', chips: [chipInfo(0, { model: 'H200' }), chipInfo(1)] }, T0 + 2000);
    expect(await store.getAgent('agent-a')).toMatchObject({ tokenId: 'tok-1' });
    expect((await store.agentTokenIds()).sort()).toEqual([null, 'tok-1'].sort());
    const listed = await store.listChips();
    expect(listed.map((c) => [c.chipId, c.agentId, c.host, c.model, c.instanceType, c.intervalMs, c.lastSeen])).toEqual([
      ['GPU-test-0', 'agent-a', 'h1', 'H200', 'p5.48xlarge', 250, T0 + 2000],
      ['GPU-test-1', 'agent-a', 'h1', 'H100', 'p5.48xlarge', 250, T0 + 2000],
      ['GPU-test-2', 'agent-b', 'h2', 'H100', null, 1000, T0 + 1000],
    ]);
    expect(listed[0]).toMatchObject({ vendor: 'nvidia', index: 0, cores: 132, memTotalBytes: 81559 * 1048576, ratedPowerW: 700 });
    const moved = await store.moveChip('GPU-test-1', 'agent-b', T0 + 3000);
    expect(moved).toMatchObject({ chipId: 'GPU-test-1', agentId: 'agent-b', host: 'h2', lastSeen: T0 + 3000 });
    expect((await store.listChips()).find((c) => c.chipId === 'GPU-test-1')).toMatchObject({ agentId: 'agent-b', host: 'h2' });
    expect(await store.moveChip('GPU-test-9', 'agent-b', T0)).toBeNull();
    expect(await store.moveChip('GPU-test-1', 'agent-zz', T0)).toBeNull();
  });

  it('round-trips samples exactly (nulls, absent optional fields, flags, extras), before and after folding', async () => {
    await store.registerAgent(reg, T0);
    const gpu = sample('GPU-test-0', T0, { smClockMhz: 1980, eccCorrected: null, eccUncorrected: 0 });
    const other = sample('GPU-test-1', T0, { tempC: null, memUtilPct: null, energyJ: null, flags: { powerEstimated: true, energyDerived: true }, extras: { nc0: 97.25, nc1: 88 } });
    expect(await store.insertBatch('agent-a', 0, [gpu, other])).toEqual({ stored: 2 });
    expect(await store.chipSamples('GPU-test-0', T0, T0, 10)).toEqual([gpu]);
    expect(await store.chipSamples('GPU-test-1', T0, T0, 10)).toEqual([other]);
    await store.flush();
    expect(await store.chipSamples('GPU-test-0', T0, T0, 10)).toEqual([gpu]);
    expect(await store.chipSamples('GPU-test-1', T0, T0, 10)).toEqual([other]);
  });

  it('is idempotent: a resent (agent, seq) batch is stored once, and the first stored copy of a (chip, ts) wins before and after folding', async () => {
    await store.registerAgent(reg, T0);
    const b = [sample('GPU-test-0', T0), sample('GPU-test-0', T0 + 1000)];
    await store.insertBatch('agent-a', 0, b);
    await store.insertBatch('agent-a', 0, b);
    expect(await store.chipSamples('GPU-test-0', T0, T0 + 1000, 10)).toEqual(b);
    expect(await store.countSamples()).toBe(2);
    // A copy with other values after the first was folded: the stored one stays.
    await store.insertBatch('agent-a', 0, [sample('GPU-test-0', T0, { powerW: 1 }), sample('GPU-test-0', T0 + 2000)]);
    expect((await store.chipSamples('GPU-test-0', T0, T0, 10))[0].powerW).toBe(400.25);
    expect(await store.countSamples()).toBe(3);
    expect((await store.chipSamples('GPU-test-0', T0, T0, 10))[0].powerW).toBe(400.25);
  });

  it('keeps the first copy of duplicates across batches and agents, in one call and across calls, before folding', async () => {
    await store.registerAgent(reg, T0);
    const first = sample('GPU-test-1', T0 + 5000, { powerW: 11 });
    const res = await store.insertBatches([
      { agentId: 'agent-a', seq: 1, samples: [first, sample('GPU-test-1', T0 + 6000)] },
      { agentId: 'agent-b', seq: null, samples: [sample('GPU-test-1', T0 + 5000, { powerW: 22 })] },
    ]);
    expect(res).toEqual([{ stored: 2 }, { stored: 1 }]);
    await store.insertBatch('agent-a', 2, [sample('GPU-test-1', T0 + 5000, { powerW: 33 }), sample('GPU-test-1', T0 + 7000)]);
    expect((await store.chipSamples('GPU-test-1', T0, T0 + 10_000, 10)).map((s) => [s.ts - T0, s.powerW])).toEqual([[5000, 11], [6000, 400.25], [7000, 400.25]]);
    await store.flush();
    expect((await store.chipSamples('GPU-test-1', T0, T0 + 10_000, 10)).map((s) => [s.ts - T0, s.powerW])).toEqual([[5000, 11], [6000, 400.25], [7000, 400.25]]);
    expect(await store.countSamples()).toBe(3);
  });

  it('flags a backfill batch as backfill, keeping the flags its samples carry', async () => {
    await store.registerAgent(reg, T0);
    await store.insertBatches([
      { agentId: 'agent-a', seq: 1, samples: [sample('GPU-test-0', T0, { flags: { powerEstimated: true } })], backfill: true },
      { agentId: 'agent-a', seq: 2, samples: [sample('GPU-test-0', T0 + 1000)] },
    ]);
    await store.insertBatch('agent-a', 3, [sample('GPU-test-0', T0 + 2000)], { backfill: true });
    const flags = async () => (await store.chipSamples('GPU-test-0', T0, T0 + 2000, 10)).map((s) => s.flags);
    const want = [{ powerEstimated: true, backfill: true }, undefined, { backfill: true }];
    expect(await flags()).toEqual(want);
    await store.flush();
    expect(await flags()).toEqual(want);
  });

  it('answers raw ranges inclusively, ascending, cut at the limit, the same from the log and from chunks; late samples land in order', async () => {
    await store.registerAgent(reg, T0);
    const rows = Array.from({ length: 300 }, (_, i) => sample('GPU-test-1', T0 + i * 1000, { powerW: i / 4 }));
    // Sent newest batch first, chips interleaved.
    for (let i = 280; i >= 0; i -= 20) await store.insertBatch('agent-a', i, [...rows.slice(i, i + 20), sample('GPU-test-0', T0 + i * 1000)].reverse());
    const read = () => store.chipSamples('GPU-test-1', T0 + 10_000, T0 + 200_000, 10_000);
    const before = await read();
    expect(before).toEqual(rows.slice(10, 201));
    expect((await store.chipSamples('GPU-test-1', T0, T0 + 1e9, 7)).map((s) => s.ts)).toEqual(rows.slice(0, 7).map((s) => s.ts));
    await store.flush();
    expect(await read()).toEqual(before);
    expect(await store.chipSamples('GPU-test-1', T0 - 10_000, T0 - 1, 10)).toEqual([]);
    await store.insertBatch('agent-a', 999, [sample('GPU-test-1', T0 + 500, { powerW: 7 })]);
    expect((await store.chipSamples('GPU-test-1', T0, T0 + 1000, 10)).map((s) => s.powerW)).toEqual([0, 7, 0.25]);
    await store.flush();
    expect((await store.chipSamples('GPU-test-1', T0, T0 + 1000, 10)).map((s) => s.powerW)).toEqual([0, 7, 0.25]);
    expect(await store.countSamples()).toBe(300 + 15 + 1);
  });

  it('gives the latest sample of each registered chip, whether folded or still logged', async () => {
    await store.registerAgent(reg, T0);
    expect((await store.latestSamples()).size).toBe(0);
    await store.insertBatch('agent-a', 0, [sample('GPU-test-0', T0, { powerW: 1 }), sample('GPU-test-0', T0 + 2000, { powerW: 2 }), sample('GPU-test-1', T0 + 1000, { powerW: 3 })]);
    await store.flush();
    // Newer for chip 0 in the log, an older (late) one for chip 1; an unregistered chip is not listed.
    await store.insertBatch('agent-a', 1, [sample('GPU-test-0', T0 + 3000, { powerW: 4 }), sample('GPU-test-1', T0, { powerW: 5 }), sample('GPU-x', T0 + 9000)]);
    const latest = await store.latestSamples();
    expect([...latest.keys()].sort()).toEqual(['GPU-test-0', 'GPU-test-1']);
    expect([latest.get('GPU-test-0')!.powerW, latest.get('GPU-test-1')!.powerW]).toEqual([4, 3]);
    await store.flush();
    const after = await store.latestSamples();
    expect([after.get('GPU-test-0')!.powerW, after.get('GPU-test-1')!.powerW]).toEqual([4, 3]);
  });

  it('rollups 1m and 1h (chips and fleet groups: count, sum, min, max, last, energy) equal brute force over the raw samples, with late, duplicate and backfilled samples over many folds', async () => {
    await store.registerAgent(regR, T0);
    // 22:50 UTC: the data crosses hours and midnight (a 1h-tier row and a day partition).
    const t0 = Date.UTC(2026, 10, 25, 22, 50);
    const all = randomTelemetry(3, t0, 150 * 60_000);
    // The last 20 minutes come at the end, in order, and stay unfolded for the first check.
    const tailFrom = t0 + 130 * 60_000;
    const head = all.filter((s) => s.ts < tailFrom);
    const tail = all.filter((s) => s.ts >= tailFrom);
    const rng = createPrng(77);
    const onTime: Sample[] = [];
    const late: Sample[] = [];
    for (const s of head) (rng.next() < 0.15 ? late : onTime).push(s);
    let seq = 0;
    for (let i = 0; i < onTime.length; i += 40) {
      const part = onTime.slice(i, i + 40);
      // A resent sample with other values: the first stored copy wins and counts once.
      if (rng.next() < 0.3) part.push({ ...part[0], powerW: 9999, utilPct: 0 });
      await store.insertBatch('agent-r', seq++, part);
      if (rng.next() < 0.25) await store.flush();
      if (late.length && rng.next() < 0.2) await store.insertBatch('agent-r', seq++, late.splice(0, rng.int(1, 15)), { backfill: true });
    }
    await store.insertBatch('agent-r', seq++, late, { backfill: true });
    await store.flush();
    const from = t0 - DAY_MS;
    const to = t0 + 2 * DAY_MS;
    await expectRollupsEqualRaw(store, from, to);
    // Samples after the folded ones, still in the log; then folded.
    await store.insertBatch('agent-r', seq++, tail);
    await expectRollupsEqualRaw(store, from, to);
    await store.flush();
    expect(await store.countSamples()).toBe(all.length);
    await expectRollupsEqualRaw(store, from, to);
    // Spot values: bucket of chip 0's first minute against its samples.
    const m1 = (await store.rollups('1m', ['GPU-test-0'], from, to)).get('GPU-test-0')!;
    const firstMinute = all.filter((s) => s.chipId === 'GPU-test-0' && s.ts < m1[0].start + 60_000);
    expect(m1[0].n).toBe(firstMinute.length);
    expect(m1[0].f[ROLLUP_FIELDS.indexOf('powerLimitW')]).toMatchObject({ cnt: firstMinute.length, min: 700, max: 700, last: 700 });
  });

  it('rollups of samples not yet folded continue the folded ones (energy paired across), and `fields` limits what is filled in', async () => {
    await store.registerAgent(reg, T0);
    const e = (i: number) => 1000 + 10 * i;
    await store.insertBatch('agent-a', 0, Array.from({ length: 40 }, (_, i) => sample('GPU-test-0', T0 + i * 30_000, { powerW: 100 + i, energyJ: e(i) })));
    await store.flush();
    await store.insertBatch('agent-a', 1, Array.from({ length: 10 }, (_, i) => sample('GPU-test-0', T0 + (40 + i) * 30_000, { powerW: 200, energyJ: e(40 + i) })));
    const read = async () => (await store.rollups('1h', ['GPU-test-0', fleetKey('nvidia', 'H100')], T0, T0 + 3_600_000)).get('GPU-test-0')!;
    const [before] = await read();
    expect(before.n).toBe(50);
    expect(before.energyJ).toBeCloseTo(490);
    expect(before.energyPairs).toBe(49);
    expect(before.f[ROLLUP_FIELDS.indexOf('powerW')]).toMatchObject({ cnt: 50, min: 100, max: 200, last: 200, sum: 40 * 100 + 780 + 2000 });
    await store.flush();
    expect(await read()).toEqual([before]);
    const only = (await store.rollups('1m', ['GPU-test-0'], T0, T0 + 60_000, ['powerW'])).get('GPU-test-0')!;
    expect(only.map((b) => b.start)).toEqual([T0, T0 + 60_000]);
    expect(only[0].f[ROLLUP_FIELDS.indexOf('powerW')]).toMatchObject({ cnt: 2, sum: 201 });
    expect(only[0].f[ROLLUP_FIELDS.indexOf('tempC')]).toBeNull();
    expect(only[0].energyJ).toBe(0);
  });

  it('retention drops each tier past its age: raw first, then 1 minute, then 1 hour rollups', async () => {
    await store.close();
    store = await harness.open({ retention: { rawMs: 48 * 3_600_000, m1Ms: 30 * DAY_MS, h1Ms: 365 * DAY_MS } });
    await store.registerAgent(reg, T0);
    // Folded apart, the recent ones too few to be taken into the old chunk (SQLite's chunks may span days).
    const old = Array.from({ length: 10 }, (_, i) => sample('GPU-test-0', T0 + i * 1000));
    const recent = Array.from({ length: 5 }, (_, i) => sample('GPU-test-0', T0 + 3 * DAY_MS + i * 1000));
    await store.insertBatch('agent-a', 0, old);
    await store.flush();
    await store.insertBatch('agent-a', 1, recent);
    const raw = () => store.chipSamples('GPU-test-0', T0 - DAY_MS, T0 + 4 * DAY_MS, 100);
    const tier = async (t: RollupTier) => (await store.rollups(t, ['GPU-test-0'], T0 - DAY_MS, T0 + 4 * DAY_MS)).get('GPU-test-0')?.map((b) => b.start - bucketStartOf(t, T0)) ?? [];
    const bucketStartOf = (t: RollupTier, ts: number) => ts - (ts % TIERS[t].bucketMs);
    await store.enforceRetention(T0 + 3 * DAY_MS + 3_600_000);
    expect(await raw()).toEqual(recent);
    expect(await store.countSamples()).toBe(5);
    expect(await tier('1m')).toEqual([0, 3 * DAY_MS]);
    expect(await tier('1h')).toEqual([0, 3 * DAY_MS]);
    await store.enforceRetention(T0 + 40 * DAY_MS);
    expect(await raw()).toEqual([]);
    expect(await store.countSamples()).toBe(0);
    expect(await tier('1m')).toEqual([]);
    expect(await tier('1h')).toEqual([0, 3 * DAY_MS]);
    await store.enforceRetention(T0 + 400 * DAY_MS);
    expect(await tier('1h')).toEqual([]);
    // Data still comes in afterwards (PostgreSQL: its day partition is made again).
    await store.insertBatch('agent-a', 2, old.slice(0, 1));
    expect(await raw()).toEqual(old.slice(0, 1));
  });

  it('stores alert state rows and transitions (a null state deletes the row)', async () => {
    const labels = { alertname: 'hot', chip: 'GPU-test-0' };
    const event = (over: Partial<AlertEvent>): AlertEvent => ({
      ruleId: 'hot', chipId: 'GPU-test-0', from: 'inactive', to: 'pending', at: T0, value: 91.5, severity: 'warning',
      labels, annotations: { summary: 'hot' }, fingerprint: 'fp1', startsAt: T0, endsAt: null, ...over,
    });
    await store.writeAlerts([{ ruleId: 'hot', chipId: 'GPU-test-0', state: { phase: 'pending' }, labels }, { ruleId: 'hot', chipId: 'GPU-test-1', state: { phase: 'firing' }, labels }], [event({})], T0);
    await store.writeAlerts([{ ruleId: 'hot', chipId: 'GPU-test-1', state: null, labels }], [event({ from: 'pending', to: 'firing', at: T0 + 5000, value: null }), event({ chipId: 'GPU-test-1', from: 'firing', to: 'resolved', at: T0 + 6000, endsAt: T0 + 6000 })], T0 + 6000);
    const rows = await harness.alertRows();
    expect(rows.states).toEqual([{ ruleId: 'hot', chipId: 'GPU-test-0', state: { phase: 'pending' }, labels, updatedAt: T0 }]);
    expect(rows.events.map((e) => [e.chipId, e.from, e.to, e.at - T0, e.value, e.startsAt - T0, e.endsAt === null ? null : e.endsAt - T0])).toEqual([
      ['GPU-test-0', 'inactive', 'pending', 0, 91.5, 0, null],
      ['GPU-test-0', 'pending', 'firing', 5000, null, 0, null],
      ['GPU-test-1', 'firing', 'resolved', 6000, 91.5, 0, 6000],
    ]);
  });

  it('reports no write backlog when idle, and closes (a durable store opened again has everything)', async () => {
    await store.registerAgent(reg, T0);
    await store.insertBatch('agent-a', 0, [sample('GPU-test-0', T0), sample('GPU-test-1', T0)]);
    expect(store.writeBacklog()).toBe(0);
    await store.close();
    store = await harness.open();
    if (harness.durable) {
      expect(await store.countSamples()).toBe(2);
      expect((await store.listChips()).map((c) => c.chipId)).toEqual(['GPU-test-0', 'GPU-test-1']);
      expect((await store.rollups('1m', ['GPU-test-0'], T0, T0)).get('GPU-test-0')?.[0].n).toBe(1);
    } else {
      expect(await store.countSamples()).toBe(0);
    }
  });
});

describe('PostgreSQL store: partitions and connection', () => {
  let harness: StoreHarness;
  let store: Store | undefined;
  beforeEach(async () => {
    harness = await postgres.create();
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await harness?.cleanup();
  });

  /** Partitions of a table in the harness's schema with their row counts. */
  async function partitionsOf(table: string): Promise<Map<string, number>> {
    const schema = postgres.schemaOf(harness);
    const c = await pgClient();
    try {
      const r = await c.query<{ name: string }>(
        `SELECT child.relname AS name FROM pg_inherits i JOIN pg_class parent ON parent.oid = i.inhparent JOIN pg_class child ON child.oid = i.inhrelid
          JOIN pg_namespace ns ON ns.oid = parent.relnamespace WHERE ns.nspname = $1 AND parent.relname = $2`,
        [schema, table],
      );
      const out = new Map<string, number>();
      for (const { name } of r.rows) out.set(name, Number((await c.query(`SELECT count(*) AS n FROM ${schema}.${name}`)).rows[0].n));
      return out;
    } finally {
      await c.end();
    }
  }

  it('creates day partitions of the log and the chunks for today and the next two days at open, and for a sample\'s day on demand', async () => {
    store = await harness.open();
    const today = dayOf(Date.now());
    for (const table of ['sample_log', 'sample_chunks']) {
      const names = [...(await partitionsOf(table)).keys()];
      for (let d = 0; d <= 2; d++) expect(names).toContain(partitionName(table, today + d * DAY_MS));
    }
    await store.insertBatch('a', 0, [sample('GPU-test-0', T0)]);
    expect((await partitionsOf('sample_log')).get(partitionName('sample_log', dayOf(T0)))).toBe(1);
    await store.flush();
    expect((await partitionsOf('sample_log')).get(partitionName('sample_log', dayOf(T0)))).toBe(0);
    expect((await partitionsOf('sample_chunks')).get(partitionName('sample_chunks', dayOf(T0)))).toBe(1);
  });

  it('retention drops the old day partitions whole (pg_inherits / pg_class) and leaves the other days\' rows alone', async () => {
    store = await harness.open();
    await store.registerAgent(reg, T0);
    await store.insertBatch('a', 0, [sample('GPU-test-0', T0), sample('GPU-test-0', T0 + 1000), sample('GPU-test-0', T0 + 3 * DAY_MS)]);
    await store.flush();
    const oldDay = partitionName('sample_chunks', dayOf(T0));
    const keptDay = partitionName('sample_chunks', dayOf(T0 + 3 * DAY_MS));
    expect((await partitionsOf('sample_chunks')).get(oldDay)).toBe(1);
    await store.enforceRetention(T0 + 3 * DAY_MS + 3_600_000);
    const after = await partitionsOf('sample_chunks');
    expect(after.has(oldDay)).toBe(false);
    expect(after.get(keptDay)).toBe(1);
    expect((await partitionsOf('sample_log')).has(partitionName('sample_log', dayOf(T0)))).toBe(false);
    // The table itself is gone from the catalog, not emptied.
    const c = await pgClient();
    try {
      const r = await c.query('SELECT 1 FROM pg_class cl JOIN pg_namespace ns ON ns.oid = cl.relnamespace WHERE ns.nspname = $1 AND cl.relname = $2', [postgres.schemaOf(harness), oldDay]);
      expect(r.rowCount).toBe(0);
    } finally {
      await c.end();
    }
    expect((await store.chipSamples('GPU-test-0', T0, T0 + 4 * DAY_MS, 10)).map((s) => s.ts)).toEqual([T0 + 3 * DAY_MS]);
  });

  it('cuts chunks at UTC midnight, so each chunk lies in one day partition', async () => {
    store = await harness.open();
    const midnight = dayOf(T0) + DAY_MS;
    await store.insertBatch('a', 0, Array.from({ length: 20 }, (_, i) => sample('GPU-test-0', midnight - 10_000 + i * 1000)));
    await store.flush();
    const chunks = await partitionsOf('sample_chunks');
    expect(chunks.get(partitionName('sample_chunks', dayOf(T0)))).toBe(1);
    expect(chunks.get(partitionName('sample_chunks', midnight))).toBe(1);
    expect(await store.chipSamples('GPU-test-0', midnight - 10_000, midnight + 10_000, 100)).toHaveLength(20);
  });

  it('folds in the background by size and by age, without flush', async () => {
    store = await openPgStore(PG_URL, { schema: postgres.schemaOf(harness), compactAtSamples: 300, compactAfterMs: 1000 });
    await store.registerAgent(reg, T0);
    const sent = Array.from({ length: 1000 }, (_, i) => sample(`GPU-test-${i % 2}`, T0 + i * 1000));
    for (let i = 0; i < sent.length; i += 50) await store.insertBatch('agent-a', i, sent.slice(i, i + 50));
    const logged = async () => [...(await partitionsOf('sample_log')).values()].reduce((a, b) => a + b, 0);
    const until = Date.now() + 15_000;
    while ((await logged()) > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(await logged()).toBe(0);
    expect([...(await partitionsOf('sample_chunks')).values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(await store.chipSamples('GPU-test-0', T0, T0 + 1e6, 1e4)).toEqual(sent.filter((s) => s.chipId === 'GPU-test-0'));
  });

  it('counts late samples still in the log exactly as the fold will (energy pairs they split included)', async () => {
    store = await harness.open();
    await store.registerAgent(regR, T0);
    const all = randomTelemetry(11, T0, 90 * 60_000);
    const late = all.filter((_, i) => i % 7 === 3);
    await store.insertBatch('agent-r', 0, all.filter((_, i) => i % 7 !== 3));
    await store.flush();
    await store.insertBatch('agent-r', 1, late, { backfill: true });
    await expectRollupsEqualRaw(store, T0 - DAY_MS, T0 + DAY_MS);
    const before = (await store.rollups('1m', [fleetKey('nvidia', 'H100')], T0 - DAY_MS, T0 + DAY_MS)).get(fleetKey('nvidia', 'H100'))!;
    await store.flush();
    // The same buckets once folded (sums up to float rounding: stored rows are encoded).
    expectSameBuckets((await store.rollups('1m', [fleetKey('nvidia', 'H100')], T0 - DAY_MS, T0 + DAY_MS)).get(fleetKey('nvidia', 'H100')), before, 'folded vs unfolded');
    await expectRollupsEqualRaw(store, T0 - DAY_MS, T0 + DAY_MS);
  });

  it('names host and port when the server does not answer', async () => {
    await expect(openPgStore('postgres://postgres@127.0.0.1:1/test', { schema: 'fs_never' })).rejects.toThrow(/PostgreSQL at 127\.0\.0\.1:1 does not answer/);
    expect(PG_URL).toMatch(/^postgres(ql)?:\/\//);
  });
});
