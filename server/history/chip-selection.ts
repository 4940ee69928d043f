/**
 * Which chips a history query covers and how they group into series. Pure: no I/O.
 *
 * Selectors: `chip` (ids), `vendor`, `model`, `host`; each takes several values (any matches),
 * different selectors must all match. An unknown chip id is a 400; selectors that match no chip
 * give an empty answer.
 */
import { fleetKey } from '../rollups/rollup-fields.ts';
import { InvalidQueryError } from './invalid-query.ts';

/** What a history query needs to know about a chip. */
export interface ChipRef {
  chipId: string;
  vendor: string;
  model: string;
  host: string;
}

export interface ChipSelector {
  chip?: string[];
  vendor?: string[];
  model?: string[];
  host?: string[];
}

export const GROUP_BYS = ['none', 'chip', 'host', 'model', 'vendor', 'fleet'] as const;
export type GroupBy = (typeof GROUP_BYS)[number];

/** One series (or one row of a report): a label, what identifies it, and the rollup keys it merges. */
export interface ChipGroup {
  label: string;
  /** chipId/host/model/vendor of the group, as far as they are shared by all its chips. */
  tags: Partial<ChipRef>;
  /** Chip ids, or fleet keys (`@vendor/model`) when read from the fleet rollups. */
  keys: string[];
}

export function selectChips<C extends ChipRef>(all: readonly C[], sel: ChipSelector): C[] {
  if (sel.chip?.length) {
    const known = new Set(all.map((c) => c.chipId));
    const unknown = sel.chip.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new InvalidQueryError(`chip: unknown chip ${unknown.map((id) => JSON.stringify(id)).join(', ')}; GET /api/v1/chips lists the chips`);
    }
  }
  const match = (values: string[] | undefined, v: string) => !values?.length || values.includes(v);
  return all.filter((c) => match(sel.chip, c.chipId) && match(sel.vendor, c.vendor) && match(sel.model, c.model) && match(sel.host, c.host));
}

/** Whether the selector narrows the chips below whole vendor/model groups (then fleet rollups can't answer). */
export function narrowsBelowModel(sel: ChipSelector): boolean {
  return Boolean(sel.chip?.length || sel.host?.length);
}

/** A chip's group label and tags under `groupBy`. */
export function tagsOf(c: ChipRef, groupBy: GroupBy): { label: string; tags: Partial<ChipRef> } {
  switch (groupBy) {
    case 'none':
    case 'chip':
      return { label: c.chipId, tags: { chipId: c.chipId, host: c.host, model: c.model, vendor: c.vendor } };
    case 'host':
      return { label: c.host, tags: { host: c.host } };
    case 'model':
      return { label: c.model, tags: { model: c.model, vendor: c.vendor } };
    case 'vendor':
      return { label: c.vendor, tags: { vendor: c.vendor } };
    case 'fleet':
      return { label: 'fleet', tags: {} };
  }
}

function byLabel(a: ChipGroup, b: ChipGroup): number {
  return a.label < b.label ? -1 : a.label > b.label ? 1 : 0;
}

function group(chips: readonly ChipRef[], groupBy: GroupBy, keyOf: (c: ChipRef) => string): ChipGroup[] {
  const groups = new Map<string, ChipGroup>();
  for (const c of chips) {
    const { label, tags } = tagsOf(c, groupBy);
    const g = groups.get(label);
    const key = keyOf(c);
    if (!g) groups.set(label, { label, tags, keys: [key] });
    else {
      if (!g.keys.includes(key)) g.keys.push(key);
      // A model name shared by two vendors: the group has no single vendor.
      if (g.tags.vendor !== undefined && g.tags.vendor !== c.vendor) delete g.tags.vendor;
    }
  }
  const out = [...groups.values()].sort(byLabel);
  for (const g of out) g.keys.sort();
  return out;
}

/** Groups of chip ids. */
export function groupChips(chips: readonly ChipRef[], groupBy: GroupBy): ChipGroup[] {
  return group(chips, groupBy, (c) => c.chipId);
}

/** Groups of fleet rollup keys (one per vendor/model pair): for groupBy model, vendor or fleet only. */
export function groupFleetKeys(chips: readonly ChipRef[], groupBy: 'model' | 'vendor' | 'fleet'): ChipGroup[] {
  return group(chips, groupBy, (c) => fleetKey(c.vendor, c.model));
}
