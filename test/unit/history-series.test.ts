import { describe, expect, it } from 'vitest';
import type { Sample } from '../../schema/sample.ts';
import { groupChips, groupFleetKeys, narrowsBelowModel, selectChips, type ChipRef, type GroupBy } from '../../server/history/chip-selection.ts';
import { assembleSeries, roundValue, SeriesBuilder, stepStarts } from '../../server/history/series-assembly.ts';
import { columnHeader, csvCell, seriesCsv } from '../../server/history/series-csv.ts';
import { AGGS, fieldValue } from '../../server/history/step-buckets.ts';
import { createPrng } from '../../agents/sources/prng.ts';
import { decodeRollupColumns, decodeRollupRow, encodeRollupRow } from '../../server/rollups/rollup-codec.ts';
import { RowColumns } from '../../server/rollups/rollup-columns.ts';
import { bucketStart, ROLLUP_FIELDS } from '../../server/rollups/rollup-fields.ts';
import { bucketize } from '../../server/rollups/bucketize.ts';
import { aggregate, emptyBucket, mergeBucket, type RollupBucket } from '../../server/rollups/rollup-bucket.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 15, 12);

function sample(chipId: string, ts: number, v: Partial<Sample>): Sample {
  return { ts, chipId, utilPct: null, memUtilPct: null, memUsedBytes: null, memTotalBytes: null, powerW: null, powerLimitW: null, tempC: null, energyJ: null, ...v };
}

const CHIPS: ChipRef[] = [
  { chipId: 'a0', host: 'h1', vendor: 'nvidia', model: 'H100' },
  { chipId: 'a1', host: 'h1', vendor: 'nvidia', model: 'H100' },
  { chipId: 'b0', host: 'h2', vendor: 'nvidia', model: 'H200' },
  { chipId: 'n0', host: 'h2', vendor: 'aws', model: 'Trainium2' },
];

describe('selectChips', () => {
  const cases: [string, Parameters<typeof selectChips>[1], string[]][] = [
    ['no selector: all', {}, ['a0', 'a1', 'b0', 'n0']],
    ['chip ids', { chip: ['b0', 'a0'] }, ['a0', 'b0']],
    ['vendor', { vendor: ['aws'] }, ['n0']],
    ['models: any of them', { model: ['H100', 'H200'] }, ['a0', 'a1', 'b0']],
    ['host and vendor: both', { host: ['h2'], vendor: ['nvidia'] }, ['b0']],
    ['no match: empty', { model: ['B200'] }, []],
  ];
  it.each(cases)('%s', (_name, sel, ids) => expect(selectChips(CHIPS, sel).map((c) => c.chipId)).toEqual(ids));

  it('answers 400 naming unknown chip ids', () => {
    expect(() => selectChips(CHIPS, { chip: ['a0', 'zz', 'yy'] })).toThrow(expect.objectContaining({ name: 'InvalidQueryError', message: 'chip: unknown chip "zz", "yy"; GET /api/v1/chips lists the chips' }));
  });

  it('knows when fleet rollups cannot answer', () => {
    expect(narrowsBelowModel({})).toBe(false);
    expect(narrowsBelowModel({ vendor: ['aws'], model: ['H100'] })).toBe(false);
    expect(narrowsBelowModel({ host: ['h1'] })).toBe(true);
    expect(narrowsBelowModel({ chip: ['a0'] })).toBe(true);
  });
});

