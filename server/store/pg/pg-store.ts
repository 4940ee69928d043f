/**
 * The PostgreSQL store (Drizzle on node-postgres): the same Store as the embedded SQLite one, on
 * a server. Batches are committed to a sample log (one row per sample, one unnest INSERT for the
 * calls that arrive together — log-group-commit.ts —, acknowledged after commit); a fold in this process — on a timer, by size or age, like the
 * SQLite compactor — moves logged samples into compressed per-chip chunks and the rollup tiers.
 * Log and chunks are partitioned by UTC day; retention drops whole days. Reads see logged samples
 * too. Migrations are applied at open, in the store's schema (`schema`, default public).
 */
import { silentLogger, type Logger } from '../../../common/logger.ts';
import { DEFAULT_RETENTION, type BatchToStore, type InsertResult, type Retention, type Store, type StoredChip } from '../store.ts';
import { agentTokenIds, getAgent, listChips, moveChip, registerAgent } from './inventory.ts';
import { AlertTextWriter } from '../../alerts/alert-texts.ts';
import { writeAlerts } from './alert-writes.ts';
import { foldStep } from './fold.ts';
import { LogGroupCommit } from './log-group-commit.ts';
import { insertLogRows } from './log-writes.ts';
import { DayPartitions } from './partitions.ts';
import { connectPg } from './pg-connection.ts';
import { runRetention } from './retention.ts';
import { pgWorkReads, writeWork } from './work-rows.ts';
import { readAgentEvents, writeAgentEvents } from './agent-events.ts';
import { chipSamples, latestSamples } from './sample-reads.ts';
import { collectRollups, readRollups } from './rollup-reads.ts';

export interface PgStoreOptions {
  /** Schema the store's tables live in (created when missing; default `public`). */
  schema?: string;
  log?: Logger;
  /** Fold the log once its oldest unfolded sample was committed this long ago (default 60 s)… */
  compactAfterMs?: number;
  /** …or once it holds this many samples (default 50,000). */
  compactAtSamples?: number;
  /** How long each tier keeps data (defaults: raw 48 h, 1m 30 days, 1h 2 years). */
  retention?: Partial<Retention>;
  /** How often retention runs (default 60 s). */
  retentionEveryMs?: number;
  /** Pooled connections (default 8). */
  maxConnections?: number;
}

/** Samples one fold step takes (one transaction). */
export const FOLD_STEP_SAMPLES = 50_000;
/** Unfolded samples tolerated before writeBacklog reports them (ingest then withholds acks). */
export const UNFOLDED_ALLOWANCE = 200_000;

