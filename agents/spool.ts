/**
 * The agent's bounded on-disk spool of unacknowledged batches. Every batch is appended to a
 * segment file (JSON lines) before it is sent and stays until the hub acknowledges it, so
 * batches survive a hub outage and an agent restart. Fully acknowledged segments are deleted.
 * When the spool exceeds its size limit the oldest segment is dropped and counted (never
 * silently). With no directory the spool lives in memory only (same rules, bounded by count).
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sample } from '../schema/sample.ts';
import type { WorkReport } from '../schema/work.ts';
import type { Logger } from '../common/logger.ts';
import { SpoolLock } from './spool-lock.ts';

export interface SpoolRecord {
  seq: number;
  /** When the agent produced the batch (ms), to tell live data from backfill. */
  producedAt: number;
  samples: Sample[];
  /** Work counters and job attribution sent with the batch (absent in segments written before it existed). */
  work?: WorkReport[];
}

export interface SpoolOptions {
  /** Directory for segment files, or null for a memory-only spool. */
  dir: string | null;
  /** Size limit of the spool on disk (bytes). */
  maxBytes: number;
  /** Size limit of a memory-only spool (batches). */
  maxBatches: number;
  /** Batches per segment file. */
  segmentBatches: number;
  log: Logger;
}

interface Segment {
  firstSeq: number;
  lastSeq: number;
  file: string | null;
  bytes: number;
  /** Unacknowledged records in this segment. */
  open: number;
  /** Records kept in memory (always for memory-only spools; the newest segment otherwise). */
  records: SpoolRecord[] | null;
}

const STATE_FILE = 'state.json';
const MEMORY_CACHE_SEGMENTS = 2;

export class Spool {
  private readonly segments: Segment[] = [];
  private ackedUpTo = -1;
  private readonly ackedAbove = new Set<number>();
  private nextSeqValue = 0;
  private stateDirty = false;
  private lastStateWrite = 0;
  private lock: SpoolLock | null = null;
  /** The last segment read back from disk (resends walk one segment at a time). */
  private diskCache: { file: string; records: SpoolRecord[] } | null = null;
  readonly dropped = { batches: 0, samples: 0 };
  /** Lines in segment files that could not be read back (e.g. cut by a crash). */
  corruptLines = 0;

  constructor(private readonly opts: SpoolOptions) {
    if (opts.dir) this.load(opts.dir);
  }

  get nextSeq(): number {
    return this.nextSeqValue;
  }

  /** Unacknowledged batches. */
  get pendingBatches(): number {
    return this.segments.reduce((n, s) => n + s.open, 0);
  }

  get bytes(): number {
    return this.segments.reduce((n, s) => n + s.bytes, 0);
  }

  isAcked(seq: number): boolean {
    return seq <= this.ackedUpTo || this.ackedAbove.has(seq);
  }

  /** Store a new batch (with the work reports that go with it, if any); returns it with its sequence number. */
  append(samples: Sample[], producedAt: number, work?: WorkReport[]): SpoolRecord {
    const rec: SpoolRecord = { seq: this.nextSeqValue++, producedAt, samples, ...(work?.length ? { work } : {}) };
    const line = JSON.stringify(rec) + '\n';
    let seg = this.segments.at(-1);
    // Only the newest, in-memory segment is appended to; segments read back from disk stay as they are.
    if (!seg || !seg.records || seg.lastSeq - seg.firstSeq + 1 >= this.opts.segmentBatches) seg = this.newSegment(rec.seq);
    if (seg.file) appendFileSync(seg.file, line);
    seg.records?.push(rec);
    seg.lastSeq = rec.seq;
    seg.bytes += Buffer.byteLength(line);
    seg.open++;
    this.enforceLimit();
    return rec;
  }

  /** Mark a batch acknowledged (or given up); deletes segments that are fully acknowledged. */
  ack(seq: number): boolean {
    if (this.isAcked(seq)) return false;
    const seg = this.segments.find((s) => seq >= s.firstSeq && seq <= s.lastSeq);
    if (!seg) return false;
    this.ackedAbove.add(seq);
    while (this.ackedAbove.delete(this.ackedUpTo + 1)) this.ackedUpTo++;
    seg.open--;
    if (seg.records) {
      const i = seg.records.findIndex((r) => r.seq === seq);
      if (i >= 0) seg.records.splice(i, 1);
    }
    if (seg.open === 0 && seg !== this.segments.at(-1)) this.removeSegment(seg);
    this.stateDirty = true;
    this.maybeWriteState(false);
    return true;
  }

  /** Up to `n` unacknowledged batches with seq > afterSeq, in order (read from disk as needed). */
  unackedAfter(afterSeq: number, n: number): SpoolRecord[] {
    const out: SpoolRecord[] = [];
    for (const seg of this.segments) {
      if (out.length >= n) break;
      if (seg.lastSeq <= afterSeq || seg.open === 0) continue;
      for (const r of this.recordsOf(seg)) {
        if (r.seq > afterSeq && !this.isAcked(r.seq)) out.push(r);
        if (out.length >= n) break;
      }
    }
    return out;
  }

  close(): void {
    this.maybeWriteState(true);
    this.lock?.release();
  }

