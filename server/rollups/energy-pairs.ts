/**
 * Energy as a delta: the joules a chip used in a bucket are the increments between consecutive
 * readings of its monotonic energyJ counter, each counted in the bucket of the later reading.
 * A decrease is a counter reset (the new value counts from zero, as Prometheus' increase() does);
 * readings more than MAX_ENERGY_GAP_MS apart are not paired. Pure: no I/O.
 */
import type { Sample } from '../../schema/sample.ts';
import { MAX_ENERGY_GAP_MS } from './rollup-fields.ts';

export interface EnergyReading {
  ts: number;
  e: number;
}

/** An energy change to apply to the bucket holding `ts`: `pairs` is +1 for an added pair, -1 for a removed one. */
export interface EnergyChange {
  ts: number;
  joules: number;
  pairs: number;
}

export function energyIncrement(prev: EnergyReading, cur: EnergyReading): number | null {
  if (cur.ts - prev.ts > MAX_ENERGY_GAP_MS) return null;
  const d = cur.e - prev.e;
  return d >= 0 ? d : cur.e;
}

export function readings(samples: readonly Sample[]): EnergyReading[] {
  const out: EnergyReading[] = [];
  for (const s of samples) if (s.energyJ !== null && s.energyJ !== undefined) out.push({ ts: s.ts, e: s.energyJ });
  return out;
}

/**
 * The changes that inserting `fresh` readings into the stored sequence makes. `stored` must hold,
 * ascending, every stored reading between the first fresh reading's predecessor and the last
 * one's successor (more is fine). No fresh ts may be in `stored`. Pairs that stay as they were
 * produce no change.
 */
export function energyChanges(stored: readonly EnergyReading[], fresh: readonly EnergyReading[]): EnergyChange[] {
  if (fresh.length === 0) return [];
  const sortedFresh = [...fresh].sort((a, b) => a.ts - b.ts);
  const out: EnergyChange[] = [];
  // Old pairs broken by a fresh reading strictly between their ends.
  let fi = 0;
  for (let i = 1; i < stored.length; i++) {
    const a = stored[i - 1];
    const b = stored[i];
    while (fi < sortedFresh.length && sortedFresh[fi].ts <= a.ts) fi++;
    if (fi < sortedFresh.length && sortedFresh[fi].ts < b.ts) {
      const inc = energyIncrement(a, b);
      if (inc !== null) out.push({ ts: b.ts, joules: -inc, pairs: -1 });
    }
  }
  // New pairs with a fresh reading at either end.
  const merged: { r: EnergyReading; fresh: boolean }[] = [];
  let i = 0;
  let j = 0;
  while (i < stored.length || j < sortedFresh.length) {
    if (j >= sortedFresh.length || (i < stored.length && stored[i].ts < sortedFresh[j].ts)) merged.push({ r: stored[i++], fresh: false });
    else merged.push({ r: sortedFresh[j++], fresh: true });
  }
  for (let k = 1; k < merged.length; k++) {
    if (!merged[k - 1].fresh && !merged[k].fresh) continue;
    const inc = energyIncrement(merged[k - 1].r, merged[k].r);
    if (inc !== null) out.push({ ts: merged[k].r.ts, joules: inc, pairs: 1 });
  }
  return out;
}
