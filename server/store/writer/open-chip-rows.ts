/**
 * A chip's own 1-minute rollup rows of open hours (hour-seal.ts), kept up to date by each fold
 * step column-wise, and remembered between steps. A fold step that brings a chip a few seconds of
 * samples used to read the chip's open row back from the database, decode it into bucket objects,
 * merge and re-encode it: at 100,000 chips a step does that 100,000 times, for ~12 samples each.
 * Here the new samples are bucketed into reused columns (bucketizeInto), merged into the stored
 * row's columns and encoded, and the row's bytes are kept for the next step, which then reads
 * nothing. The fleet groups' rows, few and shared by many chips, still go through RollupBatch.
 *
 * Only this compactor writes a chip's open rows while they stay open; a row it remembers is
 * forgotten when the chip takes the batch path (`forget`), when a step's writes fail (`clear`), and
 * is never used once its hour is sealed (the layout then puts the chip's samples elsewhere).
 */
import type { Sample } from '../../../schema/sample.ts';
import type { EnergyChange } from '../../rollups/energy-pairs.ts';
import { bucketizeInto } from '../../rollups/bucketize-columns.ts';
import { decodeRollupColumns, encodeRollupColumns } from '../../rollups/rollup-codec.ts';
import { mergeColumns, RowColumns } from '../../rollups/rollup-columns.ts';
import { bucketStart, TIERS } from '../../rollups/rollup-fields.ts';
import type { HourSealer } from './hour-seal.ts';
import { ByteSlabs } from '../../codec/byte-slabs.ts';

const MINUTE = TIERS['1m'].bucketMs;

/** A chip's open row as last written: its start and its bytes. */
interface RememberedRow {
  rowStart: number;
  data: Buffer;
}

export class OpenChipRows {
  private readonly remembered = new Map<string, RememberedRow>();
  private readonly minutes = new RowColumns();
  private readonly stored = new RowColumns();
  private readonly merged = new RowColumns();
  /** The rows' bytes: a step's rows are replaced by the next step's, so their slabs go together. */
  private readonly slabs = new ByteSlabs();
  private readonly take = (n: number) => this.slabs.take(n);

  constructor(
    private readonly layout: Pick<HourSealer, 'hoursBefore' | 'rowStart'>,
    /** The stored 1-minute row of `key` starting at `rowStart`. */
    private readonly readRow: (key: string, rowStart: number) => Buffer | undefined,
    /** Stores it (run later, in the step's write transaction). */
    private readonly writeRow: (key: string, rowStart: number, data: Buffer) => void,
  ) {}

  /**
   * Merge one chip's new samples (ascending ts, unique, none stored yet) and the energy changes
   * they make into its open rows: decoded and encoded now, written by the queued `ops`. Returns
   * the chip's 1-minute buckets of them (valid until the next call), for its fleet group; or null,
   * having changed nothing, when a sample lies in an hour that is not open or an energy change
   * falls in a minute without new samples: the caller then takes the batch path.
   */
  add(chipId: string, samples: readonly Sample[], changes: readonly EnergyChange[], ops: (() => void)[]): RowColumns | null {
    if (samples.length === 0 || samples[0].ts < this.layout.hoursBefore(chipId)) return null;
    const m = this.minutes;
    bucketizeInto(samples, MINUTE, undefined, m, undefined, false);
    m.hasEnergy = true;
    for (const c of changes) {
      const start = bucketStart(c.ts, MINUTE);
      let j = 0;
      while (j < m.k && m.start[j] !== start) j++;
      if (j === m.k) return null;
      m.energyJ[j] += c.joules;
      m.energyPairs[j] += c.pairs;
    }
    // The buckets by open row: usually one, two when the samples cross a row's end.
    for (let from = 0; from < m.k; ) {
      const rowStart = this.layout.rowStart('1m', chipId, m.start[from]);
      let to = from + 1;
      while (to < m.k && this.layout.rowStart('1m', chipId, m.start[to]) === rowStart) to++;
      const known = this.remembered.get(chipId);
      const data = known !== undefined && known.rowStart === rowStart ? known.data : this.readRow(chipId, rowStart);
      const stored = data ? decodeRollupColumns(data, rowStart, MINUTE, this.stored) : null;
      const bytes = encodeRollupColumns(rowStart, MINUTE, mergeColumns(stored, m, from, to, this.merged), false, this.take);
      this.remembered.set(chipId, { rowStart, data: bytes });
      ops.push(() => this.writeRow(chipId, rowStart, bytes));
      from = to;
    }
    return m;
  }

  /** The chip's rows are written another way this step: what is remembered of them no longer holds. */
  forget(chipId: string): void {
    this.remembered.delete(chipId);
  }

  /** Drop the rows of hours sealed since (never used again: the chips' samples of those hours go elsewhere). */
  forgetSealed(): void {
    for (const [chipId, r] of this.remembered) if (r.rowStart < this.layout.hoursBefore(chipId)) this.remembered.delete(chipId);
  }

  /** A step's writes failed: nothing remembered holds. */
  clear(): void {
    this.remembered.clear();
  }
}
