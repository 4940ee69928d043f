/**
 * Folds the sample log into per-chip chunks: groups logged samples by chip, drops duplicates
 * (a (chip, ts) pair already stored wins), merges late samples into the chunks they overlap and
 * writes the rest as a new chunk per chip (old small chunks are merged later: chunk-merge.ts), and
 * updates the rollup tiers with what was added (an open hour's 1-minute buckets in rows of 10
 * minutes, the 1-hour tier only for sealed hours: hour-seal.ts) — in one write transaction, run
 * by the compactor thread. The folded log rows are deleted afterwards in small transactions of their own
 * (`deleteFolded`), so the write lock the writer's commits need is never held for long. Should the
 * process stop between the two, the next fold reads those rows again and adds nothing: every
 * sample is already stored, and rollups count only samples new to the chunks.
 */
import { and, asc, desc, eq, gt, gte, lte, sql } from 'drizzle-orm';
import type Database from 'better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { Sample } from '../../../schema/sample.ts';
import { foldState, sampleChunks, sampleLog } from '../../../schema/tables.ts';
import { decodeChunk, encodeChunk } from '../chunk-codec.ts';
import type { FoldedReading } from './writer-protocol.ts';
import { mergeByTs } from '../log-rows.ts';
import { LoggedRowsByChip } from './logged-rows-by-chip.ts';
import { energyChanges, readings, type EnergyReading } from '../../rollups/energy-pairs.ts';
import { RollupBatch } from '../../rollups/rollup-batch.ts';
import { ChipTails, type ChipTail } from './chip-tails.ts';
import { RollupRows } from './rollup-rows.ts';
import { HourSealer, SEAL_KEYS } from './hour-seal.ts';
import { OpenChipRows } from './open-chip-rows.ts';

/** Old chunks are merged up to this many samples (chunk-merge.ts). */
export const TARGET_CHUNK_SAMPLES = 600;
/** Chunks are split above this many samples. */
export const MAX_CHUNK_SAMPLES = 4096;

/** Drizzle over a better-sqlite3 connection, which the writes use directly. */
type Db = BetterSQLite3Database & { $client: Database.Database };

/** Writes decided while planning a fold, run together in one short write transaction. */
export type WriteOps = (() => void)[];

const lastOf = <T>(a: readonly T[]): T | undefined => a[a.length - 1];
/** A stored chunk's last energy reading. */
const lastReading = (data: Buffer, chipId: string): EnergyReading | undefined => lastOf(readings(decodeChunk(data, chipId)));

/**
 * Folds the sample log into chunks and keeps the rollup tiers up to date with what each fold
 * adds: new samples (duplicates of stored ones are dropped first) and the energy increments they
 * create or split. Owns the writer's memory of chip tails.
 */
export class Compactor {
  readonly tails = new ChipTails();
  /** Timing of the last step: planning (no lock held) and writing (write lock held). */
  lastStep = { planMs: 0, writeMs: 0, writes: 0, chips: 0 };
  /** The highest log id folded by this compactor (rows up to it are only waiting to be deleted). */
  private foldedUpTo = 0;
  /** Chips folded since the last `takeReadings()`. */
  private readonly touched = new Set<string>();
  private readonly rows: RollupRows;
  /** Open hours' 1-minute rows and the sealing of hours that are over (hour-seal.ts); the fold's rollup layout. */
  private readonly sealer: HourSealer;
  /** Each chip's own open rollup rows, merged column-wise and remembered between steps. */
  private readonly openRows: OpenChipRows;
  private readonly q;

