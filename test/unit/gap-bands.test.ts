import { describe, expect, it } from 'vitest';
import { filledTimes, gapBands, medianSpacing } from '../../client/src/gap-bands.ts';

describe('gaps on the time axis', () => {
  it.each<[number[], number | null]>([
    [[], null],
    [[5], null],
    [[5, 5], null],
    [[0, 1, 2, 3], 1],
    [[0, 1, 2, 30, 31, 32], 1],
    [[0, 2, 4, 5], 2],
  ])('median spacing of %j is %s', (ts, m) => expect(medianSpacing(ts)).toBe(m));

  it.each<[string, number[], number | null | undefined, { from: number; to: number }[]]>([
    ['none in an even run', [0, 1, 2, 3, 4], undefined, []],
    ['exactly 3 intervals is no gap', [0, 1, 2, 5, 6], undefined, []],
    ['more than 3 intervals is one', [0, 1, 2, 5.5, 6.5], undefined, [{ from: 2, to: 5.5 }]],
    ['two gaps', [0, 1, 2, 20, 21, 22, 40, 41, 42], undefined, [{ from: 2, to: 20 }, { from: 22, to: 40 }]],
    ['the interval given', [0, 10, 20], 2, [{ from: 0, to: 10 }, { from: 10, to: 20 }]],
    ['no interval: none', [0, 100], null, []],
    ['one sample: none', [7], undefined, []],
  ])('%s', (_name, ts, interval, bands) => expect(interval === undefined ? gapBands(ts) : gapBands(ts, interval)).toEqual(bands));

  it('takes the buckets holding data', () => {
    expect(filledTimes([1, 2, 3, 4], [5, null, undefined, 0])).toEqual([1, 4]);
    expect(gapBands(filledTimes([0, 30, 60, 90, 120, 150, 180], [1, 1, null, null, null, null, 1]), 30)).toEqual([{ from: 30, to: 180 }]);
  });
});