describe('groupChips / groupFleetKeys', () => {
  const cases: [GroupBy, [string, string[]][]][] = [
    ['none', [['a0', ['a0']], ['a1', ['a1']], ['b0', ['b0']], ['n0', ['n0']]]],
    ['host', [['h1', ['a0', 'a1']], ['h2', ['b0', 'n0']]]],
    ['model', [['H100', ['a0', 'a1']], ['H200', ['b0']], ['Trainium2', ['n0']]]],
    ['vendor', [['aws', ['n0']], ['nvidia', ['a0', 'a1', 'b0']]]],
    ['fleet', [['fleet', ['a0', 'a1', 'b0', 'n0']]]],
  ];
  it.each(cases)('groupBy %s', (groupBy, expected) => expect(groupChips(CHIPS, groupBy).map((g) => [g.label, g.keys])).toEqual(expected));

  it('tags each group with what its chips share', () => {
    expect(groupChips(CHIPS, 'none')[0].tags).toEqual({ chipId: 'a0', host: 'h1', model: 'H100', vendor: 'nvidia' });
    expect(groupChips(CHIPS, 'model')[0].tags).toEqual({ model: 'H100', vendor: 'nvidia' });
    expect(groupChips(CHIPS, 'host')[1].tags).toEqual({ host: 'h2' });
    expect(groupChips(CHIPS, 'fleet')[0].tags).toEqual({});
  });

  it('uses one fleet key per vendor/model pair', () => {
    expect(groupFleetKeys(CHIPS, 'vendor').map((g) => [g.label, g.keys])).toEqual([
      ['aws', ['@aws/Trainium2']],
      ['nvidia', ['@nvidia/H100', '@nvidia/H200']],
    ]);
    expect(groupFleetKeys(CHIPS, 'fleet')[0].keys).toEqual(['@aws/Trainium2', '@nvidia/H100', '@nvidia/H200']);
    expect(groupFleetKeys(CHIPS, 'model').map((g) => g.keys)).toEqual([['@nvidia/H100'], ['@nvidia/H200'], ['@aws/Trainium2']]);
  });
});

/** 1-minute buckets of chip a0: util = minute index, power 100, energy +600 J per 30 s sample. */
function minuteBuckets(chipId: string, minutes: number, utilOf: (m: number) => number, offsetMs = 0): RollupBucket[] {
  const samples: Sample[] = [];
  for (let i = 0; i < minutes * 2; i++) {
    const m = Math.floor(i / 2);
    samples.push(sample(chipId, T0 + offsetMs + i * 30_000, { utilPct: utilOf(m), powerW: 100 + (i % 2) * 100, energyJ: 1000 + i * 600 }));
  }
  return bucketize(samples, MIN);
}

describe('steps / fieldValue / groups', () => {
  it('folds 1m buckets into 5m steps aligned to multiples of 5m since epoch', () => {
    const one = minuteBuckets('a0', 12, (m) => m, 2 * MIN);
    const data = (agg: (typeof AGGS)[number]) =>
      assembleSeries({ from: T0, to: T0 + 14 * MIN, stepMs: 5 * MIN, fields: ['utilPct', 'energyJ'], agg, groups: [{ label: 'a0', tags: {}, keys: ['a0'] }], buckets: new Map([['a0', one]]) }).data;
    expect(data('avg')[0]).toEqual([T0, T0 + 5 * MIN, T0 + 10 * MIN]);
    // minutes 2..4 | 5..9 | 10..13 (util = minute index since the data began, +2 for the offset)
    expect(data('avg')[1]).toEqual([1, 5, 9.5]);
    expect(data('min')[1]).toEqual([0, 3, 8]);
    expect(data('max')[1]).toEqual([2, 7, 11]);
    expect(data('last')[1]).toEqual([2, 7, 11]);
    expect(data('avg')[2]).toEqual([5 * 600, 10 * 600, 8 * 600]);
    expect(one[0].n).toBe(2);
  });

  it('fieldValue: null without data, energy null without pairs', () => {
    expect(fieldValue(undefined, 'utilPct', 'avg')).toBeNull();
    const [b] = bucketize([sample('a0', T0, { utilPct: 5, energyJ: 10 })], MIN);
    expect(fieldValue(b, 'energyJ', 'avg')).toBeNull();
    expect(fieldValue(b, 'tempC', 'max')).toBeNull();
    expect(fieldValue(b, 'utilPct', 'last')).toBe(5);
  });

  it('a group of keys: sample-weighted mean, min of mins, max of maxes, last of the latest sample, energy summed', () => {
    const byKey = new Map([
      ['a0', bucketize([sample('a0', T0, { utilPct: 10, energyJ: 0 }), sample('a0', T0 + 20_000, { utilPct: 20, energyJ: 50 })], MIN)],
      ['a1', bucketize([sample('a1', T0 + 10_000, { utilPct: 90, energyJ: 0 }), sample('a1', T0 + 30_000, { utilPct: 60, energyJ: 0 }), sample('a1', T0 + 40_000, { utilPct: 30, energyJ: 25 })], MIN)],
    ]);
    const groups = [{ label: 'g', tags: {}, keys: ['a0', 'a1'] }];
    const value = (field: 'utilPct' | 'energyJ', agg: (typeof AGGS)[number]) => assembleSeries({ from: T0, to: T0, stepMs: MIN, fields: [field], agg, groups, buckets: byKey }).data[1][0];
    expect(value('utilPct', 'avg')).toBe(42);
    expect(value('utilPct', 'min')).toBe(10);
    expect(value('utilPct', 'max')).toBe(90);
    expect(value('utilPct', 'last')).toBe(30);
    expect(value('energyJ', 'avg')).toBe(75);
    // Inputs untouched.
    expect(byKey.get('a0')![0].n).toBe(2);
  });
});

