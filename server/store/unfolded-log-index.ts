/**
 * The index of unfolded log rows: samples committed to the sample log but not yet folded into
 * chunks, which reads must see at once. Only an index is held in memory — which log rows are unfolded, how many samples each
 * holds, and which rows each chip has samples in; the samples themselves are read back from the
 * log rows when a read asks for them (on the reader's own connection, inside its snapshot).
 * At full ingest the log holds a few hundred thousand samples: keeping their records in memory
 * as well had cost ~200 MB of peak RSS (their bytes, and ~10,000 record objects with their
 * strings that every mark-compact traced).
 * Rows leave the index when the compactor reports them folded.
 */
import type { Sample } from '../../schema/sample.ts';
import type { EnergyReading } from '../rollups/energy-pairs.ts';
import { chipEntries, isSampleRecords, readSampleRecords, recordsNaming } from './sample-records.ts';
import { loggedSamples, type LogRow, type LogRowsReader } from './log-rows.ts';
import type { FoldedReading } from './writer/writer-protocol.ts';

/** Up to this many chips, a read fetches just their log rows by id; more, it scans the range. */
const FETCH_BY_ID_CHIPS = 16;

/**
 * Ascending unique ids, each with a count when `counts` is kept, and a consumed prefix (before
 * `head`) trimmed now and then.
 */
class IdList {
  ids: number[] = [];
  head = 0;

  constructor(private readonly counts: number[] | null = null) {}

  get empty(): boolean {
    return this.head === this.ids.length;
  }

  get last(): number {
    return this.ids[this.ids.length - 1];
  }

  /** Add `n` to the id's count, adding the id if new (usually the largest yet). */
  add(id: number, n = 0): void {
    const { ids } = this;
    const { counts } = this;
    if (this.empty || id > this.last) {
      ids.push(id);
      counts?.push(n);
      return;
    }
    const at = this.indexOf(id);
    if (ids[at] === id) {
      if (counts) counts[at] += n;
    } else {
      ids.splice(at, 0, id);
      counts?.splice(at, 0, n);
    }
  }

  /** Drop the ids <= upTo; returns the sum of their counts (0 without counts). */
  dropThrough(upTo: number): number {
    const { ids, counts } = this;
    let i = this.head;
    let n = 0;
    for (; i < ids.length && ids[i] <= upTo; i++) if (counts) n += counts[i];
    this.head = i;
    // Drop the consumed prefix once it is at least half the array (amortized O(1) per id).
    if (i * 2 >= ids.length) {
      ids.splice(0, i);
      counts?.splice(0, i);
      this.head = 0;
    }
    return n;
  }

