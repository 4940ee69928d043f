/**
 * Folds the sample log into per-chip chunks: groups logged samples by chip, drops duplicates
 * (a (chip, ts) pair already stored wins), merges into overlapping or small recent chunks, and
 * deletes the folded log rows — all in one transaction, run by the writer thread.
 */
import { and, asc, desc, eq, gte, lte, sql } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { Sample } from '../../../schema/sample.ts';
import { sampleChunks, sampleLog } from '../../../schema/tables.ts';
import { decodeChunk, encodeChunk } from '../chunk-codec.ts';
import type { LogEntry } from './writer-protocol.ts';

/** A chunk below this many samples takes in the chip's next samples (keeps chunks from staying tiny). */
export const TARGET_CHUNK_SAMPLES = 600;
/** Chunks are split above this many samples. */
export const MAX_CHUNK_SAMPLES = 4096;

type Db = BetterSQLite3Database;

/** Merge by ts: `keep` wins on equal timestamps; result ascending. */
export function mergeByTs(keep: Sample[], add: Sample[]): Sample[] {
  const byTs = new Map<number, Sample>();
  for (const s of add) if (!byTs.has(s.ts)) byTs.set(s.ts, s);
  for (const s of keep) byTs.set(s.ts, s);
  return [...byTs.values()].sort((a, b) => a.ts - b.ts);
}

function writeChunks(db: Db, chipId: string, samples: Sample[]): void {
  for (let i = 0; i < samples.length; i += MAX_CHUNK_SAMPLES) {
    const part = samples.slice(i, i + MAX_CHUNK_SAMPLES);
    db.insert(sampleChunks)
      .values({ chipId, startTs: part[0].ts, endTs: part[part.length - 1].ts, n: part.length, data: encodeChunk(part) })
      .run();
  }
}

function foldChip(db: Db, chipId: string, fresh: Sample[]): void {
  fresh.sort((a, b) => a.ts - b.ts);
  const minTs = fresh[0].ts;
  const maxTs = fresh[fresh.length - 1].ts;
  const overlapping = db
    .select()
    .from(sampleChunks)
    .where(and(eq(sampleChunks.chipId, chipId), lte(sampleChunks.startTs, maxTs), gte(sampleChunks.endTs, minTs)))
    .all();
  let absorb = overlapping;
  if (absorb.length === 0) {
    const last = db.select().from(sampleChunks).where(eq(sampleChunks.chipId, chipId)).orderBy(desc(sampleChunks.startTs)).limit(1).get();
    // Slow chips trickle in a few samples per step: grow their last chunk instead of writing tiny ones.
    // Bounded re-encoding: the old chunk is at most 4x the new samples, so each sample is re-encoded
    // a few times at most however often the log is folded.
    if (last && last.endTs < minTs && last.n + fresh.length <= TARGET_CHUNK_SAMPLES && last.n <= 4 * fresh.length) absorb = [last];
  }
  let existing: Sample[] = [];
  for (const c of absorb) {
    existing = existing.concat(decodeChunk(c.data, chipId));
    db.delete(sampleChunks).where(and(eq(sampleChunks.chipId, chipId), eq(sampleChunks.startTs, c.startTs))).run();
  }
  writeChunks(db, chipId, existing.length ? mergeByTs(existing, fresh) : mergeByTs([], fresh));
}

/**
 * Fold the oldest log rows, up to about `maxSamples` samples (one step, one transaction), into
 * chunks. Returns the highest log id folded, or 0 when the log is empty. Small steps keep the
 * writer responsive: batches queued meanwhile are committed between steps.
 */
export function compactLog(db: Db, maxSamples = Number.POSITIVE_INFINITY): number {
  return db.transaction(() => {
    let cutoff = 0;
    let taken = 0;
    for (const r of db.select({ id: sampleLog.id, n: sampleLog.n }).from(sampleLog).orderBy(asc(sampleLog.id)).all()) {
      cutoff = r.id;
      taken += r.n;
      if (taken >= maxSamples) break;
    }
    if (cutoff === 0) return 0;
    const rows = db.select().from(sampleLog).where(lte(sampleLog.id, cutoff)).orderBy(asc(sampleLog.id)).all();
    const byChip = new Map<string, Sample[]>();
    for (const r of rows) {
      for (const entry of JSON.parse(r.data) as LogEntry[]) {
        for (const s of entry.f.samples) {
          if (entry.b) s.flags = { ...s.flags, backfill: true };
          const list = byChip.get(s.chipId);
          if (list) list.push(s);
          else byChip.set(s.chipId, [s]);
        }
      }
    }
    for (const [chipId, fresh] of byChip) foldChip(db, chipId, fresh);
    const maxId = rows[rows.length - 1].id;
    db.delete(sampleLog).where(lte(sampleLog.id, maxId)).run();
    return maxId;
  });
}

/** Samples waiting in the log and the age of the oldest row (ms). */
export function logBacklog(db: Db, now: number): { samples: number; oldestAgeMs: number } {
  const r = db.select({ n: sql<number>`coalesce(sum(${sampleLog.n}), 0)`, oldest: sql<number | null>`min(${sampleLog.receivedAt})` }).from(sampleLog).get();
  return { samples: r?.n ?? 0, oldestAgeMs: r?.oldest ? now - r.oldest : 0 };
}
