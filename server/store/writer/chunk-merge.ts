/**
 * Merges a chip's small chunks once they are old. A fold writes each chip's new samples as a
 * chunk of their own, plain (not deflated) when smaller than TARGET_CHUNK_SAMPLES: at 1 Hz and a
 * fold every 20 s, chunks of 20–40 samples, which would compress poorly (~18 B a sample against
 * ~7 B at 600) and whose deflate costs more than their encoding.
 * Once chunks are MERGE_AFTER_MS old — no fold will touch them again in the usual course — runs of
 * adjacent ones are rewritten as one deflated chunk of up to TARGET_CHUNK_SAMPLES (a lone plain
 * chunk is deflated as it is): each sample is encoded once more, in its long-term chunk. Runs in
 * the compactor thread, between folds, one window of
 * chunk end times per pass, its writes in short transactions; readers see the old chunks or the
 * merged one, never both. The window start lives in memory: after a restart the passes walk the
 * stored chunks again from the oldest, merging what is left (merged chunks are only read).
 */
import type Database from 'better-sqlite3';
import { decodeChunk, encodeChunk, PLAIN_CHUNK_SQL } from '../chunk-codec.ts';
import { MAX_CHUNK_SAMPLES, TARGET_CHUNK_SAMPLES } from './compaction.ts';
import type { Sample } from '../../../schema/sample.ts';

/** Chunks whose newest sample is at least this old are merged. */
export const MERGE_AFTER_MS = 10 * 60_000;
/** One pass looks at the chunks ending within this span. */
const WINDOW_MS = 10 * 60_000;
/** Runs merged per write transaction (a few milliseconds of write lock each). */
const RUNS_PER_TRANSACTION = 200;

interface ChunkRef {
  chipId: string;
  startTs: number;
  n: number;
  /** 1 when stored plain (chunk-codec.ts): rewritten deflated even when it has no neighbour to merge with. */
  plain: number;
}

export class ChunkMerger {
  /** Chunks ending at or before this were looked at (null: not started; begins at the oldest). */
  private from: number | null = null;
  private readonly q;

  constructor(
    private readonly client: Database.Database,
    /** Runs each write transaction (the compactor takes a write turn around it). */
    private readonly aroundWrite: (write: () => void) => void = (write) => write(),
  ) {
    this.q = {
      oldest: client.prepare('SELECT min(end_ts) FROM sample_chunks').pluck(),
      window: client.prepare(`SELECT chip_id AS chipId, start_ts AS startTs, n, ${PLAIN_CHUNK_SQL} AS plain FROM sample_chunks WHERE end_ts > ? AND end_ts <= ? ORDER BY chip_id, start_ts`),
      data: client.prepare('SELECT data FROM sample_chunks WHERE chip_id = ? AND start_ts = ?').pluck(),
      remove: client.prepare('DELETE FROM sample_chunks WHERE chip_id = ? AND start_ts = ?'),
      insert: client.prepare('INSERT INTO sample_chunks (chip_id, start_ts, end_ts, n, data) VALUES (?, ?, ?, ?, ?)'),
    };
  }

  /** True when chunks old enough wait to be looked at. */
  due(now: number): boolean {
    return this.from === null || this.from < now - MERGE_AFTER_MS;
  }

  /**
   * One pass: the chunks ending in the next window, runs of adjacent small ones merged. Returns
   * how many chunks were replaced (0 when the window had none to merge).
   */
  pass(now: number): number {
    const cutoff = now - MERGE_AFTER_MS;
    if (this.from === null) {
      const oldest = this.q.oldest.get() as number | null;
      if (oldest === null) return 0;
      this.from = oldest - 1;
    }
    if (this.from >= cutoff) return 0;
    const to = Math.min(cutoff, this.from + WINDOW_MS);
    const runs = mergeRuns(this.q.window.all(this.from, to) as ChunkRef[]);
    let replaced = 0;
    for (let i = 0; i < runs.length; i += RUNS_PER_TRANSACTION) {
      const batch = runs.slice(i, i + RUNS_PER_TRANSACTION);
      // Read and encode outside the write lock; only this thread writes chunks, so they stay as read.
      const writes = batch.map((run) => this.merged(run));
      this.aroundWrite(() =>
        this.client.transaction(() => {
          for (const w of writes) {
            for (const c of w.run) this.q.remove.run(c.chipId, c.startTs);
            for (const row of w.rows) this.q.insert.run(w.run[0].chipId, row.startTs, row.endTs, row.n, row.data);
          }
        }).immediate(),
      );
      for (const w of writes) replaced += w.run.length;
    }
    this.from = to;
    return replaced;
  }

  /**
   * Every pass due at `now`, one after the other (a stopped hub's file measured as it will be
   * once merged; tests). Returns how many chunks were replaced.
   */
  mergeAll(now: number): number {
    let replaced = 0;
    // `from` stays null while the table is empty: nothing to merge then.
    while (this.due(now)) {
      replaced += this.pass(now);
      if (this.from === null) break;
    }
    return replaced;
  }

  private merged(run: ChunkRef[]): { run: ChunkRef[]; rows: { startTs: number; endTs: number; n: number; data: Buffer }[] } {
    const chipId = run[0].chipId;
    let samples: Sample[] = [];
    for (const c of run) samples = samples.concat(decodeChunk(this.q.data.get(chipId, c.startTs) as Buffer, chipId));
    const rows = [];
    for (let i = 0; i < samples.length; i += MAX_CHUNK_SAMPLES) {
      const part = samples.slice(i, i + MAX_CHUNK_SAMPLES);
      rows.push({ startTs: part[0].ts, endTs: part[part.length - 1].ts, n: part.length, data: encodeChunk(part) });
    }
    return { run, rows };
  }
}

/**
 * Runs to merge among chunks listed by chip and start: maximal sequences of a chip's consecutive
 * chunks (no chunk of the chip left out between them: the list holds every chunk of the window)
 * whose samples add up to at most TARGET_CHUNK_SAMPLES, two chunks or more, or one plain chunk
 * (to be deflated). Pure.
 */
export function mergeRuns(chunks: readonly ChunkRef[]): ChunkRef[][] {
  const runs: ChunkRef[][] = [];
  let run: ChunkRef[] = [];
  let n = 0;
  const close = () => {
    if (run.length >= 2 || (run.length === 1 && run[0].plain)) runs.push(run);
    run = [];
    n = 0;
  };
  for (const c of chunks) {
    if (run.length > 0 && (c.chipId !== run[0].chipId || n + c.n > TARGET_CHUNK_SAMPLES)) close();
    if (c.n >= TARGET_CHUNK_SAMPLES && !c.plain) continue;
    run.push(c);
    n += c.n;
  }
  close();
  return runs;
}
