/**
 * What one `fleet` subscription receives: its filter compiled to a predicate over chip metadata,
 * with a key shared by equal filters (frames are built once per distinct filter and tick), and
 * whether it takes compact frames. Pure.
 */
import type { FleetFilter } from '../../schema/protocol.ts';

/** The chip fields a filter looks at. */
export interface ChipMeta {
  vendor: string;
  model: string;
  host: string;
  instanceType: string | null;
}

export interface FleetSub {
  /** Equal for equal filters and frame forms ('' + form for no filter). */
  key: string;
  compact: boolean;
  /** Null: every chip. */
  match: ((c: ChipMeta) => boolean) | null;
}

function norm(xs: readonly string[] | undefined): string[] {
  return xs && xs.length ? [...new Set(xs)].sort() : [];
}

/** Compiles a subscription's filter and form. Empty lists and an empty host match everything. */
export function fleetSub(filter: FleetFilter | undefined, compact: boolean): FleetSub {
  const vendor = norm(filter?.vendor);
  const model = norm(filter?.model);
  const type = norm(filter?.instanceType);
  const host = (filter?.host ?? '').trim().toLowerCase();
  const form = compact ? 'c' : 'u';
  if (!vendor.length && !model.length && !type.length && !host) return { key: form, compact, match: null };
  const v = new Set(vendor);
  const m = new Set(model);
  const t = new Set(type);
  return {
    key: `${form}${JSON.stringify([vendor, model, type, host])}`,
    compact,
    match: (c) => (!v.size || v.has(c.vendor)) && (!m.size || m.has(c.model)) && (!t.size || t.has(c.instanceType ?? '')) && (!host || c.host.toLowerCase().includes(host)),
  };
}
