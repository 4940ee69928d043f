import { describe, expect, it } from 'vitest';
import type { Sample } from '../../schema/sample.ts';
import type { ChipRef } from '../../server/history/chip-selection.ts';
import { energyReport, type EnergyInput } from '../../server/history/energy-report.ts';
import { NO_PRICES } from '../../server/history/prices.ts';
import { topChips } from '../../server/history/top-chips.ts';
import { summarize } from '../../server/history/range-summary.ts';
import { bucketize } from '../../server/rollups/bucketize.ts';
import type { RollupBucket } from '../../server/rollups/rollup-bucket.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 0, 15, 12);
const KWH = 3_600_000;

const CHIPS: ChipRef[] = [
  { chipId: 'a0', host: 'h1', vendor: 'nvidia', model: 'H100' },
  { chipId: 'a1', host: 'h1', vendor: 'nvidia', model: 'H100' },
  { chipId: 'n0', host: 'h2', vendor: 'aws', model: 'Trainium2' },
  { chipId: 'idle', host: 'h2', vendor: 'aws', model: 'Trainium2' },
];

/** One sample per minute for `minutes` minutes from `start`; energy counter + joulesPerMin each minute. */
function chip(chipId: string, start: number, minutes: number, util: number, power: number, joulesPerMin: number | null, bucketMs = HOUR): RollupBucket[] {
  const samples: Sample[] = [];
  for (let i = 0; i < minutes; i++) {
    samples.push({ ts: start + i * MIN, chipId, utilPct: util, memUtilPct: null, memUsedBytes: null, memTotalBytes: null, powerW: power, powerLimitW: null, tempC: null, energyJ: joulesPerMin === null ? null : i * joulesPerMin });
  }
  return bucketize(samples, bucketMs);
}

// Two hours [T0, T0 + 2h): a0 all of it, a1 only the first hour, n0 90 minutes without energy data, idle nothing.
const BUCKETS = new Map([
  ['a0', chip('a0', T0, 120, 50, 400, 24_000)],
  ['a1', chip('a1', T0, 60, 100, 600, 36_000)],
  ['n0', chip('n0', T0, 90, 20, 100, null)],
]);
/** The report's input over buckets: each chip's buckets summarized over [from, to). */
type Over = Partial<Omit<EnergyInput, 'summaries'>> & { buckets?: Map<string, RollupBucket[]>; bucketMs?: number; from?: number; to?: number };
function input({ buckets = BUCKETS, bucketMs = HOUR, from = T0, to = T0 + 2 * HOUR, ...rest }: Over = {}): EnergyInput {
  return { chips: CHIPS, groupBy: 'chip', prices: NO_PRICES, ...rest, summaries: summarize(buckets, bucketMs, from, to, () => MIN) };
}
const base = input();

