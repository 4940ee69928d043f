/**
 * A Store in plain maps, for fast unit tests: the same observable behaviour as the SQLite and
 * PostgreSQL stores (checked by test/integration/store-contract.test.ts) without a database. Each
 * batch is "folded" as it is inserted: new (chip, ts) pairs are kept (the first stored wins) and
 * their rollup deltas — energy pairs made or split included — are merged into the kept buckets
 * with the pure rollup code, so rollups outlive the raw samples as they do in the other stores.
 */
import { withBackfill } from '../../schema/sample-flags.ts';
import type { Sample } from '../../schema/sample.ts';
import type { AlertEvent } from '../alerts/alert-events.ts';
import type { StateWrite } from '../alerts/alert-store.ts';
import { memoryWorkRows } from '../work/work-rows.ts';
import { AGENT_EVENTS_READ_LIMIT, type AgentEventWrite } from '../agent-events/agent-event-rows.ts';
import { energyChanges, readings } from '../rollups/energy-pairs.ts';
import { RollupBatch } from '../rollups/rollup-batch.ts';
import { cloneBucket, mergeBucket, type RollupBucket } from '../rollups/rollup-bucket.ts';
import { columnsOf, RowColumns } from '../rollups/rollup-columns.ts';
import { bucketStart, fleetKey, ROLLUP_FIELDS, TIERS, type RollupField, type RollupTier } from '../rollups/rollup-fields.ts';
import { DEFAULT_RETENTION, type AgentRegistration, type BatchToStore, type InsertResult, type Retention, type Store, type StoredAgent, type StoredChip } from './store.ts';

interface HostRow {
  instanceId: string | null;
  instanceType: string | null;
}
interface AgentRow {
  hostname: string;
  version: string;
  intervalMs: number;
  tokenId: string | null;
}

/** One chip's samples by ts, and ascending (kept in order on appends, re-sorted when asked for after others). */
class ChipSeries {
  readonly byTs = new Map<number, Sample>();
  private sorted: Sample[] = [];
  private inOrder = true;

  add(s: Sample): void {
    this.byTs.set(s.ts, s);
    if (this.inOrder && (this.sorted.length === 0 || this.sorted[this.sorted.length - 1].ts < s.ts)) this.sorted.push(s);
    else this.inOrder = false;
  }

  dropBefore(ts: number): number {
    let n = 0;
    for (const t of this.byTs.keys()) if (t < ts && this.byTs.delete(t)) n++;
    if (n) this.inOrder = false;
    return n;
  }

  all(): Sample[] {
    if (!this.inOrder) {
      this.sorted = [...this.byTs.values()].sort((a, b) => a.ts - b.ts);
      this.inOrder = true;
    }
    return this.sorted;
  }
}