  constructor(
    private readonly db: Db,
    /** Runs each write transaction (default: as is); the thread may raise its priority around it. */
    private readonly aroundWrite: (write: () => void) => void = (write) => write(),
    /** Keys an hour's sealing takes per write transaction (hour-seal.ts). */
    sealKeysPerBatch = SEAL_KEYS,
  ) {
    this.rows = new RollupRows(db);
    this.sealer = new HourSealer(db.$client, aroundWrite, Date.now(), sealKeysPerBatch);
    this.openRows = new OpenChipRows(
      this.sealer,
      (key, rowStart) => this.rows.read('1m', key, rowStart),
      (key, rowStart, data) => this.rows.write('1m', key, rowStart, data),
    );
    const chip = eq(sampleChunks.chipId, sql.placeholder('chipId'));
    this.q = {
      overlapping: db
        .select()
        .from(sampleChunks)
        .where(and(chip, lte(sampleChunks.startTs, sql.placeholder('maxTs')), gte(sampleChunks.endTs, sql.placeholder('minTs'))))
        .orderBy(asc(sampleChunks.startTs))
        .prepare(),
      after: db
        .select()
        .from(sampleChunks)
        .where(and(chip, gte(sampleChunks.startTs, sql.placeholder('ts'))))
        .orderBy(asc(sampleChunks.startTs))
        .limit(1)
        .prepare(),
      endingBefore: db
        .select()
        .from(sampleChunks)
        .where(and(chip, lte(sampleChunks.endTs, sql.placeholder('ts'))))
        .orderBy(desc(sampleChunks.endTs))
        .limit(1)
        .prepare(),
      // The writes run with the write lock held: plain statements, without the query builder's
      // per-call mapping (measured: 20,000 upserts in 41 ms against 105 ms).
      insert: db.$client.prepare('INSERT INTO sample_chunks (chip_id, start_ts, end_ts, n, data) VALUES (?, ?, ?, ?, ?)'),
      remove: db.$client.prepare('DELETE FROM sample_chunks WHERE chip_id = ? AND start_ts = ?'),
      markFolded: db
        .insert(foldState)
        .values({ id: 1, foldedLogId: sql.placeholder('upTo') })
        .onConflictDoUpdate({ target: foldState.id, set: { foldedLogId: sql`max(${foldState.foldedLogId}, excluded.folded_log_id)` } })
        .prepare(),
    };
  }

  /**
   * Fold the oldest log rows, up to about `maxSamples` samples (one step, one transaction), into
   * chunks and rollups. Returns the highest log id folded, or 0 when the log is empty. Small steps
   * keep the writer responsive: batches queued meanwhile are committed between steps.
   */
  compactLog(maxSamples = Number.POSITIVE_INFINITY): number {
    const { db } = this;
    const ops: WriteOps = [];
    try {
      // Plan under a read snapshot: parse, decode, merge, encode. Only this thread writes chunks
      // and rollups, so what it read stays true until its writes run.
      const t0 = performance.now();
      let chips: string[] = [];
      const maxId = db.transaction(() => this.plan(maxSamples, ops, (ids) => (chips = ids)));
      if (maxId === 0) return 0;
      // In the same transaction: a reader's snapshot holds the chunks and rollups of exactly the
      // log rows it says are folded.
      ops.push(() => this.q.markFolded.run({ upTo: maxId }));
      const t1 = performance.now();
      this.aroundWrite(() =>
        db.transaction(
          () => {
            for (const op of ops) op();
          },
          { behavior: 'immediate' },
        ),
      );
      this.lastStep = { planMs: Math.round(t1 - t0), writeMs: Math.round(performance.now() - t1), writes: ops.length, chips: chips.length };
      this.foldedUpTo = maxId;
      for (const chipId of chips) this.touched.add(chipId);
      return maxId;
    } catch (err) {
      // Nothing was written: what the tails and open rows learned while planning is void.
      this.tails.clear();
      this.openRows.clear();
      throw err;
    }
  }

  /**
   * Deletes folded log rows, at most `maxRows` of them, in one short write transaction. Returns
   * how many went (0 when none is left).
   */
  deleteFolded(maxRows = Number.POSITIVE_INFINITY): number {
    if (this.foldedUpTo === 0) return 0;
    const { db } = this;
    const first = db.select({ id: sql<number | null>`min(${sampleLog.id})` }).from(sampleLog).get()?.id;
    if (first == null || first > this.foldedUpTo) return 0;
    const upTo = Math.min(this.foldedUpTo, first + maxRows - 1);
    let deleted = 0;
    this.aroundWrite(() => (deleted = db.transaction(() => db.delete(sampleLog).where(lte(sampleLog.id, upTo)).run().changes, { behavior: 'immediate' })));
    return deleted;
  }

  /**
   * The newest stored energy reading of each chip folded since the last call, as
   * [chipId, ts, joules] (chips with none left out), for readers pairing the unfolded samples.
   */
  takeReadings(): FoldedReading[] {
    const out: FoldedReading[] = [];
    for (const chipId of this.touched) {
      const r = this.tails.get(chipId)?.reading;
      if (r) out.push([chipId, r.ts, r.e]);
    }
    this.touched.clear();
    return out;
  }

  /**
   * Seal the hours of the rollup tiers that are over at `now` (hour-seal.ts), a batch of keys at a
   * time until `budgetMs` is spent or nothing is due. Returns the keys sealed.
   */
  sealHours(now: number, budgetMs = Number.POSITIVE_INFINITY): number {
    const sealed = this.sealer.run(now, budgetMs);
    if (sealed > 0) this.openRows.forgetSealed();
    return sealed;
  }

  /** Whether an hour waits to be sealed at `now` (or a pass is under way). */
  sealDue(now: number): boolean {
    return this.sealer.due(now);
  }

