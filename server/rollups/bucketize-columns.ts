/**
 * bucketize (bucketize.ts) straight into columns: the same buckets, without an object per bucket
 * and field (a 6-hour series at 1 s is 21,600 buckets per chip, 11 objects each). For the raw tier
 * of /series, whose SeriesBuilder takes columns. Pure: no I/O.
 */
import type { Sample } from '../../schema/sample.ts';
import { energyIncrement, type EnergyReading } from './energy-pairs.ts';
import type { RowColumns } from './rollup-columns.ts';
import { bucketStart, ROLLUP_FIELDS } from './rollup-fields.ts';

/**
 * Buckets of `stepMs` over one chip's samples (ascending ts, unique) into `into`: the fields whose
 * ROLLUP_FIELDS index is in `only` (all when absent), energy when `energy`. `before`: the chip's
 * energy reading just before the first sample, if known. Returns the last energy reading seen
 * (else `before`), to carry into the next slice of the same chip.
 */
export function bucketizeInto(
  samples: readonly Sample[],
  stepMs: number,
  before: EnergyReading | undefined,
  into: RowColumns,
  only?: ReadonlySet<number>,
  energy = true,
): EnergyReading | undefined {
  into.prepare(samples.length, only, energy);
  const fields = into.fields;
  const nf = ROLLUP_FIELDS.length;
  let j = -1;
  let cur = NaN;
  let prev = before;
  for (let k = 0; k < samples.length; k++) {
    const s = samples[k];
    const ts = s.ts;
    const start = bucketStart(ts, stepMs);
    if (start !== cur) {
      j++;
      cur = start;
      into.start[j] = start;
      into.n[j] = 0;
      into.energyJ[j] = 0;
      into.energyPairs[j] = 0;
      for (let i = 0; i < nf; i++) {
        const f = fields[i];
        if (f) f.cnt[j] = 0;
      }
    }
    into.n[j]++;
    for (let i = 0; i < nf; i++) {
      const f = fields[i];
      if (!f) continue;
      const v = s[ROLLUP_FIELDS[i]];
      if (v === null || v === undefined) continue;
      if (f.cnt[j] === 0) {
        f.cnt[j] = 1;
        f.sum[j] = v;
        f.min[j] = v;
        f.max[j] = v;
        f.last[j] = v;
        f.lastTs[j] = ts;
      } else {
        f.cnt[j]++;
        f.sum[j] += v;
        if (v < f.min[j]) f.min[j] = v;
        if (v > f.max[j]) f.max[j] = v;
        if (ts >= f.lastTs[j]) {
          f.last[j] = v;
          f.lastTs[j] = ts;
        }
      }
    }
    const e = s.energyJ;
    if (energy && e !== null && e !== undefined) {
      const r = { ts, e };
      if (prev) {
        const inc = energyIncrement(prev, r);
        if (inc !== null) {
          into.energyJ[j] += inc;
          into.energyPairs[j] += 1;
        }
      }
      prev = r;
    }
  }
  into.k = j + 1;
  return prev;
}
