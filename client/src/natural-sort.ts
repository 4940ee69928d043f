/**
 * Numeric-aware ordering of host names and labels: `p5-sim-2` before `p5-sim-10`. Pure.
 */
import type { ChipView } from '../../schema/protocol.ts';

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** `a` vs `b` the way people read names with numbers in them; ties broken by code units. */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Hosts in natural order, chips by index within a host, then by id. */
export function compareChips(a: ChipView, b: ChipView): number {
  if (a.host !== b.host) return naturalCompare(a.host, b.host);
  return a.index - b.index || (a.chipId < b.chipId ? -1 : a.chipId > b.chipId ? 1 : 0);
}

/**
 * `chips` in `compareChips` order, fast for large fleets: the distinct hosts are ordered with the
 * collator once (hundreds of comparisons), then chips by host rank and index (plain numbers).
 */
export function sortChips(chips: Iterable<ChipView>): ChipView[] {
  const all = [...chips];
  const hosts = [...new Set(all.map((c) => c.host))].sort(naturalCompare);
  const rank = new Map(hosts.map((h, i) => [h, i]));
  return all.sort((a, b) => rank.get(a.host)! - rank.get(b.host)! || a.index - b.index || (a.chipId < b.chipId ? -1 : a.chipId > b.chipId ? 1 : 0));
}
