import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool, type SpoolOptions } from '../../agents/spool.ts';
import { silentLogger } from '../../common/logger.ts';
import { sample } from '../helpers/frames.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';

const T0 = Date.UTC(2026, 10, 26);
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

const opts = (over: Partial<SpoolOptions> = {}): SpoolOptions => ({ dir: tmp.dir, maxBytes: 10 * 1024 * 1024, maxBatches: 100, segmentBatches: 5, log: silentLogger, ...over });
const put = (sp: Spool, n: number) => Array.from({ length: n }, (_, i) => sp.append([sample('GPU-x', T0 + sp.nextSeq * 1000 + i)], T0));
const segments = () => readdirSync(tmp.dir).filter((f) => f.startsWith('seg-'));

describe.each([
  ['on disk', () => opts()],
  ['in memory', () => opts({ dir: null })],
])('spool %s', (_name, mk) => {
  it('hands out unacknowledged batches in order, after a given seq, up to n', () => {
    const sp = new Spool(mk());
    put(sp, 12);
    expect(sp.unackedAfter(-1, 4).map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    expect(sp.unackedAfter(3, 100).map((r) => r.seq)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    sp.ack(0);
    sp.ack(2);
    expect(sp.unackedAfter(-1, 3).map((r) => r.seq)).toEqual([1, 3, 4]);
    expect(sp.pendingBatches).toBe(10);
    expect(sp.ack(2)).toBe(false); // a duplicate ack changes nothing
    sp.close();
  });
});

describe('spool on disk', () => {
  it('survives a restart: unacknowledged batches come back, acknowledged ones do not, seq continues', () => {
    const a = new Spool(opts());
    put(a, 12);
    for (const s of [0, 1, 2, 3, 4, 5, 6]) a.ack(s);
    a.close();
    const b = new Spool(opts());
    expect(b.unackedAfter(-1, 100).map((r) => r.seq)).toEqual([7, 8, 9, 10, 11]);
    expect(b.unackedAfter(-1, 1)[0].samples[0].chipId).toBe('GPU-x');
    expect(b.nextSeq).toBe(12);
    b.close();
  });

  it('deletes segment files once every batch in them is acknowledged', () => {
    const sp = new Spool(opts());
    put(sp, 12); // segments of 5: [0-4] [5-9] [10-11]
    expect(segments()).toHaveLength(3);
    for (let s = 0; s < 10; s++) sp.ack(s);
    expect(segments()).toHaveLength(1);
    sp.close();
  });

  it('drops the oldest data when full, counts it, and keeps the newest', () => {
    const probe = new Spool(opts({ dir: join(tmp.dir, 'probe') }));
    put(probe, 5);
    const segBytes = probe.bytes;
    probe.close();
    const sp = new Spool(opts({ maxBytes: Math.floor(segBytes * 2.5) }));
    put(sp, 20);
    expect(sp.dropped.batches).toBeGreaterThan(0);
    expect(sp.dropped.samples).toBe(sp.dropped.batches);
    const left = sp.unackedAfter(-1, 100).map((r) => r.seq);
    expect(left.at(-1)).toBe(19);
    expect(left[0]).toBe(sp.dropped.batches);
    expect(sp.bytes).toBeLessThanOrEqual(Math.floor(segBytes * 2.5));
    sp.close();
    expect(new Spool(opts({ maxBytes: Math.floor(segBytes * 2.5) })).dropped.batches).toBe(sp.dropped.batches);
  });

  it('skips a line cut short by a crash and keeps the rest', () => {
    const a = new Spool(opts());
    put(a, 3);
    a.close();
    appendFileSync(join(tmp.dir, segments()[0]), '{"seq":3,"producedAt":1,"samp');
    const b = new Spool(opts());
    expect(b.unackedAfter(-1, 100).map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(b.corruptLines).toBe(1);
    b.close();
  });
});

describe('spool in memory', () => {
  it('is bounded by batch count and counts what it drops', () => {
    const sp = new Spool(opts({ dir: null, maxBatches: 7, segmentBatches: 1000 }));
    put(sp, 10);
    expect(sp.pendingBatches).toBe(7);
    expect(sp.dropped).toEqual({ batches: 3, samples: 3 });
    expect(sp.unackedAfter(-1, 100).map((r) => r.seq)).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('spool reopened with a backlog', () => {
  it('hands out old and new batches alike after new ones are appended', () => {
    const a = new Spool(opts());
    put(a, 3);
    a.close();
    const b = new Spool(opts());
    expect(b.unackedAfter(-1, 100).map((r) => r.seq)).toEqual([0, 1, 2]);
    put(b, 2);
    expect(b.unackedAfter(-1, 100).map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    for (const s of [0, 1, 2, 3]) b.ack(s);
    expect(b.unackedAfter(-1, 100).map((r) => r.seq)).toEqual([4]);
    b.close();
  });
});