export async function openPgStore(url: string, opts: PgStoreOptions = {}): Promise<Store> {
  const log = opts.log ?? silentLogger;
  const { pool, db } = await connectPg(url, { schema: opts.schema ?? 'public', maxConnections: opts.maxConnections });
  const retention: Retention = { ...DEFAULT_RETENTION, ...opts.retention };
  const compactAfterMs = opts.compactAfterMs ?? 60_000;
  const compactAtSamples = opts.compactAtSamples ?? 50_000;
  const partitions = new DayPartitions(pool, opts.schema ?? 'public');
  await partitions.load();
  await partitions.ensureAhead();

  /** Samples handed to insertBatches and not committed yet. */
  let uncommitted = 0;
  /** Samples committed to the log and not folded yet (an estimate: duplicates count too). */
  let unfolded = 0;
  /** When the oldest unfolded sample was committed (0: none waits). */
  let oldestUnfoldedAt = 0;
  let closed = false;
  // Folds and retention run one at a time, in order.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task);
    queue = run.catch(() => undefined);
    return run;
  };
  const foldAll = () =>
    serial(async () => {
      for (;;) {
        const step = await foldStep(pool, FOLD_STEP_SAMPLES);
        unfolded = Math.max(0, unfolded - step.taken);
        if (step.taken < FOLD_STEP_SAMPLES) break;
      }
      if (unfolded === 0) oldestUnfoldedAt = 0;
    });
  let folding = false;
  const foldInBackground = () => {
    if (folding || closed) return;
    folding = true;
    foldAll()
      .catch((err) => log.warn('folding the PostgreSQL sample log failed (retried on the next tick)', { error: String(err) }))
      .finally(() => (folding = false));
  };
  const due = () => unfolded >= compactAtSamples || (oldestUnfoldedAt > 0 && Date.now() - oldestUnfoldedAt >= compactAfterMs);
  const foldTimer = setInterval(() => due() && foldInBackground(), Math.max(50, Math.min(1000, compactAfterMs / 4)));
  foldTimer.unref();
  const retentionTimer = setInterval(() => {
    if (!closed) store.enforceRetention().catch((err) => log.warn('PostgreSQL retention failed', { error: String(err) }));
  }, opts.retentionEveryMs ?? 60_000);
  retentionTimer.unref();

  // Whatever an earlier run left in the log goes into chunks before we serve reads.
  await foldAll();

  // Calls that arrive while earlier statements run are written together (one statement, one commit).
  const logWrites = new LogGroupCommit(async (samples, backfill) => {
    await partitions.ensureFor(samples.map((s) => s.ts));
    await insertLogRows(pool, samples, (i) => backfill[i], Date.now());
  });

  let alertWrites: Promise<unknown> = Promise.resolve();
  const alertTexts = new AlertTextWriter();
  let chipList: readonly StoredChip[] | undefined;
  let inFlight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    return p;
  };

  const insertBatches = (batches: BatchToStore[]): Promise<InsertResult[]> =>
    track(
      (async () => {
        if (closed) throw new Error('the PostgreSQL store is closed');
        const samples = batches.flatMap((b) => b.samples);
        const backfill = batches.flatMap((b) => b.samples.map(() => b.backfill === true));
        uncommitted += samples.length;
        try {
          if (samples.length > 0) await logWrites.add(samples, backfill);
        } finally {
          uncommitted -= samples.length;
        }
        if (samples.length > 0) {
          if (unfolded === 0) oldestUnfoldedAt = Date.now();
          unfolded += samples.length;
          if (unfolded >= compactAtSamples) foldInBackground();
        }
        return batches.map((b) => ({ stored: b.samples.length }));
      })(),
    );

  const store: Store = {
    retention,
    async registerAgent(reg, now) {
      try {
        await registerAgent(db, reg, now);
      } finally {
        chipList = undefined;
      }
    },
    getAgent: (agentId) => getAgent(db, agentId),
    agentTokenIds: () => agentTokenIds(db),
    async moveChip(chipId, agentId, now) {
      let moved: boolean;
      try {
        moved = await moveChip(db, chipId, agentId, now);
      } finally {
        chipList = undefined;
      }
      return moved ? ((await store.listChips()).find((c) => c.chipId === chipId) ?? null) : null;
    },
    async insertBatch(agentId, seq, samples, extra) {
      return (await insertBatches([{ agentId, seq, samples, ...extra }]))[0];
    },
    insertBatches,
    writeBacklog: () => uncommitted + Math.max(0, unfolded - UNFOLDED_ALLOWANCE),
    // This hub's estimate; the time stays that of the first commit after the log was last empty (an upper bound on the age).
    foldBacklog: () => ({ samples: unfolded, oldestMs: unfolded > 0 && oldestUnfoldedAt > 0 ? oldestUnfoldedAt : null }),
    async listChips() {
      chipList ??= await listChips(db);
      return [...chipList];
    },
    latestSamples: () => latestSamples(pool),
    chipSamples: (chipId, from, to, limit) => chipSamples(pool, chipId, from, to, limit),
    rollups: (tier, keys, from, to, fields) => collectRollups(pool, { tier, keys, from, to, fields }),
    rollupsInto: (tier, keys, from, to, fields, sink) => readRollups(pool, { tier, keys, from, to, fields }, sink),
    async enforceRetention(now = Date.now()) {
      // Fold first: samples about to be dropped still count in the rollups, which outlive them.
      await foldAll();
      const run = await serial(() => runRetention(pool, partitions, retention, now));
      if (run.droppedPartitions.length > 0) log.info('retention dropped day partitions', { partitions: run.droppedPartitions });
    },
    async countSamples() {
      await foldAll();
      const r = await pool.query<{ n: number }>('SELECT coalesce(sum(n), 0)::int8 AS n FROM sample_chunks');
      return r.rows[0].n;
    },
    // One after another, in the order given (as the SQLite writer commits them): two transactions
    // upserting the same alert_states rows at once deadlock, and a later state must win.
    writeAlerts(states, events, now) {
      const run = alertWrites.then(() => writeAlerts(pool, alertTexts, states, events, now));
      alertWrites = run.catch(() => undefined);
      return track(run);
    },
    writeWork: (work) => track(writeWork(pool, work)),
    ...pgWorkReads(pool),
    recordAgentEvents: (events) => track(writeAgentEvents(pool, events)),
    agentEvents: (agentId, from, to, limit) => readAgentEvents(pool, agentId, from, to, limit),
    async flush() {
      await foldAll();
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(foldTimer);
      clearInterval(retentionTimer);
      await Promise.allSettled([...inFlight]);
      inFlight = new Set();
      try {
        await foldAll();
        await queue;
      } finally {
        await pool.end();
      }
    },
  };
  return store;
}