/** Index of the first sample with ts >= `ts` in ascending `samples`. */
function lowerBound(samples: readonly Sample[], ts: number): number {
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (samples[mid].ts < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What a test can read back of the alert rows written through writeAlerts. */
export interface MemoryAlertRows {
  states: Map<string, { ruleId: string; chipId: string; state: unknown; labels: Readonly<Record<string, string>>; updatedAt: number }>;
  events: AlertEvent[];
}

export interface MemoryStore extends Store {
  /** The alert state rows (by `ruleId\0chipId`) and events written so far. */
  readonly alerts: MemoryAlertRows;
}

export function openMemoryStore(opts: { retention?: Partial<Retention> } = {}): MemoryStore {
  const retention: Retention = { ...DEFAULT_RETENTION, ...opts.retention };
  const hosts = new Map<string, HostRow>();
  const agents = new Map<string, AgentRow>();
  const chips = new Map<string, Omit<StoredChip, 'instanceType' | 'intervalMs'>>();
  const series = new Map<string, ChipSeries>();
  /** tier → key → bucket start → bucket. */
  const tiers = new Map<RollupTier, Map<string, Map<number, RollupBucket>>>((Object.keys(TIERS) as RollupTier[]).map((t) => [t, new Map()]));
  const alerts: MemoryAlertRows = { states: new Map(), events: [] };
  const work = memoryWorkRows((tier) => TIERS[tier].bucketMs);
  /** Agent connection events in the order recorded. */
  let agentEventRows: AgentEventWrite[] = [];
  let closed = false;
  const open = () => {
    if (closed) throw new Error('the memory store is closed');
  };

  const keysOf = (chipId: string): string[] => {
    const c = chips.get(chipId);
    return c ? [chipId, fleetKey(c.vendor, c.model)] : [chipId];
  };

  /** Keep the new samples of one chip (ascending, unique ts) and merge what they add into the rollups. */
  const foldChip = (chipId: string, fresh: Sample[]): void => {
    let s = series.get(chipId);
    if (!s) series.set(chipId, (s = new ChipSeries()));
    const added = fresh.filter((x) => !s.byTs.has(x.ts));
    if (added.length === 0) return;
    const minTs = added[0].ts;
    const maxTs = added[added.length - 1].ts;
    // The stored readings from the one before the first new sample to the one after the last.
    const all = s.all();
    let lo = lowerBound(all, minTs) - 1;
    while (lo >= 0 && (all[lo].energyJ === null || all[lo].energyJ === undefined)) lo--;
    let hi = lowerBound(all, maxTs + 1);
    while (hi < all.length && (all[hi].energyJ === null || all[hi].energyJ === undefined)) hi++;
    const stored = readings(all.slice(Math.max(0, lo), hi + 1));
    const batch = new RollupBatch();
    batch.addChip(keysOf(chipId), added, energyChanges(stored, readings(added)));
    for (const d of batch.deltas()) {
      const byKey = tiers.get(d.tier)!;
      let buckets = byKey.get(d.key);
      if (!buckets) byKey.set(d.key, (buckets = new Map()));
      for (const [start, b] of d.buckets) {
        const had = buckets.get(start);
        if (had) mergeBucket(had, b);
        else buckets.set(start, cloneBucket(b));
      }
    }
    for (const x of added) s.add(x);
  };

  /** A tier's buckets of one key with from <= start <= to, ascending. */
  const bucketsIn = (tier: RollupTier, key: string, from: number, to: number): RollupBucket[] =>
    [...(tiers.get(tier)!.get(key)?.values() ?? [])].filter((b) => b.start >= from && b.start <= to).sort((a, b) => a.start - b.start);

  /** Copy of a bucket with only the asked fields (and energy only when asked). */
  const only = (b: RollupBucket, fields: readonly (RollupField | 'energyJ')[] | undefined): RollupBucket => {
    const c = cloneBucket(b);
    if (!fields) return c;
    c.f = c.f.map((st, i) => (fields.includes(ROLLUP_FIELDS[i]) ? st : null));
    if (!fields.includes('energyJ')) {
      c.energyJ = 0;
      c.energyPairs = 0;
    }
    return c;
  };

  const insertBatches = async (batches: BatchToStore[]): Promise<InsertResult[]> => {
    open();
    const byChip = new Map<string, Map<number, Sample>>();
    for (const b of batches) {
      for (const x of b.samples) {
        let m = byChip.get(x.chipId);
        if (!m) byChip.set(x.chipId, (m = new Map()));
        // Within the call too, the first copy of a (chip, ts) wins.
        if (!m.has(x.ts)) m.set(x.ts, b.backfill ? withBackfill(x) : x);
      }
    }
    for (const [chipId, m] of byChip) foldChip(chipId, [...m.values()].sort((a, b) => a.ts - b.ts));
    return batches.map((b) => ({ stored: b.samples.length }));
  };

  const store: MemoryStore = {
    retention,
    alerts,
    async registerAgent(reg: AgentRegistration, now: number) {
      open();
      const { host } = reg;
      hosts.set(host.hostname, { instanceId: host.instanceId, instanceType: host.instanceType });
      const had = agents.get(reg.agentId);
      agents.set(reg.agentId, { hostname: host.hostname, version: reg.agentVersion, intervalMs: reg.intervalMs, tokenId: had?.tokenId ?? reg.tokenId ?? null });
      for (const c of reg.chips) {
        const stored = chips.get(c.chipId);
        // A chip stored under another agent keeps its owner (only moveChip moves chips).
        if (stored && stored.agentId !== reg.agentId) continue;
        chips.set(c.chipId, { ...c, agentId: reg.agentId, host: host.hostname, lastSeen: now });
      }
    },
    async getAgent(agentId): Promise<StoredAgent | null> {
      const a = agents.get(agentId);
      return a ? { agentId, hostname: a.hostname, version: a.version, tokenId: a.tokenId } : null;
    },
    async agentTokenIds() {
      return [...agents.values()].map((a) => a.tokenId);
    },
    async moveChip(chipId, agentId, now) {
      open();
      const c = chips.get(chipId);
      const a = agents.get(agentId);
      if (!c || !a) return null;
      chips.set(chipId, { ...c, agentId, host: a.hostname, lastSeen: now });
      return (await store.listChips()).find((x) => x.chipId === chipId) ?? null;
    },
    async insertBatch(agentId, seq, samples, extra) {
      return (await insertBatches([{ agentId, seq, samples, ...extra }]))[0];
    },
    insertBatches,
    writeBacklog: () => 0,
    foldBacklog: () => ({ samples: 0, oldestMs: null }),
    async listChips() {
      return [...chips.values()]
        .sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : a.index - b.index))
        .map((c) => Object.freeze({ ...c, instanceType: hosts.get(c.host)?.instanceType ?? null, intervalMs: agents.get(c.agentId)?.intervalMs ?? 1000 }));
    },
    async latestSamples() {
      const out = new Map<string, Sample>();
      for (const id of chips.keys()) {
        const last = series.get(id)?.all().at(-1);
        if (last) out.set(id, last);
      }
      return out;
    },
    async chipSamples(chipId, from, to, limit) {
      const all = series.get(chipId)?.all() ?? [];
      const out: Sample[] = [];
      for (const x of all) {
        if (x.ts < from) continue;
        if (x.ts > to || out.length >= limit) break;
        out.push(x);
      }
      return out;
    },
    async rollups(tier, keys, from, to, fields) {
      const out = new Map<string, RollupBucket[]>();
      for (const key of keys) {
        const list = bucketsIn(tier, key, from, to).map((b) => only(b, fields));
        if (list.length > 0) out.set(key, list);
      }
      return out;
    },
    async rollupsInto(tier, keys, from, to, fields, sink) {
      const cols = new RowColumns();
      for (const key of keys) {
        const list = bucketsIn(tier, key, bucketStart(from, TIERS[tier].rowSpanMs), to).map((b) => only(b, fields));
        if (list.length === 0) continue;
        columnsOf(list, cols);
        if (fields) for (let i = 0; i < ROLLUP_FIELDS.length; i++) if (!fields.includes(ROLLUP_FIELDS[i])) cols.fields[i] = null;
        cols.hasEnergy = !fields || fields.includes('energyJ');
        sink(key, cols);
      }
    },
    async enforceRetention(now = Date.now()) {
      for (const s of series.values()) s.dropBefore(now - retention.rawMs);
      const keep: Record<RollupTier, number> = { '1m': retention.m1Ms, '1h': retention.h1Ms };
      agentEventRows = agentEventRows.filter((e) => e.ts >= now - retention.h1Ms);
      work.dropBefore({ raw: now - retention.rawMs, m1: now - retention.m1Ms - TIERS['1m'].bucketMs, h1: now - retention.h1Ms - TIERS['1h'].bucketMs });
      for (const [tier, byKey] of tiers) {
        // As the stored rows go: a row (rowSpanMs of buckets) once its whole span is past the cutoff.
        const { rowSpanMs } = TIERS[tier];
        const before = now - keep[tier] - rowSpanMs + 1;
        for (const buckets of byKey.values()) for (const start of buckets.keys()) if (bucketStart(start, rowSpanMs) < before) buckets.delete(start);
      }
    },
    async countSamples() {
      let n = 0;
      for (const s of series.values()) n += s.byTs.size;
      return n;
    },
    async writeAlerts(states: readonly StateWrite[], events: readonly AlertEvent[], now: number) {
      open();
      for (const w of states) {
        const id = `${w.ruleId}\u0000${w.chipId}`;
        if (w.state === null) alerts.states.delete(id);
        else alerts.states.set(id, { ruleId: w.ruleId, chipId: w.chipId, state: w.state, labels: w.labels, updatedAt: now });
      }
      alerts.events.push(...events);
    },
    async writeWork(w) {
      open();
      await work.writeWork(w);
    },
    workIncrements: work.workIncrements,
    workBuckets: work.workBuckets,
    workCounters: work.workCounters,
    currentChipJobs: work.currentChipJobs,
    async flush() {},
    async close() {
      closed = true;
    },
    async recordAgentEvents(events) {
      open();
      for (const e of events) agentEventRows.push({ ...e });
    },
    async agentEvents(agentId, from, to, limit = AGENT_EVENTS_READ_LIMIT) {
      return agentEventRows
        .filter((e) => e.agentId === agentId && e.ts >= from && e.ts <= to)
        .sort((a, b) => a.ts - b.ts) // stable: ties stay in the order recorded
        .slice(0, limit)
        .map((e) => ({ ts: e.ts, kind: e.kind, hub: e.hub ?? null, detail: e.detail ?? null }));
    },
  };
  return store;
}
