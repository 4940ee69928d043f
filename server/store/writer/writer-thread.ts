/**
 * The SQLite writer thread. Owns the commit path: queued batches go to the sample log in one
 * short transaction per turn (group commit), so no commit ever runs on the hub's event loop and
 * none waits behind folding, which the compactor thread does on its own connection.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { sql } from 'drizzle-orm';
import { sampleLog } from '../../../schema/tables.ts';
import { ROW_BATCHES, type FromWriter, type ToWriter, type WriterSettings } from './writer-protocol.ts';
import { setUpConnection } from '../sqlite-connection.ts';
import { WriteTurns } from './write-turns.ts';
import { moveChipTransaction, registerAgentTransaction } from './inventory-writes.ts';
import { alertWriteTransaction } from '../../alerts/alert-writes.ts';
import { workWriteTransaction } from '../../work/work-rows.ts';
import type { AgentEventWrite } from '../../agent-events/agent-event-rows.ts';

const settings = workerData as WriterSettings;
const client = setUpConnection(new Database(settings.path));
// The compactor thread checkpoints (and makes the WAL start over) without stalling commits; this
// connection's own checkpoint, which stalls them on fsync, is only a backstop should it not.
client.pragma('wal_autocheckpoint = 100000');
const db = drizzle(client);
const port = parentPort!;
const turns = new WriteTurns(settings.writeTurns);
const post = (m: FromWriter, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

const insertLog = db
  .insert(sampleLog)
  .values({ receivedAt: sql.placeholder('receivedAt'), n: sql.placeholder('n'), data: sql.placeholder('data') })
  .returning({ id: sampleLog.id })
  .prepare();

const registerAgent = registerAgentTransaction(client, db);
const registerAgents = client.transaction((regs: readonly Extract<ToWriter, { op: 'register' }>[]) => {
  for (const r of regs) registerAgent(r.reg, r.now);
});
const moveChip = moveChipTransaction(client, db);
const writeAlerts = alertWriteTransaction(client);
const writeWork = workWriteTransaction(client);
const insertAgentEvent = client.prepare('INSERT INTO agent_events (agent_id, ts, kind, hub, detail) VALUES (?, ?, ?, ?, ?)');
const writeAgentEvents = client.transaction((events: readonly AgentEventWrite[]) => {
  for (const e of events) insertAgentEvent.run(e.agentId, e.ts, e.kind, e.hub ?? null, e.detail ?? null);
});

let queue: Extract<ToWriter, { op: 'write' }>[] = [];

/**
 * A commit of samples starts at least this long after the previous one began. At 1 Hz the
 * agents' batches arrive spread out, one or two per turn of the hub's event loop, and every commit
 * rewrites the log's last pages in the WAL: gathering for a few milliseconds writes the same
 * samples in far fewer commits (with the agents' rows no longer updated per batch, the writer's
 * WAL writes at 10,000 chips at 1 Hz fell from ~5.8 to ~4.4 MB/s). Under load commits follow each
 * other anyway.
 */
const GATHER_MS = 10;
let lastCommitAt = Number.NEGATIVE_INFINITY;

function scheduleWrites(): void {
  const wait = lastCommitAt + GATHER_MS - performance.now();
  if (wait > 0) setTimeout(flushWrites, wait);
  else setImmediate(flushWrites);
}

/**
 * Batches' sample records are written back to back as they came (no re-encoding on the commit
 * path), up to ROW_BATCHES batches of one message to a log row: a read of one chip fetches the
 * rows its agent's batches are in, a few agents' samples each, not every agent's of the commit
 * (at 10,000 chips a row per commit held all 625 agents'); and rows stay few enough for the fold
 * (one batch a row folded ~20 % slower, bench/fold-bench.ts). Returns, per request, each batch's row.
 */
