/**
 * A chip's open rollup rows, updated column-wise at each fold and remembered between folds
 * (server/store/writer/open-chip-rows.ts), against the buckets computed straight from the samples:
 * many folds into the same 10-minute row, folds that cross a row's end, a late sample whose energy
 * change falls in a minute the fold brings nothing to (the batch path, after which the row is read
 * back from the database), and the fleet group's rows beside them. A real SQLite store: its
 * compactor thread folds at each flush.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../server/store/sqlite-store.ts';
import { bucketize } from '../../server/rollups/bucketize.ts';
import { mergeBucket, type RollupBucket } from '../../server/rollups/rollup-bucket.ts';
import { bucketStart, fleetKey, TIERS } from '../../server/rollups/rollup-fields.ts';
import type { Sample } from '../../schema/sample.ts';
import { chipInfo, sample } from '../helpers/frames.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';

const MINUTE = TIERS['1m'].bucketMs;
/** The current hour: open, so its chips' 1-minute buckets go into open rows. */
const HOUR = bucketStart(Date.now(), TIERS['1h'].bucketMs);
const CHIPS = [0, 1, 2];
const reg = { agentId: 'agent-a', agentVersion: 't', intervalMs: 1000, host: { hostname: 'h1', instanceId: 'i-1', instanceType: 'p5.48xlarge' }, chips: CHIPS.map((i) => chipInfo(i)) };

/** Chip `c`'s sample at second `t` of the hour: values that move, energy that grows. */
const at = (c: number, t: number): Sample =>
  sample(`GPU-test-${c}`, HOUR + t * 1000, {
    powerW: 100 + ((t * 37 + c * 11) % 300),
    utilPct: (t * 7 + c) % 101,
    tempC: c === 2 && t % 5 === 0 ? null : 40 + (t % 20),
    energyJ: 5000 + c * 100 + t * 350 + (t % 3),
  });

/** The buckets as the stored rollups must hold them: only what a reader compares. */
const view = (b: RollupBucket) => ({
  start: b.start,
  n: b.n,
  energyJ: Math.round(b.energyJ * 1000) / 1000,
  energyPairs: b.energyPairs,
  f: b.f.map((s) => s && { ...s, sum: Math.round(s.sum * 1000) / 1000 }),
});

describe('open rollup rows remembered between folds', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('hold what the samples make, fold after fold, across rows and after a late sample', async () => {
    const store = await openSqliteStore(join(tmp.dir, 'hub.db'));
    await store.registerAgent(reg, HOUR);
    const sent = new Map<number, Sample[]>(CHIPS.map((c) => [c, []]));
    let seq = 0;
    const send = async (samples: Sample[]) => {
      for (const s of samples) sent.get(Number(s.chipId.slice(-1)))!.push(s);
      await store.insertBatch('agent-a', seq++, samples);
      await store.flush();
    };
    // 25 minutes in folds of 7 seconds (each fold its own step), crossing the 10-minute rows' ends.
    for (let t = 0; t < 25 * 60; t += 7 * 9) {
      const seconds = Array.from({ length: 7 * 9 }, (_, k) => t + k).filter((s) => s < 25 * 60);
      await send(CHIPS.flatMap((c) => seconds.map((s) => at(c, s))));
      // A late sample of chip 1, between two stored ones, once: at 2:59.5, so that the pair it
      // splits (2:59 → 3:00) is undone in minute 3, which this fold brings nothing to.
      if (t === 7 * 9 * 4) await send([at(1, 179.5)]);
    }

    const keys = CHIPS.map((c) => `GPU-test-${c}`);
    const group = fleetKey('nvidia', 'H100');
    const stored = await store.rollups('1m', [...keys, group], HOUR, HOUR + 30 * MINUTE);
    await store.close();
    const expected = new Map<string, RollupBucket[]>();
    for (const c of CHIPS) expected.set(`GPU-test-${c}`, bucketize(sent.get(c)!.sort((a, b) => a.ts - b.ts), MINUTE));
    const groupBuckets = new Map<number, RollupBucket>();
    for (const c of CHIPS) {
      for (const b of bucketize(sent.get(c)!, MINUTE)) {
        const g = groupBuckets.get(b.start);
        if (g) mergeBucket(g, b);
        else groupBuckets.set(b.start, { ...b, f: b.f.map((s) => s && { ...s }) });
      }
    }
    expected.set(group, [...groupBuckets.values()].sort((a, b) => a.start - b.start));
    for (const key of [...keys, group]) {
      expect(stored.get(key)!.length, key).toBe(25);
      expect(stored.get(key)!.map(view), key).toEqual(expected.get(key)!.map(view));
    }
    // The late sample counted once, in minute 2.
    expect(stored.get('GPU-test-1')![2].n).toBe(61);
  });
});