  /** Log rows after this id wait to be folded. */
  get foldedLogId(): number {
    return this.foldedUpTo;
  }

  private plan(maxSamples: number, ops: WriteOps, chipsSeen: (chipIds: string[]) => void): number {
    const { db } = this;
    let cutoff = 0;
    let taken = 0;
    const unfolded = gt(sampleLog.id, this.foldedUpTo);
    for (const r of db.select({ id: sampleLog.id, n: sampleLog.n }).from(sampleLog).where(unfolded).orderBy(asc(sampleLog.id)).all()) {
      cutoff = r.id;
      taken += r.n;
      if (taken >= maxSamples) break;
    }
    if (cutoff === 0) return 0;
    const rows = db.select().from(sampleLog).where(and(unfolded, lte(sampleLog.id, cutoff))).orderBy(asc(sampleLog.id)).all();
    const byChip = new LoggedRowsByChip();
    for (const r of rows) byChip.addLogRow(r.data);
    chipsSeen(byChip.chipIds());
    const batch = new RollupBatch(this.sealer);
    // One chip's samples at a time: a step holds the log rows' bytes and where each chip's rows
    // lie in them, never an object per sample of the whole step (a million of them at 10,000
    // chips: ~1 GB of heap, and the mark-compacts that trace them).
    const byId: { chipId: string; writes: WriteOps }[] = [];
    byChip.forEachChip((chipId, samples) => {
      const writes: WriteOps = [];
      this.foldChip(chipId, samples, batch, writes);
      byId.push({ chipId, writes });
    });
    // Planned in log order (the chips of a log record follow each other, its bytes still in the
    // CPU's cache), written in chip id order: the inserts walk the chunks' and rollups' indexes
    // in order, each page once while SQLite's cache holds it, and neighbouring chips' chunks lie
    // together in the table for the merge, which reads them in the same order.
    byId.sort((a, b) => (a.chipId < b.chipId ? -1 : a.chipId > b.chipId ? 1 : 0));
    for (const c of byId) for (const w of c.writes) ops.push(w);
    this.rows.apply(batch, ops, (d) => this.sealer.isOpenRow(d.tier, d.key, d.rowStart));
    return rows[rows.length - 1].id;
  }

  private foldChip(chipId: string, fresh: Sample[], batch: RollupBatch, ops: WriteOps): void {
    const { db } = this;
    fresh.sort((a, b) => a.ts - b.ts);
    const minTs = fresh[0].ts;
    const maxTs = fresh[fresh.length - 1].ts;
    const tail = this.tails.get(chipId) ?? this.tailFromStore(chipId, minTs);
    // Nothing stored at or after minTs when the chip's newest stored sample is older.
    // Samples after the chip's newest stored one (the usual case) become a chunk of their own: the
    // newest chunk is not read back and re-encoded to take them in. Small chunks are merged once
    // they are old (chunk-merge.ts), each sample encoded once more, in its long-term chunk.
    const absorb = tail && tail.latestTs < minTs ? [] : this.q.overlapping.all({ chipId, minTs, maxTs });
    let existing: Sample[] = [];
    for (const c of absorb) {
      existing = existing.concat(decodeChunk(c.data, chipId));
      ops.push(() => this.q.remove.run(chipId, c.startTs));
    }
    // Only samples at a new ts count (a stored sample wins over a resent one).
    const seen = new Set(existing.map((s) => s.ts));
    const added: Sample[] = [];
    for (const s of fresh) {
      if (seen.has(s.ts)) continue;
      seen.add(s.ts);
      added.push(s);
    }
    // Usually the new samples follow the stored ones: append; otherwise interleave.
    const merged = existing.length === 0 ? added : added.length === 0 || lastOf(existing)!.ts < added[0].ts ? existing.concat(added) : mergeByTs(existing, added);
    for (let i = 0; i < merged.length; i += MAX_CHUNK_SAMPLES) {
      const part = merged.slice(i, i + MAX_CHUNK_SAMPLES);
      // A chunk that chunk-merge.ts will rewrite goes plain: it is deflated once, when merged.
      const row = { chipId, startTs: part[0].ts, endTs: part[part.length - 1].ts, n: part.length, data: encodeChunk(part, part.length < TARGET_CHUNK_SAMPLES) };
      ops.push(() => this.q.insert.run(row.chipId, row.startTs, row.endTs, row.n, row.data));
    }
    if (added.length === 0) return;

    // Energy: the stored readings around the new ones, then the pairs the new ones make or split.
    const stored = readings(existing);
    let laterExists = existing.length > 0 && lastOf(existing)!.ts > maxTs;
    if (tail && tail.latestTs < minTs) {
      if (tail.reading && !(stored.length && stored[0].ts < minTs)) stored.unshift(tail.reading);
    } else {
      if (!stored.some((r) => r.ts < minTs)) {
        const before = this.readingBefore(chipId, minTs);
        if (before) stored.unshift(before);
      }
      const next = this.q.after.get({ chipId, ts: maxTs + 1 });
      if (next) {
        laterExists = true;
        if (!stored.some((r) => r.ts > maxTs)) {
          const first = readings(decodeChunk(next.data, chipId))[0];
          if (first) stored.push(first);
        }
      }
      stored.sort((a, b) => a.ts - b.ts);
    }
    const freshReadings = readings(added);
    const keys = this.rows.keysOf(chipId);
    const changes = energyChanges(stored, freshReadings);
    // The chip's own open row directly, its fleet group's through the batch; else all through the batch.
    const minutes = this.openRows.add(chipId, added, changes, ops);
    if (minutes) batch.addMinuteColumns(keys.slice(1), minutes);
    else {
      this.openRows.forget(chipId);
      batch.addChip(keys, added, changes);
    }

    if (!laterExists) {
      const all = stored.concat(freshReadings).sort((a, b) => a.ts - b.ts);
      this.tails.set(chipId, { latestTs: Math.max(maxTs, tail?.latestTs ?? 0, lastOf(merged)!.ts), reading: lastOf(all) ?? tail?.reading ?? null });
    }
  }