describe('SeriesBuilder: stored rows column-wise, equal to merging bucket objects', () => {
  // Three keys, 3 hours of 1-minute buckets as stored rows (gaps, missing fields, energy without
  // pairs, equal lastTs across keys), read back with decodeRollupColumns.
  const rng = createPrng(42);
  const rows = new Map<string, { rowStart: number; data: Buffer }[]>();
  const decoded = new Map<string, RollupBucket[]>();
  for (const key of ['k0', 'k1', 'k2']) {
    for (let h = 0; h < 3; h++) {
      const rowStart = T0 + h * 60 * MIN;
      const buckets: RollupBucket[] = [];
      for (let m = 0; m < 60; m++) {
        if (rng.next() < 0.2) continue;
        const b = emptyBucket(rowStart + m * MIN);
        b.n = rng.int(1, 60);
        ROLLUP_FIELDS.forEach((_, i) => {
          if (rng.next() < 0.25) return;
          const cnt = rng.int(1, b.n);
          const min = rng.int(0, 50);
          const max = min + rng.int(0, 50);
          b.f[i] = { cnt, sum: cnt * (min + max) / 2 + rng.int(0, 9) / 100, min, max, last: rng.int(min, max), lastTs: b.start + 1000 * rng.int(0, 2) };
        });
        if (rng.next() < 0.8) [b.energyJ, b.energyPairs] = [rng.int(0, 40_000) / 10, rng.int(1, 60)];
        buckets.push(b);
      }
      const data = encodeRollupRow(rowStart, MIN, buckets);
      rows.set(key, [...(rows.get(key) ?? []), { rowStart, data }]);
      decoded.set(key, [...(decoded.get(key) ?? []), ...decodeRollupRow(data, rowStart, MIN)]);
    }
  }
  const fields = ['utilPct', 'powerW', 'tempC', 'energyJ'] as const;
  const only = new Set(fields.filter((f) => f !== 'energyJ').map((f) => ROLLUP_FIELDS.indexOf(f)));
  const groupings = {
    'one key each': ['k0', 'k1', 'k2'].map((k) => ({ label: k, tags: {}, keys: [k] })),
    'groups of keys': [{ label: 'all', tags: {}, keys: ['k2', 'k0', 'k1'] }, { label: 'two', tags: {}, keys: ['k1', 'k0'] }],
  };
  const cases = Object.entries(groupings).flatMap(([name, groups]) => [MIN, 5 * MIN, 60 * MIN].flatMap((stepMs) => AGGS.map((agg) => [name, stepMs / MIN, agg, groups, stepMs] as const)));

  it.each(cases)('%s, %i-minute step, %s', (_name, _minutes, agg, groups, stepMs) => {
    const from = T0 + 7 * MIN;
    const to = T0 + 170 * MIN;
    const builder = new SeriesBuilder({ from, to, stepMs, fields, agg, groups });
    const cols = new RowColumns();
    for (const key of builder.keys()) for (const r of rows.get(key)!) builder.add(key, decodeRollupColumns(r.data, r.rowStart, MIN, cols, only, true));
    // Reference: for each point, the group's buckets in it merged with mergeBucket, key by key.
    const xs = stepStarts(from, to, stepMs);
    const want = [xs, ...groups.flatMap((g) => fields.map((field) => xs.map((x) => {
      const acc = emptyBucket(x);
      for (const key of g.keys) for (const b of decoded.get(key)!) if (bucketStart(b.start, stepMs) === x) mergeBucket(acc, b);
      return roundValue(field === 'energyJ' ? (acc.energyPairs > 0 ? acc.energyJ : null) : aggregate(acc, field, agg));
    })))];
    const got = builder.columns();
    expect(got.series.map((s) => `${s.label}/${s.field}`)).toEqual(groups.flatMap((g) => fields.map((f) => `${g.label}/${f}`)));
    expect(got.data).toEqual(want);
  });
});

