/**
 * The PostgreSQL store's pure parts: day partition names and days, host:port in connection
 * errors, schema names it accepts, and chunks cut at UTC midnight and at the size limit.
 */
import { describe, expect, it } from 'vitest';
import { dayOf, dayOfPartition, partitionName, DAY_MS } from '../../server/store/pg/partitions.ts';
import { checkSchemaName, serverOf } from '../../server/store/pg/pg-connection.ts';
import { foldChip, MAX_CHUNK_SAMPLES, splitIntoChunks } from '../../server/store/pg/chip-fold.ts';
import { decodeChunk, encodeChunk } from '../../server/store/chunk-codec.ts';
import { sample } from '../helpers/frames.ts';

const T0 = Date.UTC(2026, 10, 26, 10);

describe('PostgreSQL store parts', () => {
  it('names day partitions by UTC day and reads the day back', () => {
    expect(partitionName('sample_log', dayOf(T0))).toBe('sample_log_d20261126');
    expect(dayOfPartition('sample_chunks_d20261126')).toBe(Date.UTC(2026, 10, 26));
    expect(dayOfPartition('sample_chunks')).toBeNull();
    expect(dayOf(Date.UTC(2026, 10, 26, 23, 59, 59, 999))).toBe(Date.UTC(2026, 10, 26));
  });

  it('says which server did not answer, and accepts only plain schema names', () => {
    expect(serverOf('postgres://u:secret@db.example:6543/x')).toBe('db.example:6543');
    expect(serverOf('postgresql://u@127.0.0.1/x')).toBe('127.0.0.1:5432');
    expect(checkSchemaName('fs_test_1_abc')).toBe('fs_test_1_abc');
    expect(() => checkSchemaName('x; drop table y')).toThrow(/plain lower-case identifier/);
  });

  it('cuts chunks at UTC midnight and every MAX_CHUNK_SAMPLES, losslessly', () => {
    const midnight = dayOf(T0) + DAY_MS;
    const samples = Array.from({ length: MAX_CHUNK_SAMPLES + 20 }, (_, i) => sample('c', midnight - 10_000 + i * 1000));
    const chunks = splitIntoChunks(samples);
    expect(chunks.map((c) => [c.startTs - midnight, c.n])).toEqual([[-10_000, 10], [0, MAX_CHUNK_SAMPLES], [MAX_CHUNK_SAMPLES * 1000, 10]]);
    expect(chunks.flatMap((c) => decodeChunk(c.data, 'c'))).toEqual(samples);
  });

  it('folds only samples at new timestamps, pairing energy with the stored readings around them', () => {
    const stored = [sample('c', T0, { energyJ: 100 }), sample('c', T0 + 2000, { energyJ: 300 })];
    const chunk = { startTs: T0, endTs: T0 + 2000, n: 2, data: encodeChunk(stored) };
    const fresh = [sample('c', T0, { energyJ: 999 }), sample('c', T0 + 1000, { energyJ: 150 })];
    const f = foldChip('c', fresh, { overlapping: [chunk] });
    expect(f.added.map((s) => s.ts)).toEqual([T0 + 1000]);
    // The stored pair (100 -> 300) is split in two: -200 J at T0+2s, +50 J at T0+1s, +150 J at T0+2s.
    expect(f.energy).toEqual([{ ts: T0 + 2000, joules: -200, pairs: -1 }, { ts: T0 + 1000, joules: 50, pairs: 1 }, { ts: T0 + 2000, joules: 150, pairs: 1 }]);
    expect(f.remove).toEqual([T0]);
    expect(f.write.flatMap((c) => decodeChunk(c.data, 'c')).map((s) => s.energyJ)).toEqual([100, 150, 300]);
  });
});
