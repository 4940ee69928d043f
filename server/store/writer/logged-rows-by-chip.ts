/**
 * The samples of a fold step's log rows, grouped by chip without building them: for each chip,
 * where its rows lie in the step's sample records (record, row offset). A chip's samples are
 * built only when the fold reaches that chip, and dropped after, so a step's heap holds the log
 * rows' bytes and two small integers per sample, not an object per sample. Log rows written as
 * JSON text by earlier versions are parsed into samples at once (only old databases have them).
 */
import type { Sample } from '../../../schema/sample.ts';
import { loggedSamples } from '../log-rows.ts';
import { isSampleRecords, readSampleRecords, type SampleRecord } from '../sample-records.ts';

interface ChipRows {
  chipId: string;
  at: number[];
}

export class LoggedRowsByChip {
  private readonly records: SampleRecord[] = [];
  /** Per chip: its id (the one copy the step's records share) and, in log order, record index and row offset, flat. */
  private readonly rows = new Map<string, ChipRows>();
  /** Per chip, samples of JSON log rows. */
  private readonly parsed = new Map<string, Sample[]>();

  /** Add one log row's samples. */
  addLogRow(data: Uint8Array | string): void {
    if (data.length === 0) return;
    if (typeof data !== 'string' && isSampleRecords(data)) {
      for (const r of readSampleRecords(data)) {
        const ri = this.records.push(r) - 1;
        // Each of the record's chips looked up once. The record then names it with the step's
        // copy of its id: a step keeps ~60,000 records at 10,000 chips, and their own copies
        // (one string per chip and record) took ~50 MB of the compactor's heap.
        const lists: (number[] | undefined)[] = [];
        r.forEachRow((chipId, row, chip) => {
          let list = lists[chip];
          if (list === undefined) {
            let known = this.rows.get(chipId);
            if (known === undefined) this.rows.set(chipId, (known = { chipId, at: [] }));
            else r.strings[chip] = known.chipId;
            list = lists[chip] = known.at;
          }
          list.push(ri, row);
        });
      }
      return;
    }
    for (const s of loggedSamples(data)) {
      const list = this.parsed.get(s.chipId);
      if (list) list.push(s);
      else this.parsed.set(s.chipId, [s]);
      if (!this.rows.has(s.chipId)) this.rows.set(s.chipId, { chipId: s.chipId, at: [] });
    }
  }

  chipIds(): string[] {
    return [...this.rows.keys()];
  }

  /** Each chip once, with its samples: those of JSON rows first, then the records' in log order. */
  forEachChip(visit: (chipId: string, samples: Sample[]) => void): void {
    for (const [chipId, { at }] of this.rows) {
      const samples = this.parsed.get(chipId) ?? [];
      for (let i = 0; i < at.length; i += 2) samples.push(this.records[at[i]].sampleAt(at[i + 1]));
      visit(chipId, samples);
    }
  }
}
