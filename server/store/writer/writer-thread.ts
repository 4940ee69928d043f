/**
 * The SQLite writer thread. Owns the write connection: commits queued batches to the sample log
 * in one transaction per turn (group commit), and folds the log into per-chip chunks in the
 * background — so no commit or compaction ever runs on the hub's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { eq, sql } from 'drizzle-orm';
import { agents, sampleLog } from '../../../schema/tables.ts';
import { Compactor, logBacklog } from './compaction.ts';
import { RetentionJob } from './retention.ts';
import type { FromWriter, ToWriter, WriterSettings } from './writer-protocol.ts';

const settings = workerData as WriterSettings;
const client = new Database(settings.path);
client.pragma('journal_mode = WAL');
client.pragma('synchronous = NORMAL');
client.pragma('busy_timeout = 5000');
// Checkpoint less often: each checkpoint stalls the writer on fsync.
client.pragma('wal_autocheckpoint = 20000');
const db = drizzle(client);
const port = parentPort!;
const compactor = new Compactor(db);
const retention = new RetentionJob(client, settings.retention);
const post = (m: FromWriter) => port.postMessage(m);

const insertLog = db
  .insert(sampleLog)
  .values({ receivedAt: sql.placeholder('receivedAt'), n: sql.placeholder('n'), data: sql.placeholder('data') })
  .returning({ id: sampleLog.id })
  .prepare();
const markSeq = db
  .update(agents)
  .set({ lastSeq: sql`max(coalesce(${agents.lastSeq}, -1), ${sql.placeholder('seq')})`, lastSeen: sql`${sql.placeholder('now')}` })
  .where(eq(agents.id, sql.placeholder('agentId')))
  .prepare();

let queue: Extract<ToWriter, { op: 'write' }>[] = [];

const commit = client.transaction((jobs: typeof queue): number => {
  const now = Date.now();
  let n = 0;
  const parts: string[] = [];
  for (const j of jobs) {
    for (const b of j.batches) {
      n += b.n;
      parts.push(`{"b":${b.backfill ? 1 : 0},"f":${b.json}}`);
    }
  }
  // The frames' JSON goes into the log as received: no re-encoding on the ingest path.
  const { id } = insertLog.get({ receivedAt: now, n, data: `[${parts.join(',')}]` })!;
  for (const j of jobs) for (const b of j.batches) if (b.seq !== null) markSeq.run({ seq: b.seq, now, agentId: b.agentId });
  return id;
});

function flushWrites(): void {
  const jobs = queue;
  queue = [];
  try {
    const logId = commit(jobs);
    post({ ids: jobs.map((j) => j.id), ok: true, logId });
  } catch (err) {
    post({ ids: jobs.map((j) => j.id), ok: false, error: (err as Error).message });
  }
}

/** Samples folded per compaction step; batches queued meanwhile are committed between steps. */
const COMPACTION_STEP_SAMPLES = 20_000;

/** Fold the whole log now (flush, close). */
function compact(): void {
  let upTo = 0;
  for (let id = compactor.compactLog(COMPACTION_STEP_SAMPLES); id > 0; id = compactor.compactLog(COMPACTION_STEP_SAMPLES)) upTo = id;
  if (upTo > 0) post({ event: 'compacted', upToLogId: upTo });
}

let compacting = false;
/** Background folding, one step per turn, until the log is below its thresholds. */
function compactionStep(): void {
  try {
    const b = logBacklog(db, Date.now());
    if (!(b.samples >= settings.compactAtSamples / 2 || (b.samples > 0 && b.oldestAgeMs >= settings.compactAfterMs))) {
      compacting = false;
      return;
    }
    const upTo = compactor.compactLog(COMPACTION_STEP_SAMPLES);
    if (upTo > 0) post({ event: 'compacted', upToLogId: upTo });
    setImmediate(compactionStep);
  } catch (err) {
    compacting = false;
    post({ event: 'error', error: `compaction failed: ${(err as Error).message}` });
  }
}

const timer = setInterval(() => {
  if (compacting) return;
  const b = logBacklog(db, Date.now());
  if (b.samples >= settings.compactAtSamples || (b.samples > 0 && b.oldestAgeMs >= settings.compactAfterMs)) {
    compacting = true;
    compactionStep();
  }
}, 250);

/** Retention in bounded steps, one per turn, so queued commits go between them. */
let retentionRunning = false;
let retentionTotals = { deleted: 0, freedPages: 0 };
function retentionStep(): void {
  try {
    const r = retention.step(Date.now());
    retentionTotals.deleted += r.deleted;
    retentionTotals.freedPages += r.freedPages;
    if (r.deleted > 0 || r.freedPages > 0) {
      setImmediate(retentionStep);
      return;
    }
    if (retentionTotals.deleted > 0) post({ event: 'retention', ...retentionTotals });
  } catch (err) {
    post({ event: 'error', error: `retention failed: ${(err as Error).message}` });
  }
  retentionRunning = false;
  retentionTotals = { deleted: 0, freedPages: 0 };
}
const retentionTimer = setInterval(() => {
  if (retentionRunning) return;
  retentionRunning = true;
  retentionStep();
}, settings.retentionEveryMs);

port.on('message', (msg: ToWriter) => {
  if (msg.op === 'write') {
    queue.push(msg);
    if (queue.length === 1) setImmediate(flushWrites);
    return;
  }
  if (queue.length) flushWrites();
  if (msg.op === 'retention') {
    try {
      for (let r = retention.step(msg.now); r.deleted > 0 || r.freedPages > 0; r = retention.step(msg.now));
      post({ ids: [msg.id], ok: true });
    } catch (err) {
      post({ ids: [msg.id], ok: false, error: (err as Error).message });
    }
    return;
  }
  try {
    compact();
    post({ ids: [msg.id], ok: true });
  } catch (err) {
    post({ ids: [msg.id], ok: false, error: (err as Error).message });
  }
  if (msg.op === 'close') {
    clearInterval(timer);
    clearInterval(retentionTimer);
    client.close();
    port.close();
  }
});