const commit = client.transaction((msgs: typeof queue): number[][] => {
  const now = Date.now();
  const rows: number[][] = [];
  for (const m of msgs) {
    const batches = m.requests.flatMap((r) => r.batches);
    const rowOf: number[] = [];
    let at = m.data.byteOffset;
    for (let i = 0; i < batches.length; i += ROW_BATCHES) {
      const group = batches.slice(i, i + ROW_BATCHES);
      let n = 0;
      let bytes = 0;
      for (const b of group) (n += b.n), (bytes += b.bytes);
      const { id } = insertLog.get({ receivedAt: now, n, data: Buffer.from(m.data.buffer, at, bytes) })!;
      at += bytes;
      for (let k = 0; k < group.length; k++) rowOf.push(id);
    }
    let k = 0;
    for (const r of m.requests) rows.push(rowOf.slice(k, (k += r.batches.length)));
  }
  return rows;
});

function flushWrites(): void {
  // A 'sync' may have flushed the queue before the turn's scheduled flush runs: nothing to log then.
  if (queue.length === 0) return;
  const jobs = queue;
  queue = [];
  lastCommitAt = performance.now();
  try {
    // A turn, then IMMEDIATE: the write lock up front (busy_timeout only backs up the turns).
    const rows = turns.run(() => commit.immediate(jobs));
    // The records' buffers go back with the answer, to be freed by the hub's thread, whose garbage
    // collector runs often; this thread allocates little, so they waited here for its rare ones
    // (~50 MB of them at full line-protocol ingest).
    const spent = jobs.map((j) => j.data.buffer as ArrayBuffer);
    post({ ids: jobs.flatMap((j) => j.requests.map((r) => r.id)), ok: true, rows, spent }, spent);
  } catch (err) {
    post({ ids: jobs.flatMap((j) => j.requests.map((r) => r.id)), ok: false, error: (err as Error).message });
  }
}

/**
 * Registrations that arrived together (agents reconnecting at once), committed in one transaction
 * under one write turn; each is answered on its own. Should the transaction fail, each is tried
 * alone so that one bad registration fails only its own hello.
 */
let registrations: Extract<ToWriter, { op: 'register' }>[] = [];

function flushRegistrations(): void {
  if (registrations.length === 0) return;
  const regs = registrations;
  registrations = [];
  try {
    turns.run(() => registerAgents.immediate(regs));
    post({ ids: regs.map((r) => r.id), ok: true });
  } catch {
    for (const r of regs) {
      try {
        turns.run(() => registerAgent.immediate(r.reg, r.now));
        post({ ids: [r.id], ok: true });
      } catch (err) {
        post({ ids: [r.id], ok: false, error: (err as Error).message });
      }
    }
  }
}

port.on('message', (msg: ToWriter) => {
  if (msg.op === 'write') {
    // Registrations sent before this write are committed first.
    flushRegistrations();
    queue.push(msg);
    if (queue.length === 1) scheduleWrites();
    return;
  }
  // Everything queued before any other message is committed first.
  if (queue.length) flushWrites();
  if (msg.op === 'register') {
    registrations.push(msg);
    if (registrations.length === 1) setImmediate(flushRegistrations);
    return;
  }
  flushRegistrations();
  if (msg.op === 'move-chip' || msg.op === 'alerts' || msg.op === 'work' || msg.op === 'agent-events') {
    try {
      if (msg.op === 'move-chip') turns.run(() => moveChip.immediate(msg.chipId, msg.agentId, msg.now));
      else if (msg.op === 'work') turns.run(() => writeWork.immediate(msg.work));
      else if (msg.op === 'agent-events') turns.run(() => writeAgentEvents.immediate(msg.events));
      else turns.run(() => writeAlerts.immediate(msg.states, msg.events, msg.now));
    } catch (err) {
      post({ ids: [msg.id], ok: false, error: (err as Error).message });
      return;
    }
  }
  post({ ids: [msg.id], ok: true });
  if (msg.op === 'close') {
    client.close();
    port.close();
  }
});