  /**
   * A chip's tail read from its newest chunk, for a chip this compactor has not folded yet (the
   * first fold after a start meets every chip so): one indexed read instead of three. A chip
   * with no chunk has an empty tail. Undefined when the newest chunk reaches `minTs`: the fold
   * then reads the chunks it overlaps.
   */
  private tailFromStore(chipId: string, minTs: number): ChipTail | undefined {
    const newest = this.q.endingBefore.get({ chipId, ts: Number.MAX_SAFE_INTEGER });
    if (newest === undefined) return { latestTs: Number.NEGATIVE_INFINITY, reading: null };
    if (newest.endTs >= minTs) return undefined;
    return { latestTs: newest.endTs, reading: lastReading(newest.data, chipId) ?? null };
  }

  /** The chip's stored energy reading just before `ts` (from the chunk ending before it). */
  private readingBefore(chipId: string, ts: number): EnergyReading | undefined {
    const prev = this.q.endingBefore.get({ chipId, ts: ts - 1 });
    return prev ? lastReading(prev.data, chipId) : undefined;
  }
}

/** A log row as the backlog counts it. */
export interface LoggedRow {
  id: number;
  receivedAt: number;
  n: number;
}

/**
 * Samples waiting in the log past what is folded, and the age of the oldest such row, kept up to
 * date from the rows logged since the last look (`newRows(afterId)`: a few rows a tick) instead of
 * summing every unfolded row each time: at 1 Hz the log holds 20 s of rows, and their summing
 * read them all four times a second.
 */
export class LogBacklog {
  /** Unfolded rows seen so far, in id order (from `head`: the folded ones are dropped lazily). */
  private rows: LoggedRow[] = [];
  private head = 0;
  private samples = 0;
  private seenId: number;

  constructor(
    private readonly newRows: (afterId: number) => LoggedRow[],
    foldedLogId: number,
  ) {
    this.seenId = foldedLogId;
  }

  /** The backlog at `now`, past `foldedLogId` (the rows up to it are forgotten). */
  at(now: number, foldedLogId: number): { samples: number; oldestAgeMs: number } {
    // Rows folded before this look were never seen: they are not asked for.
    this.seenId = Math.max(this.seenId, foldedLogId);
    for (const r of this.newRows(this.seenId)) {
      this.rows.push(r);
      this.samples += r.n;
      this.seenId = r.id;
    }
    while (this.head < this.rows.length && this.rows[this.head].id <= foldedLogId) this.samples -= this.rows[this.head++].n;
    if (this.head > 1024 && this.head * 2 > this.rows.length) {
      this.rows = this.rows.slice(this.head);
      this.head = 0;
    }
    const oldest = this.rows[this.head];
    return { samples: this.samples, oldestAgeMs: oldest ? now - oldest.receivedAt : 0 };
  }
}

/** The log rows after `afterId`, oldest first (their id, commit time and sample count). */
export function loggedRowsAfter(db: Db): (afterId: number) => LoggedRow[] {
  const q = db
    .select({ id: sampleLog.id, receivedAt: sampleLog.receivedAt, n: sampleLog.n })
    .from(sampleLog)
    .where(gt(sampleLog.id, sql.placeholder('afterId')))
    .orderBy(asc(sampleLog.id))
    .prepare();
  return (afterId) => q.all({ afterId });
}
