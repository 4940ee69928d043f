/**
 * What folding one chip's logged samples into its stored chunks does, decided without I/O: which
 * samples are new (a (chip, ts) already stored wins over a logged copy), the chunks that replace
 * the ones they touch (split at UTC days, so each lies in one day partition, and at
 * MAX_CHUNK_SAMPLES), and the energy increments the new samples create or split. The fold writes
 * it; rollup reads use the same answer for the samples not folded yet.
 */
import type { Sample } from '../../../schema/sample.ts';
import { decodeChunk, encodeChunk } from '../chunk-codec.ts';
import { energyChanges, readings, type EnergyChange } from '../../rollups/energy-pairs.ts';
import { dayOf } from './partitions.ts';

/** A chunk below this many samples takes in the chip's next samples (as the SQLite compactor does). */
export const TARGET_CHUNK_SAMPLES = 600;
/** Chunks are split above this many samples. */
export const MAX_CHUNK_SAMPLES = 4096;

export interface StoredChunk {
  startTs: number;
  endTs: number;
  n: number;
  data: Buffer;
}

/** The stored chunks around a chip's logged samples [minTs, maxTs]. */
export interface ChipContext {
  /** Chunks with start <= maxTs and end >= minTs, ascending. */
  overlapping: StoredChunk[];
  /** The chunk ending last before minTs. */
  before?: StoredChunk;
  /** The chunk starting first after maxTs. */
  after?: StoredChunk;
}

export interface ChunkRow {
  startTs: number;
  endTs: number;
  n: number;
  data: Buffer;
}

export interface ChipFold {
  /** Samples at a ts not stored before, ascending. */
  added: Sample[];
  /** Energy changes (rollup deltas) that adding them makes. */
  energy: EnergyChange[];
  /** Start ts of the stored chunks the fold replaces. */
  remove: number[];
  /** Chunks to write. */
  write: ChunkRow[];
}

/**
 * Fold `fresh` (one chip's logged samples, ascending, unique ts) into `ctx`. With `chunks` false
 * only `added` and `energy` are worked out (a read of samples not folded yet).
 */
export function foldChip(chipId: string, fresh: readonly Sample[], ctx: ChipContext, chunks = true): ChipFold {
  const minTs = fresh[0].ts;
  let absorbed = ctx.overlapping;
  const before = ctx.before;
  // A small newest chunk of the same day takes in the new samples (no tiny chunks from trickles);
  // bounded so a sample is re-encoded about twice however often the log is folded.
  const absorbBefore =
    chunks && absorbed.length === 0 && before !== undefined && before.n + fresh.length <= TARGET_CHUNK_SAMPLES && before.n <= fresh.length && dayOf(before.startTs) === dayOf(minTs);
  if (absorbBefore) absorbed = [before];
  let existing: Sample[] = [];
  for (const c of absorbed) existing = existing.concat(decodeChunk(c.data, chipId));
  const seen = new Set(existing.map((s) => s.ts));
  const added = fresh.filter((s) => !seen.has(s.ts));
  if (added.length === 0) return { added, energy: [], remove: [], write: [] };

  // Energy: every stored reading from the predecessor of the first new one to the successor of the last.
  const stored = readings(existing);
  if (before && !absorbBefore) stored.unshift(...readings(decodeChunk(before.data, chipId)).slice(-1));
  if (ctx.after) stored.push(...readings(decodeChunk(ctx.after.data, chipId)).slice(0, 1));
  stored.sort((a, b) => a.ts - b.ts);
  const energy = energyChanges(stored, readings(added));
  if (!chunks) return { added, energy, remove: [], write: [] };

  const merged = existing.length === 0 ? added : existing.concat(added).sort((a, b) => a.ts - b.ts);
  return { added, energy, remove: absorbed.map((c) => c.startTs), write: splitIntoChunks(merged) };
}

/** Encoded chunks of ascending samples: cut at each UTC day and every MAX_CHUNK_SAMPLES. */
export function splitIntoChunks(samples: readonly Sample[]): ChunkRow[] {
  const out: ChunkRow[] = [];
  let i = 0;
  while (i < samples.length) {
    const dayEnd = dayOf(samples[i].ts) + 86_400_000;
    let j = i;
    while (j < samples.length && j - i < MAX_CHUNK_SAMPLES && samples[j].ts < dayEnd) j++;
    const part = samples.slice(i, j);
    out.push({ startTs: part[0].ts, endTs: part[part.length - 1].ts, n: part.length, data: encodeChunk(part) });
    i = j;
  }
  return out;
}

/** Merge by ts: `keep` wins on equal timestamps (stored over logged); result ascending. */
export function mergeByTs(keep: readonly Sample[], add: readonly Sample[]): Sample[] {
  const byTs = new Map<number, Sample>();
  for (const s of add) if (!byTs.has(s.ts)) byTs.set(s.ts, s);
  for (const s of keep) byTs.set(s.ts, s);
  return [...byTs.values()].sort((a, b) => a.ts - b.ts);
}
