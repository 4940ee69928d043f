/**
 * What one `fleet` subscription receives: its filter compiled to a predicate over chip metadata,
 * with a key shared by equal filters (frames are built once per distinct filter and tick), and
 * whether it takes compact frames. Pure.
 */
import type { FleetFilter } from '../../schema/protocol.ts';

/** The chip fields a filter looks at. */
export interface ChipMeta {
  chipId: string;
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

/**
 * Compiles a subscription's filter and form. Empty lists and an empty host match everything;
 * `hostExact` and `chipId` match whole names (a host's or a chip's view).
 */
export function fleetSub(filter: FleetFilter | undefined, compact: boolean): FleetSub {
  const vendor = norm(filter?.vendor);
  const model = norm(filter?.model);
  const type = norm(filter?.instanceType);
  const host = (filter?.host ?? '').trim().toLowerCase();
  const hosts = norm(filter?.hostExact);
  const ids = norm(filter?.chipId);
  const form = compact ? 'c' : 'u';
  if (!vendor.length && !model.length && !type.length && !host && !hosts.length && !ids.length) return { key: form, compact, match: null };
  const v = new Set(vendor);
  const m = new Set(model);
  const t = new Set(type);
  const h = new Set(hosts);
  const id = new Set(ids);
  // The first four as before, so keys of filters without the exact fields stay what they were.
  const parts: unknown[] = [vendor, model, type, host];
  if (hosts.length || ids.length) parts.push(hosts, ids);
  return {
    key: `${form}${JSON.stringify(parts)}`,
    compact,
    match: (c) =>
      (!id.size || id.has(c.chipId)) &&
      (!h.size || h.has(c.host)) &&
      (!v.size || v.has(c.vendor)) &&
      (!m.size || m.has(c.model)) &&
      (!t.size || t.has(c.instanceType ?? '')) &&
      (!host || c.host.toLowerCase().includes(host)),
  };
}