describe('energyReport', () => {
  it('per chip: kWh from energy pairs, sample-weighted averages, chip-hours measured (samples × interval, not the buckets touched)', () => {
    const { rows } = energyReport(base);
    expect(rows.map((r) => [r.label, r.energyKWh, r.avgPowerW, r.avgUtilPct, r.chipHours])).toEqual([
      ['a0', (119 * 24_000) / KWH, 400, 50, 2],
      ['a1', (59 * 36_000) / KWH, 600, 100, 1],
      ['idle', null, null, null, 0],
      ['n0', null, 100, 20, 1.5],
    ]);
    expect(rows[0]).toMatchObject({ chipId: 'a0', host: 'h1', model: 'H100', vendor: 'nvidia', chips: 1, energyCost: null, chipHourCost: null, cost: null, costPerUtilizedChipHour: null });
  });

  const priced = { kwh: 0.2, chipHour: { h100: 3 } };
  const cases: [string, Over, [string, number, number | null, number | null, number | null, number | null][]][] = [
    // label, chipHours, energyCost, chipHourCost, cost, costPerUtilizedChipHour
    [
      'by chip with prices (Trainium2 has no chip-hour price; idle has no data)',
      { prices: priced },
      [
        ['a0', 2, ((119 * 24_000) / KWH) * 0.2, 6, ((119 * 24_000) / KWH) * 0.2 + 6, (((119 * 24_000) / KWH) * 0.2 + 6) / (2 * 0.5)],
        ['a1', 1, ((59 * 36_000) / KWH) * 0.2, 3, ((59 * 36_000) / KWH) * 0.2 + 3, ((59 * 36_000) / KWH) * 0.2 + 3],
        ['idle', 0, null, 0, null, null],
        ['n0', 1.5, null, null, null, null],
      ],
    ],
    [
      'by host',
      { prices: priced, groupBy: 'host' },
      [
        ['h1', 3, ((119 * 24_000 + 59 * 36_000) / KWH) * 0.2, 9, ((119 * 24_000 + 59 * 36_000) / KWH) * 0.2 + 9, (((119 * 24_000 + 59 * 36_000) / KWH) * 0.2 + 9) / ((3 * (120 * 50 + 60 * 100)) / 180 / 100)],
        ['h2', 1.5, null, null, null, null],
      ],
    ],
    ['by vendor, no prices', { groupBy: 'vendor' }, [['aws', 1.5, null, null, null, null], ['nvidia', 3, null, null, null, null]]],
    // a0's hour holds 60 one-minute samples: a full hour of reporting, of which the range holds 15 minutes.
    ['clipped to a range narrower than the buckets (raw tier)', { bucketMs: HOUR, from: T0 + 30 * MIN, to: T0 + 45 * MIN, chips: CHIPS.slice(0, 1) }, [['a0', 0.25, null, null, null, null]]],
  ];
  it.each(cases)('%s', (_name, over, expected) => {
    const { rows } = energyReport(input(over));
    expect(rows.map((r) => r.label)).toEqual(expected.map((e) => e[0]));
    rows.forEach((r, i) => {
      const [, chipHours, energyCost, chipHourCost, cost, perUtil] = expected[i];
      expect(r.chipHours).toBeCloseTo(chipHours, 12);
      for (const [got, want] of [[r.energyCost, energyCost], [r.chipHourCost, chipHourCost], [r.cost, cost], [r.costPerUtilizedChipHour, perUtil]] as const) {
        if (want === null) expect(got).toBeNull();
        else expect(got).toBeCloseTo(want, 12);
      }
    });
  });

  it('totals: sums and sample-weighted means over every chip; a missing price makes the total cost null', () => {
    const { totals } = energyReport(input({ prices: priced }));
    expect(totals).toMatchObject({ chips: 4, chipHours: 4.5, chipHourCost: null, cost: null, costPerUtilizedChipHour: null });
    expect(totals.energyKWh).toBeCloseTo((119 * 24_000 + 59 * 36_000) / KWH, 12);
    expect(totals.avgPowerW).toBeCloseTo((120 * 400 + 60 * 600 + 90 * 100) / 270, 12);
    expect(totals.avgUtilPct).toBeCloseTo((120 * 50 + 60 * 100 + 90 * 20) / 270, 12);
    const h100 = energyReport(input({ chips: CHIPS.slice(0, 2), prices: priced })).totals;
    expect(h100.cost).toBeCloseTo(((119 * 24_000 + 59 * 36_000) / KWH) * 0.2 + 9, 12);
  });
});

describe('topChips', () => {
  const input = { chips: CHIPS, summaries: summarize(BUCKETS, HOUR, T0, T0 + 2 * HOUR, () => MIN), field: 'powerW' as const, agg: 'avg' as const, k: 10, order: 'desc' as const };
  const cases: [string, Partial<Parameters<typeof topChips>[0]>, [string, number][]][] = [
    ['highest average power; chips without data left out', {}, [['a1', 600], ['a0', 400], ['n0', 100]]],
    ['lowest first', { order: 'asc' }, [['n0', 100], ['a0', 400], ['a1', 600]]],
    ['k', { k: 2 }, [['a1', 600], ['a0', 400]]],
    ['energy used', { field: 'energyJ' }, [['a0', 119 * 24_000], ['a1', 59 * 36_000]]],
    ['max utilization, ties by chip id', { field: 'utilPct', agg: 'max', chips: [...CHIPS, { chipId: 'a2', host: 'h1', vendor: 'nvidia', model: 'H100' }], summaries: summarize(new Map([...BUCKETS, ['a2', chip('a2', T0, 5, 100, 1, null)]]), HOUR, T0, T0 + 2 * HOUR, () => MIN) }, [['a1', 100], ['a2', 100], ['a0', 50], ['n0', 20]]],
  ];
  it.each(cases)('%s', (_name, over, expected) => {
    const out = topChips({ ...input, ...over });
    expect(out.map((e) => [e.chipId, e.value])).toEqual(expected);
  });

  it('returns what identifies each chip', () => {
    expect(topChips({ ...input, k: 1 })).toEqual([{ chipId: 'a1', host: 'h1', model: 'H100', vendor: 'nvidia', value: 600 }]);
  });
});