  private newSegment(firstSeq: number): Segment {
    const dir = this.opts.dir;
    const seg: Segment = { firstSeq, lastSeq: firstSeq - 1, file: dir ? join(dir, `seg-${String(firstSeq).padStart(12, '0')}.jsonl`) : null, bytes: 0, open: 0, records: [] };
    // Older segments drop their in-memory copy (they stay on disk) to keep the agent small.
    const prev = this.segments.at(-1);
    if (prev && prev.open === 0) this.removeSegment(prev);
    this.segments.push(seg);
    if (dir) {
      const cached = this.segments.filter((s) => s.records);
      for (const s of cached.slice(0, Math.max(0, cached.length - MEMORY_CACHE_SEGMENTS))) s.records = null;
    }
    return seg;
  }

  private recordsOf(seg: Segment): SpoolRecord[] {
    if (seg.records) return seg.records;
    if (this.diskCache?.file !== seg.file) this.diskCache = { file: seg.file!, records: this.readSegment(seg.file!) };
    return this.diskCache.records.filter((r) => r.seq >= seg.firstSeq && r.seq <= seg.lastSeq);
  }

  private readSegment(file: string, countCorrupt = false): SpoolRecord[] {
    if (!existsSync(file)) return [];
    const out: SpoolRecord[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const r = JSON.parse(line) as SpoolRecord;
        if (Number.isInteger(r.seq) && Array.isArray(r.samples)) {
          // `work` is optional (older segments have none); anything but an array is left out.
          if (r.work !== undefined && !Array.isArray(r.work)) delete r.work;
          out.push(r);
        } else if (countCorrupt) this.corruptLines++;
      } catch {
        if (countCorrupt) this.corruptLines++;
      }
    }
    return out;
  }

  private removeSegment(seg: Segment): void {
    const i = this.segments.indexOf(seg);
    if (i >= 0) this.segments.splice(i, 1);
    if (seg.file && existsSync(seg.file)) unlinkSync(seg.file);
    if (this.diskCache?.file === seg.file) this.diskCache = null;
  }

  private enforceLimit(): void {
    const overLimit = () => (this.opts.dir ? this.bytes > this.opts.maxBytes : this.pendingBatches > this.opts.maxBatches);
    while (this.segments.length > 1 && overLimit()) {
      const oldest = this.segments[0];
      const lost = this.recordsOf(oldest).filter((r) => !this.isAcked(r.seq));
      this.dropped.batches += lost.length;
      this.dropped.samples += lost.reduce((n, r) => n + r.samples.length, 0);
      for (const r of lost) this.ackedAbove.add(r.seq);
      while (this.ackedAbove.delete(this.ackedUpTo + 1)) this.ackedUpTo++;
      this.removeSegment(oldest);
      this.opts.log.warn('spool full: dropped the oldest unacknowledged batches', { batches: lost.length, droppedTotal: this.dropped.batches });
      this.stateDirty = true;
    }
    // A memory-only spool with one huge segment: drop its oldest records.
    if (!this.opts.dir) {
      const seg = this.segments[0];
      while (seg && seg.records && seg.open > this.opts.maxBatches) {
        const r = seg.records.shift()!;
        this.dropped.batches++;
        this.dropped.samples += r.samples.length;
        seg.open--;
        this.ackedAbove.add(r.seq);
        while (this.ackedAbove.delete(this.ackedUpTo + 1)) this.ackedUpTo++;
      }
    }
  }

  private maybeWriteState(force: boolean): void {
    const dir = this.opts.dir;
    if (!dir || !this.stateDirty) return;
    const now = Date.now();
    if (!force && now - this.lastStateWrite < 1000) return;
    const tmp = join(dir, `${STATE_FILE}.tmp`);
    writeFileSync(tmp, JSON.stringify({ ackedUpTo: this.ackedUpTo, ackedAbove: [...this.ackedAbove], dropped: this.dropped, nextSeq: this.nextSeqValue }));
    renameSync(tmp, join(dir, STATE_FILE));
    this.stateDirty = false;
    this.lastStateWrite = now;
  }

  private load(dir: string): void {
    mkdirSync(dir, { recursive: true });
    this.lock = SpoolLock.acquire(dir);
    const statePath = join(dir, STATE_FILE);
    if (existsSync(statePath)) {
      try {
        const st = JSON.parse(readFileSync(statePath, 'utf8'));
        this.ackedUpTo = st.ackedUpTo ?? -1;
        for (const s of st.ackedAbove ?? []) this.ackedAbove.add(s);
        Object.assign(this.dropped, st.dropped ?? {});
        this.nextSeqValue = st.nextSeq ?? this.ackedUpTo + 1;
      } catch {
        this.opts.log.warn('spool state file unreadable; resending everything spooled', { dir });
      }
    }
    const files = readdirSync(dir).filter((f) => /^seg-\d+\.jsonl$/.test(f)).sort();
    for (const f of files) {
      const file = join(dir, f);
      const recs = this.readSegment(file, true);
      const open = recs.filter((r) => !this.isAcked(r.seq)).length;
      if (recs.length === 0 || open === 0) {
        unlinkSync(file);
        continue;
      }
      this.segments.push({ firstSeq: recs[0].seq, lastSeq: recs.at(-1)!.seq, file, bytes: statSync(file).size, open, records: null });
      this.nextSeqValue = Math.max(this.nextSeqValue, recs.at(-1)!.seq + 1);
    }
    this.nextSeqValue = Math.max(this.nextSeqValue, this.ackedUpTo + 1);
    if (this.pendingBatches > 0) this.opts.log.info('spool has unacknowledged batches from before; they will be resent', { batches: this.pendingBatches, dir });
  }
}
