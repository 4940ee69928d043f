import { describe, expect, it } from 'vitest';
import type { Sample } from '../../schema/sample.ts';
import { encodeSampleRecord } from '../../server/store/sample-records.ts';
import { loggedSamples } from '../../server/store/log-rows.ts';
import { LoggedRowsByChip } from '../../server/store/writer/logged-rows-by-chip.ts';

const sample = (chipId: string, ts: number, extra: Partial<Sample> = {}): Sample =>
  ({ chipId, ts, utilPct: ts % 100, memUtilPct: null, memUsedBytes: 1e9, memTotalBytes: 8e10, powerW: 300.5, powerLimitW: 700, tempC: 55, energyJ: ts * 2, ...extra }) as Sample;

/** What a fold must see per chip: every logged sample of the chip, in log order. */
function expected(rows: (Uint8Array | string)[]): Map<string, Sample[]> {
  const m = new Map<string, Sample[]>();
  for (const r of rows) for (const s of loggedSamples(r)) m.set(s.chipId, [...(m.get(s.chipId) ?? []), s]);
  return m;
}

function grouped(rows: (Uint8Array | string)[]): Map<string, Sample[]> {
  const by = new LoggedRowsByChip();
  for (const r of rows) by.addLogRow(r);
  const m = new Map<string, Sample[]>();
  by.forEachChip((chipId, samples) => m.set(chipId, samples));
  expect(by.chipIds().sort()).toEqual([...m.keys()].sort());
  return m;
}

const records = (...batches: Sample[][]) => Buffer.concat(batches.map((b) => encodeSampleRecord(b)));

describe('LoggedRowsByChip', () => {
  it.each<[string, (Uint8Array | string)[]]>([
    ['no rows', []],
    ['an empty row', [new Uint8Array(0)]],
    ['one record, one chip', [records([sample('A', 1000), sample('A', 2000)])]],
    ['chips interleaved within a record', [records([sample('A', 1000), sample('B', 1000), sample('A', 2000), sample('C', 5)])]],
    ['several records back to back in one row', [records([sample('A', 1000)], [sample('B', 1000), sample('A', 3000)], [sample('A', 2000)])]],
    ['several rows, chips coming and going', [records([sample('A', 1)]), records([sample('B', 2)]), records([sample('A', 3), sample('B', 4)])]],
    ['flags, nulls, absent optional fields and extras kept', [records([sample('A', 1, { flags: { backfill: true }, smClockMhz: null, extras: { k: 2 } }), sample('A', 2, { tempC: null })])]],
    ['a JSON row of an earlier version', [JSON.stringify([{ b: 0, f: { samples: [sample('A', 1), sample('B', 1)] } }, { b: 1, f: { samples: [sample('A', 2)] } }])]],
  ])('%s: each chip gets exactly its logged samples, in log order', (_, rows) => {
    expect(grouped(rows)).toEqual(expected(rows));
  });

  it('a JSON row beside record rows: the chip gets both', () => {
    const rows = [JSON.stringify([{ b: 0, f: { samples: [sample('A', 1)] } }]), records([sample('A', 2), sample('B', 2)])];
    const m = grouped(rows);
    expect(m.get('A')!.map((s) => s.ts)).toEqual([1, 2]);
    expect(m.get('B')!.map((s) => s.ts)).toEqual([2]);
  });
});
