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

export class LoggedRowsByChip {
  private readonly records: SampleRecord[] = [];
  /** Per chip, in log order: record index and row offset, flat. */
  private readonly rows = new Map<string, number[]>();
  /** Per chip, samples of JSON log rows. */
  private readonly parsed = new Map<string, Sample[]>();
  /** Chip ids and extras keys, each held once for all the step's records. */
  private readonly strings = new Map<string, string>();

  /** Add one log row's samples. */
  addLogRow(data: Uint8Array | string): void {
    if (data.length === 0) return;
    if (typeof data !== 'string' && isSampleRecords(data)) {
      for (const r of readSampleRecords(data, this.strings)) {
        const ri = this.records.push(r) - 1;
        r.forEachRow((chipId, row) => {
          const list = this.rows.get(chipId);
          if (list) list.push(ri, row);
          else this.rows.set(chipId, [ri, row]);
        });
      }
      return;
    }
    for (const s of loggedSamples(data)) {
      const list = this.parsed.get(s.chipId);
      if (list) list.push(s);
      else this.parsed.set(s.chipId, [s]);
      if (!this.rows.has(s.chipId)) this.rows.set(s.chipId, []);
    }
  }

  chipIds(): string[] {
    return [...this.rows.keys()];
  }

  /** Each chip once, with its samples: those of JSON rows first, then the records' in log order. */
  forEachChip(visit: (chipId: string, samples: Sample[]) => void): void {
    for (const [chipId, list] of this.rows) {
      const samples = this.parsed.get(chipId) ?? [];
      for (let i = 0; i < list.length; i += 2) samples.push(this.records[list[i]].sampleAt(list[i + 1]));
      visit(chipId, samples);
    }
  }
}