describe('assembleSeries: columnar shape', () => {
  const buckets = new Map([
    ['a0', minuteBuckets('a0', 3, () => 40)],
    ['a1', minuteBuckets('a1', 2, () => 80)],
  ]);
  const groups = groupChips(CHIPS.slice(0, 2), 'none');

  it('one x column of bucket starts, one column per (series, field), nulls where a bucket is empty', () => {
    const out = assembleSeries({ from: T0 + 30_000, to: T0 + 6 * MIN - 1, stepMs: 2 * MIN, fields: ['utilPct', 'powerW'], agg: 'avg', groups, buckets });
    expect(out.series).toEqual([
      { label: 'a0', chipId: 'a0', host: 'h1', model: 'H100', vendor: 'nvidia', field: 'utilPct' },
      { label: 'a0', chipId: 'a0', host: 'h1', model: 'H100', vendor: 'nvidia', field: 'powerW' },
      { label: 'a1', chipId: 'a1', host: 'h1', model: 'H100', vendor: 'nvidia', field: 'utilPct' },
      { label: 'a1', chipId: 'a1', host: 'h1', model: 'H100', vendor: 'nvidia', field: 'powerW' },
    ]);
    expect(out.data).toEqual([
      [T0, T0 + 2 * MIN, T0 + 4 * MIN],
      [40, 40, null],
      [150, 150, null],
      [80, null, null],
      [150, null, null],
    ]);
  });

  it('merges a group into one column', () => {
    const out = assembleSeries({ from: T0, to: T0 + 2 * MIN, stepMs: 2 * MIN, fields: ['utilPct', 'energyJ'], agg: 'avg', groups: groupChips(CHIPS.slice(0, 2), 'host'), buckets });
    expect(out.series).toEqual([
      { label: 'h1', host: 'h1', field: 'utilPct' },
      { label: 'h1', host: 'h1', field: 'energyJ' },
    ]);
    // First 2 minutes: 4 samples of each chip; energy: 3 pairs each.
    expect(out.data).toEqual([[T0, T0 + 2 * MIN], [60, 40], [3 * 600 * 2, 2 * 600]]);
  });

  it('an empty selection gives just the x column', () => {
    expect(assembleSeries({ from: T0, to: T0 + MIN, stepMs: MIN, fields: ['utilPct'], agg: 'avg', groups: [], buckets })).toEqual({ series: [], data: [[T0, T0 + MIN]] });
  });

  it('stepStarts: from the bucket holding from to the one holding to', () => {
    expect(stepStarts(T0 + 1, T0 + 2 * MIN, MIN)).toEqual([T0, T0 + MIN, T0 + 2 * MIN]);
    expect(stepStarts(T0, T0, MIN)).toEqual([T0]);
  });
});

describe('seriesCsv', () => {
  it('header ts,<label>/<field>…, ISO time column, empty cells for nulls, CRLF', () => {
    const csv = seriesCsv({
      series: [
        { label: 'a0', field: 'utilPct' },
        { label: 'a0', field: 'energyJ' },
      ],
      data: [[T0, T0 + MIN], [12.5, null], [null, 3000]],
    });
    expect(csv).toBe('ts,a0/utilPct,a0/energyJ\r\n2026-01-15T12:00:00.000Z,12.5,\r\n2026-01-15T12:01:00.000Z,,3000\r\n');
  });

  it('quotes labels holding commas, quotes or line breaks', () => {
    const csv = seriesCsv({ series: [{ label: 'rack 1, "east"', field: 'powerW' }, { label: 'a\nb', field: 'powerW' }], data: [[T0], [1], [2]] });
    expect(csv.split('\r\n')[0]).toBe('ts,"rack 1, ""east""/powerW","a\nb/powerW"');
  });

  const cells: [string, string][] = [
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['cr\r', '"cr\r"'],
    ['', ''],
  ];
  it.each(cells)('csvCell(%j) = %j', (text, out) => expect(csvCell(text)).toBe(out));

  it('no data: just the header', () => {
    expect(seriesCsv({ series: [], data: [[]] })).toBe('ts\r\n');
    expect(columnHeader({ label: 'H100', field: 'tempC' })).toBe('H100/tempC');
  });
});
