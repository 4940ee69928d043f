/**
 * Embedded SQLite store (better-sqlite3 through Drizzle), WAL mode, migrations applied at open.
 * Writes go to a writer thread that commits batches to a sample log (group commit); a compactor
 * thread folds the log into compressed per-chip chunks and the rollup tiers in the background and
 * enforces retention. This connection serves reads of chunks and the inventory, a second one the
 * rollup reads (RollupReader: paced, one snapshot each); both add the samples still in the log
 * (indexed in memory, read from the log rows). Inventory writes go through the writer thread too.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { and, asc, desc, eq, gte, lte, sql } from 'drizzle-orm';
import { agents, chips, hosts, sampleChunks } from '../../schema/tables.ts';
import type { Sample } from '../../schema/sample.ts';
import { withBackfill } from '../../schema/sample-flags.ts';
import { silentLogger, type Logger } from '../../common/logger.ts';
import { decodeChunk } from './chunk-codec.ts';
import { logRowsOf, mergeByTs } from './log-rows.ts';
import { SampleKeys, UnfoldedLogIndex } from './unfolded-log-index.ts';
import { encodeSampleRecord } from './sample-records.ts';
import { DEFAULT_RETENTION, type AgentRegistration, type BatchToStore, type InsertResult, type Retention, type Store, type StoredAgent, type StoredChip } from './store.ts';
import { collectRollups, RollupReader } from './rollup-reads.ts';
import type { ReadPacing } from '../event-loop-pacing.ts';
import { setUpConnection } from './sqlite-connection.ts';
import { startWriter } from './writer/writer-client.ts';
import type { WriteBatch } from './writer/writer-protocol.ts';
import { UNFOLDED_ALLOWANCE } from './writer/fold-steps.ts';
import { sqliteWorkReads } from '../work/work-rows.ts';
import { TIERS } from '../rollups/rollup-fields.ts';
import { AGENT_EVENTS_READ_LIMIT, type AgentEventKind } from '../agent-events/agent-event-rows.ts';

const tierBucketMs = (tier: keyof typeof TIERS) => TIERS[tier].bucketMs;

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../schema/migrations', import.meta.url));


/**
 * The migrations a file made by an earlier version has not had (none for a new file, which is
 * created quickly): those of the journal newer than the last one applied, drizzle's own rule.
 */
function pendingMigrations(client: Database.Database): string[] {
  if (!client.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get()) return [];
  const last = client.prepare('SELECT max(created_at) FROM __drizzle_migrations').pluck().get() as number | null;
  if (last === null) return [];
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string; when: number }[] };
  return journal.entries.filter((e) => e.when > last).map((e) => e.tag);
}

export interface SqliteStoreOptions {
  log?: Logger;
  /** Fold the sample log into chunks once its oldest row is this old (default 20 s: at 1 Hz a step then stays small enough that its write never holds up commits for long)… */
  compactAfterMs?: number;
  /** …or once it holds this many samples (default 50,000). */
  compactAtSamples?: number;
  /** How long each tier keeps data (defaults: raw 48 h, 1m 30 days, 1h 2 years). */
  retention?: Partial<Retention>;
  /** How often retention runs (default 60 s). */
  retentionEveryMs?: number;
  /** OS niceness of the compactor thread (default COMPACTOR_NICENESS; 0 keeps the hub's). */
  compactorNiceness?: number;
  /** How long rollup reads share the event loop (default: a turn every ~4 ms of decoding). */
  readPacing?: ReadPacing;
}

/** The compactor thread runs at this niceness: background folding yields the CPU to live traffic. */
export const COMPACTOR_NICENESS = 10;


/** The SQLite store: a Store that also seals the hours of its 1-hour tier on demand (tests; the compactor does it by itself). */
export interface SqliteStore extends Store {
  /** Fold everything committed so far, then seal the 1-hour tier's hours that are over at `now` (writer/hour-seal.ts). */
  sealHours(now: number): Promise<void>;
}