  /** The index of the first id >= `id` at or after head. */
  private indexOf(id: number): number {
    let lo = this.head;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ids[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** A chip's unfolded log rows, and a bound on its samples in them: none is older than `earliest` (partial folds do not raise it). */
class ChipRows extends IdList {
  earliest = Infinity;
}

/**
 * What the index needs of a batch's samples, as columns: chip ids and timestamps (-Infinity:
 * unknown). Plain arrays: a small typed array per batch costs more to make and to sweep.
 */
export class SampleKeys {
  constructor(
    readonly chipIds: readonly string[],
    readonly ts: readonly number[],
  ) {}

  static of(samples: readonly { chipId: string; ts?: number }[]): SampleKeys {
    const n = samples.length;
    const chipIds = new Array<string>(n);
    const ts = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      chipIds[i] = samples[i].chipId;
      ts[i] = samples[i].ts ?? -Infinity;
    }
    return new SampleKeys(chipIds, ts);
  }

  get length(): number {
    return this.chipIds.length;
  }
}

export class UnfoldedLogIndex {
  /** Unfolded log rows, ascending, with the samples each holds. */
  private readonly rows = new IdList([]);
  /** The unfolded log rows each chip has samples in (one map lookup a sample: at 100,000 chips a second map for the bound cost as much again). */
  private readonly byChip = new Map<string, ChipRows>();
  private count = 0;
  private reportedUpTo = 0;
  /** Newest energy reading of each chip among samples already folded (pairs the first recent one). */
  private readonly foldedEnergy = new Map<string, EnergyReading>();

  /** Samples held in unfolded log rows. */
  get size(): number {
    return this.count;
  }

  /** Index samples committed in log row `logId` (a row may hold several calls' samples). */
  add(logId: number, keys: SampleKeys): void {
    const { chipIds, ts } = keys;
    this.rows.add(logId, chipIds.length);
    this.count += chipIds.length;
    let prev: string | undefined;
    let list: ChipRows | undefined;
    for (let i = 0; i < chipIds.length; i++) {
      const chipId = chipIds[i];
      if (chipId !== prev) {
        prev = chipId;
        list = this.byChip.get(chipId);
        if (!list) this.byChip.set(chipId, (list = new ChipRows()));
        list.add(logId);
      }
      if (ts[i] < list!.earliest) list!.earliest = ts[i];
    }
  }

  /**
   * Forget the log rows with id <= upToLogId (now in chunks), and take the folded chips' newest
   * energy readings as the compactor reports them.
   */
  compacted(upToLogId: number, readings: readonly FoldedReading[] = []): void {
    this.reportedUpTo = Math.max(this.reportedUpTo, upToLogId);
    for (const [chipId, ts, e] of readings) {
      const known = this.foldedEnergy.get(chipId);
      if (!known || ts > known.ts) this.foldedEnergy.set(chipId, { ts, e });
    }
    this.count -= this.rows.dropThrough(upToLogId);
    for (const [chip, list] of this.byChip) {
      list.dropThrough(upToLogId);
      if (list.empty) this.byChip.delete(chip);
    }
  }

  /** The highest log id reported folded so far. */
  get foldedUpTo(): number {
    return this.reportedUpTo;
  }

  /** No unfolded sample of the chip is older than this (Infinity: it has none). */
  earliestUnfolded(chipId: string): number {
    return this.byChip.get(chipId)?.earliest ?? Infinity;
  }

  /** Chips with samples not yet folded. */
  chips(): IterableIterator<string> {
    return this.byChip.keys();
  }

  /** The chip's latest folded energy reading, when this process saw it folded. */
  energyBefore(chipId: string): EnergyReading | undefined {
    return this.foldedEnergy.get(chipId);
  }

  /**
   * The unfolded samples of the wanted chips (all chips when `wanted` is null), read through
   * `read`, per chip in log order (not sorted by ts; a resent sample may appear twice).
   */
  samples(read: LogRowsReader, wanted: ReadonlySet<string> | null): Map<string, Sample[]> {
    const out = new Map<string, Sample[]>();
    for (const _ of this.readInto(read, wanted, out, read.foldedThrough()));
    return out;
  }

  /**
   * As `samples`, into `out`, yielding after each log row so that a caller may pause there.
   * `foldedThrough` is the reader's snapshot's fold state: rows up to it are left out even where
   * this index still lists them (their fold committed, its report not handled yet). Which rows it
   * reads is fixed when it starts: rows folded meanwhile are still read (a caller that pauses
   * reads inside a transaction, whose snapshot still holds them unfolded).
   */
  *readInto(read: LogRowsReader, wanted: ReadonlySet<string> | null, out: Map<string, Sample[]>, foldedThrough: number): Generator<void> {
    const ids = new Set<number>();
    for (const chipId of wanted ?? this.byChip.keys()) {
      const list = this.byChip.get(chipId);
      if (list) for (let i = list.head; i < list.ids.length; i++) if (list.ids[i] > foldedThrough) ids.add(list.ids[i]);
    }
    if (ids.size === 0) return;
    const keep = wanted ? (chipId: string) => wanted.has(chipId) : () => true;
    const push = (s: Sample) => {
      const list = out.get(s.chipId);
      if (list) list.push(s);
      else out.set(s.chipId, [s]);
    };
    const sorted = [...ids].sort((a, b) => a - b);
    // A few chips: just their rows, by id (a chip's rows are a fraction of the log when many
    // agents write), and in each row just the records that name them. More: one scan of the
    // range, skipping rows none of them is in.
    const few = wanted !== null && wanted.size <= FETCH_BY_ID_CHIPS;
    const rows = few ? byIds(read, sorted) : inRange(read, sorted, ids);
    const entries = few ? chipEntries(wanted) : null;
    for (const row of rows) {
      const { data } = row;
      if (typeof data !== 'string' && isSampleRecords(data)) {
        for (const record of entries ? recordsNaming(data, entries) : readSampleRecords(data)) {
          if (!record.strings.some(keep)) continue;
          record.forEachRow((chipId, at) => {
            if (keep(chipId)) push(record.sampleAt(at));
          });
        }
      } else for (const s of loggedSamples(data)) if (keep(s.chipId)) push(s);
      yield;
    }
  }
}

function* byIds(read: LogRowsReader, ids: readonly number[]): Generator<LogRow> {
  for (const id of ids) {
    const row = read.byId(id);
    if (row) yield row;
  }
}

function* inRange(read: LogRowsReader, sorted: readonly number[], ids: ReadonlySet<number>): Generator<LogRow> {
  for (const row of read.range(sorted[0], sorted[sorted.length - 1])) if (ids.has(row.id)) yield row;
}
