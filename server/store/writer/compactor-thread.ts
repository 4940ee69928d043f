/**
 * The compactor thread: folds the sample log into chunks and rollups in the background, and runs
 * retention, on its own SQLite connection. The CPU work (parsing, encoding) runs outside any write
 * lock; only the resulting writes take it, briefly, so the writer's commits never wait long.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { Compactor, LogBacklog, loggedRowsAfter } from './compaction.ts';
import { RetentionJob } from './retention.ts';
import { ChunkMerger } from './chunk-merge.ts';
import type { CompactorSettings, FromCompactor, ToCompactor } from './writer-protocol.ts';
import { setUpConnection } from '../sqlite-connection.ts';
import { atNormalPriority, lowerThreadPriority } from './thread-priority.ts';
import { WriteTurns } from './write-turns.ts';
import { MIN_STEP, stepFor } from './fold-steps.ts';

const settings = workerData as CompactorSettings;
const niceness = lowerThreadPriority(settings.niceness) ?? 0;
// A longer wait for the write lock than the writer's: a fold step must not fail behind commits.
const client = setUpConnection(new Database(settings.path), 10_000);
// Checkpoints run here, on a timer (`checkpoint` below), not after this thread's own commits:
// copying the WAL into the database and its fsyncs cost this thread, not the writer's commits
// (the writer's own automatic checkpoint is only a backstop, at a much longer WAL).
client.pragma('wal_autocheckpoint = 0');
const db = drizzle(client);
const port = parentPort!;
const post = (m: FromCompactor) => port.postMessage(m);
// Its write transactions hold the write lock the writer's commits wait for: they take a turn and
// run at the hub's priority.
const turns = new WriteTurns(settings.writeTurns);
const holdingWriteTurn = <T>(fn: () => T): T => turns.run(() => atNormalPriority(niceness, fn));
const compactor = new Compactor(db, holdingWriteTurn);
const backlog = new LogBacklog(loggedRowsAfter(db), compactor.foldedLogId);
const logBacklog = () => backlog.at(Date.now(), compactor.foldedLogId);
const retention = new RetentionJob(client, settings.retention);
const merger = new ChunkMerger(client, holdingWriteTurn);
/** Merging starts this long after the store opens: the start's own folds (and a short-lived store's) go first. */
const MERGE_START_DELAY_MS = 30_000;
const openedAt = Date.now();

let stepSamples = MIN_STEP;
/** The log size that starts folding: the configured threshold, scaled like the step. */
const foldAt = () => settings.compactAtSamples * (stepSamples / MIN_STEP);

function step(): number {
  const upTo = compactor.compactLog(stepSamples);
  if (upTo > 0) stepSamples = stepFor(compactor.lastStep.chips);
  return upTo;
}

/** Folded log rows deleted per transaction: a few milliseconds of write lock each. */
const DELETE_ROWS = 256;

/** Fold the whole log now. */
function foldAll(): void {
  // Each step reported as it commits: reads whose snapshot holds it wait for its report.
  for (let id = step(); id > 0; id = step()) post({ event: 'compacted', upToLogId: id, readings: compactor.takeReadings(), ...compactor.lastStep });
  compactor.deleteFolded();
}

let compacting = false;
/** WAL frames past which a checkpoint finishes under a write turn, so that the WAL starts over. */
const WAL_RESTART_FRAMES = 16_384;

/**
 * Copies the WAL into the database without holding up writes; once the WAL is long, a second
 * pass holds a write turn for the few frames written meanwhile, which completes the checkpoint so
 * that the next commit starts the WAL from its beginning (a checkpoint racing commits never does).
 */
function checkpoint(): void {
  const [r] = client.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
  if (r && r.log >= WAL_RESTART_FRAMES) {
    holdingWriteTurn(() => client.pragma('wal_checkpoint(PASSIVE)'));
  }
}

/** Background folding, one step per turn, until the log is below its thresholds. */
function compactionStep(): void {
  try {
    // The rows of the last step go first, one small transaction per turn.
    if (compactor.deleteFolded(DELETE_ROWS) > 0) {
      setImmediate(compactionStep);
      return;
    }
    const b = logBacklog();
    if (!(b.samples >= foldAt() / 2 || (b.samples > 0 && b.oldestAgeMs >= settings.compactAfterMs))) {
      compacting = false;
      return;
    }
    const upTo = step();
    if (upTo > 0) post({ event: 'compacted', upToLogId: upTo, readings: compactor.takeReadings(), ...compactor.lastStep });
    // Under steady load the log may never get below its thresholds: an hour due for sealing still
    // gets a batch of keys between fold steps.
    if (compactor.sealDue(Date.now())) sealHours(Date.now(), 0);
    setImmediate(compactionStep);
  } catch (err) {
    compacting = false;
    post({ event: 'error', error: `compaction failed: ${(err as Error).message}` });
  }
}

/** Checkpoint every CHECKPOINT_TICKS-th tick (1 s): a page rewritten meanwhile is copied once. */
const CHECKPOINT_TICKS = 4;
let ticks = 0;
const timer = setInterval(() => {
  if (++ticks % CHECKPOINT_TICKS === 0) checkpoint();
  if (compacting) return;
  const b = logBacklog();
  if (b.samples >= foldAt() || (b.samples > 0 && b.oldestAgeMs >= settings.compactAfterMs)) {
    compacting = true;
    compactionStep();
  } else if (compactor.sealDue(Date.now())) {
    // Nothing to fold: seal an hour that is over, SEAL_BUDGET_MS a tick, between fold steps.
    sealHours(Date.now(), SEAL_BUDGET_MS);
  } else if (Date.now() - openedAt >= MERGE_START_DELAY_MS && merger.due(Date.now())) {
    // Nothing to fold: merge old small chunks, one window per tick.
    try {
      merger.pass(Date.now());
    } catch (err) {
      post({ event: 'error', error: `merging chunks failed: ${(err as Error).message}` });
    }
  }
}, 250);

/** Time a tick gives to sealing hours (hour-seal.ts): a few batches of keys. */
const SEAL_BUDGET_MS = 50;

/** Seal what is due at `now` for up to `budgetMs`, reporting a failure instead of throwing. */
function sealHours(now: number, budgetMs: number): void {
  try {
    compactor.sealHours(now, budgetMs);
  } catch (err) {
    post({ event: 'error', error: `sealing an hour of rollups failed: ${(err as Error).message}` });
  }
}

/** Retention in bounded steps, one per turn. */
let retentionRunning = false;
let retentionTotals = { deleted: 0, freedPages: 0 };
function retentionStep(): void {
  try {
    const r = holdingWriteTurn(() => retention.step(Date.now()));
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

/**
 * At close, the log folded: its pages (~100 MB at full ingest) would wait for the next start's
 * writes; a stopped hub's file gives them back, as retention does every minute while it runs.
 */
function releaseFreePages(): void {
  try {
    while (holdingWriteTurn(() => retention.releaseFreePages()) > 0);
  } catch (err) {
    post({ event: 'error', error: `giving free pages back at close failed: ${(err as Error).message}` });
  }
}

port.on('message', (msg: ToCompactor) => {
  try {
    if (msg.op === 'retention') {
      const step = () => holdingWriteTurn(() => retention.step(msg.now));
      for (let r = step(); r.deleted > 0 || r.freedPages > 0; r = step());
    } else if (msg.op === 'seal') {
      foldAll();
      compactor.sealHours(msg.now);
    } else {
      foldAll();
      if (msg.op === 'close') releaseFreePages();
    }
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