export async function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): Promise<SqliteStore> {
  if (path === ':memory:') throw new Error('the SQLite store needs a file (its writer thread opens its own connection)');
  mkdirSync(dirname(path), { recursive: true });
  const client = new Database(path);
  // Freed pages go back to the file system: retention runs incremental vacuum. A new file gets the
  // mode at once; a file made without it is converted once with a full VACUUM.
  const log = opts.log ?? silentLogger;
  client.pragma('auto_vacuum = INCREMENTAL');
  if ((client.pragma('page_count', { simple: true }) as number) > 0 && client.pragma('auto_vacuum', { simple: true }) !== 2) {
    log.info('converting the database to incremental vacuum (one-time VACUUM)', { path });
    client.exec('VACUUM');
  }
  setUpConnection(client);
  const db = drizzle(client);
  const pending = pendingMigrations(client);
  const started = performance.now();
  // A file of an earlier version may take a while (0011 rewrites the alert history once: ~5 µs a transition).
  if (pending.length) log.info('applying database migrations', { path, migrations: pending.join(', ') });
  migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  if (pending.length) log.info('database migrated', { path, ms: Math.round(performance.now() - started) });

  const retention: Retention = { ...DEFAULT_RETENTION, ...opts.retention };
  const writer = await startWriter(
    { path, compactAfterMs: opts.compactAfterMs ?? 20_000, compactAtSamples: opts.compactAtSamples ?? 50_000, retention, retentionEveryMs: opts.retentionEveryMs ?? 60_000, niceness: opts.compactorNiceness ?? COMPACTOR_NICENESS },
    log,
  );
  // Whatever an earlier run left in the log goes into chunks before we serve reads.
  await writer.flush();
  const recent = new UnfoldedLogIndex();
  writer.onCompacted((upTo, readings) => recent.compacted(upTo, readings));
  const logRows = logRowsOf(client);
  const oldestUnfoldedRow = client.prepare('SELECT received_at FROM sample_log WHERE id > ? ORDER BY id LIMIT 1').pluck();
  // Everything logged so far is folded now (as far as the log is folded: reads wait for reports past it).
  recent.compacted(logRows.foldedThrough());
  const rollupReader = new RollupReader(setUpConnection(new Database(path)), db, recent, opts.readPacing);

  const chunkSamples = (chipId: string, from: number, to: number): Sample[] => {
    const rows = db
      .select({ data: sampleChunks.data })
      .from(sampleChunks)
      .where(and(eq(sampleChunks.chipId, chipId), lte(sampleChunks.startTs, to), gte(sampleChunks.endTs, from)))
      .orderBy(asc(sampleChunks.startTs))
      .all();
    return rows.flatMap((r) => decodeChunk(r.data, chipId)).filter((s) => s.ts >= from && s.ts <= to);
  };

  // Not async: the samples are read here, and neither they nor the batches are held across the
  // commit (objects kept that long are promoted by the main heap's collector); the index gets what
  // it needs of each sample, taken now.
  const insertBatches = (batches: BatchToStore[]): Promise<InsertResult[]> => {
    const writes = batches.map((b) => ({ agentId: b.agentId, seq: b.seq, n: b.samples.length, record: encodeSampleRecord(b.backfill ? b.samples.map(withBackfill) : b.samples) }));
    return commitRecords(writes, batches.map((b) => SampleKeys.of(b.samples)));
  };
  const commitRecords = async (writes: WriteBatch[], keys: SampleKeys[]): Promise<InsertResult[]> => {
    const rows = await writer.write(writes);
    keys.forEach((k, i) => recent.add(rows[i], k));
    return keys.map((k) => ({ stored: k.length }));
  };

  let chipList: readonly StoredChip[] | undefined;
  const readAgentEvents = client.prepare('SELECT ts, kind, hub, detail FROM agent_events WHERE agent_id = ? AND ts >= ? AND ts <= ? ORDER BY ts, id LIMIT ?');

  const store: SqliteStore = {
    retention,
    async registerAgent(reg, now) {
      try {
        await writer.registerAgent(reg, now);
      } finally {
        chipList = undefined;
      }
    },
    async getAgent(agentId): Promise<StoredAgent | null> {
      const row = db.select({ hostname: agents.hostname, version: agents.version, tokenId: agents.tokenId }).from(agents).where(eq(agents.id, agentId)).get();
      return row ? { agentId, ...row } : null;
    },
    async agentTokenIds() {
      return db.select({ tokenId: agents.tokenId }).from(agents).all().map((r) => r.tokenId);
    },
    async moveChip(chipId, agentId, now) {
      try {
        await writer.moveChip(chipId, agentId, now);
      } finally {
        chipList = undefined;
      }
      const moved = (await store.listChips()).find((c) => c.chipId === chipId);
      return moved?.agentId === agentId ? moved : null;
    },
    insertBatch(agentId, seq, batch, extra) {
      return insertBatches([{ agentId, seq, samples: batch, ...extra }]).then((r) => r[0]);
    },
    insertRecord(agentId, seq, batch) {
      return commitRecords([{ agentId, seq, n: batch.keys.length, record: batch.record }], [batch.keys]).then((r) => r[0]);
    },
    insertBatches,
    // Uncommitted samples, plus committed ones beyond what the compactor may lag by (they are held
    // in memory until folded): either way ingest withholds acks when this grows.
    writeBacklog: () => writer.backlog() + Math.max(0, recent.size - UNFOLDED_ALLOWANCE),
    // The index's unfolded samples; the oldest such log row's commit time (one indexed row read).
    foldBacklog: () => ({ samples: recent.size, oldestMs: recent.size > 0 ? ((oldestUnfoldedRow.get(recent.foldedUpTo) as number | undefined) ?? null) : null }),
    async listChips(): Promise<StoredChip[]> {
      // The inventory changes only through registerAgent (which drops this copy): queries, which
      // all start by listing the chips, do not re-read 1,000 rows each.
      chipList ??= Object.freeze(
        db
          .select({ chip: chips, instanceType: hosts.instanceType, intervalMs: agents.intervalMs })
          .from(chips)
          .leftJoin(hosts, eq(hosts.hostname, chips.hostname))
          .leftJoin(agents, eq(agents.id, chips.agentId))
          .orderBy(asc(chips.hostname), asc(chips.idx))
          .all()
          .map(({ chip, instanceType, intervalMs }) => Object.freeze({
            chipId: chip.id, vendor: chip.vendor, model: chip.model, index: chip.idx, cores: chip.cores,
            memTotalBytes: chip.memTotalBytes, ratedPowerW: chip.ratedPowerW, agentId: chip.agentId,
            host: chip.hostname, instanceType: instanceType ?? null, intervalMs: intervalMs ?? 1000, lastSeen: chip.lastSeen,
          })),
      );
      return [...chipList];
    },
    async latestSamples() {
      const out = new Map<string, Sample>();
      client.transaction(() => {
        const unfolded = recent.samples(logRows, null);
        for (const { id } of db.select({ id: chips.id }).from(chips).all()) {
          const last = db.select({ data: sampleChunks.data }).from(sampleChunks).where(eq(sampleChunks.chipId, id)).orderBy(desc(sampleChunks.endTs)).limit(1).get();
          const fromChunk = last ? decodeChunk(last.data, id).at(-1) : undefined;
          const fromLog = unfolded.get(id)?.reduce((a, b) => (b.ts > a.ts ? b : a));
          const best = fromLog && (!fromChunk || fromLog.ts > fromChunk.ts) ? fromLog : fromChunk;
          if (best) out.set(id, best);
        }
      })();
      return out;
    },
    async chipSamples(chipId, from, to, limit) {
      // One snapshot: a fold committing between the two reads could otherwise hide samples.
      // A range that ends before the chip's earliest unfolded sample needs no log rows (history read in slices).
      const [stored, unfolded] = client.transaction(() => [chunkSamples(chipId, from, to), to < recent.earliestUnfolded(chipId) ? [] : (recent.samples(logRows, new Set([chipId])).get(chipId) ?? [])])();
      const merged = mergeByTs(stored, unfolded.filter((s) => s.ts >= from && s.ts <= to));
      return merged.length > limit ? merged.slice(0, limit) : merged;
    },
    rollups(tier, keys, from, to, fields) {
      return collectRollups(rollupReader, { tier, keys, from, to, fields });
    },
    rollupsInto(tier, keys, from, to, fields, sink) {
      return rollupReader.read({ tier, keys, from, to, fields }, sink);
    },
    async enforceRetention(now = Date.now()) {
      await writer.enforceRetention(now);
    },
    async sealHours(now) {
      await writer.flush();
      await writer.sealHours(now);
    },
    async countSamples() {
      await writer.flush();
      const row = db.select({ n: sql<number>`coalesce(sum(${sampleChunks.n}), 0)` }).from(sampleChunks).get();
      return row?.n ?? 0;
    },
    writeAlerts: (states, events, now) => writer.writeAlerts(states, events, now),
    writeWork: (work) => writer.writeWork(work),
    recordAgentEvents: (events) => (events.length === 0 ? Promise.resolve() : writer.writeAgentEvents(events)),
    async agentEvents(agentId, from, to, limit = AGENT_EVENTS_READ_LIMIT) {
      return readAgentEvents.all(agentId, from, to, limit) as { ts: number; kind: AgentEventKind; hub: string | null; detail: string | null }[];
    },
    ...sqliteWorkReads(client, tierBucketMs),
    async flush() {
      await writer.flush();
    },
    async close() {
      await rollupReader.idle();
      await writer.close();
      rollupReader.close();
      client.close();
    },
  };
  return store;
}
