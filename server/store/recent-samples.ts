/**
 * Samples committed to the sample log but not yet folded into chunks, so that reads see them at
 * once. Held as the binary sample records the writer was sent (outside the JS heap's object
 * graph), indexed per chip by row offset; a sample object is only built when a read asks for it.
 * Records leave when the writer reports their log rows compacted.
 */
import type { Sample } from '../../schema/sample.ts';
import type { EnergyReading } from '../rollups/energy-pairs.ts';
import { SampleRecord } from './sample-records.ts';

/** One chip's rows in arrival order: parallel arrays (small integers and references, no per-row objects). */
interface ChipRows {
  logIds: number[];
  records: SampleRecord[];
  offsets: number[];
  /** Rows before this index are gone (compacted); the arrays are trimmed now and then. */
  head: number;
}

export class RecentSamples {
  private readonly byChip = new Map<string, ChipRows>();
  private count = 0;
  /** Newest energy reading of each chip among samples already folded (pairs the first recent one). */
  private readonly foldedEnergy = new Map<string, EnergyReading>();

  get size(): number {
    return this.count;
  }

  /** Index the records of one log row. */
  add(logId: number, records: readonly SampleRecord[]): void {
    for (const record of records) {
      record.forEachRow((chipId, row) => {
        let rows = this.byChip.get(chipId);
        if (!rows) this.byChip.set(chipId, (rows = { logIds: [], records: [], offsets: [], head: 0 }));
        rows.logIds.push(logId);
        rows.records.push(record);
        rows.offsets.push(row);
      });
      this.count += record.count;
    }
  }

  /** Forget everything held in log rows with id <= upToLogId (now in chunks). */
  compacted(upToLogId: number): void {
    for (const [chip, rows] of this.byChip) {
      const { logIds, records, offsets } = rows;
      let i = rows.head;
      let energy = this.foldedEnergy.get(chip);
      for (; i < logIds.length && logIds[i] <= upToLogId; i++) {
        const e = records[i].energyAt(offsets[i]);
        if (e === null) continue;
        const ts = records[i].tsAt(offsets[i]);
        if (!energy || ts > energy.ts) energy = { ts, e };
      }
      if (energy) this.foldedEnergy.set(chip, energy);
      this.count -= i - rows.head;
      if (i === logIds.length) {
        this.byChip.delete(chip);
        continue;
      }
      rows.head = i;
      // Drop the consumed prefix once it is at least half the arrays (amortized O(1) per row).
      if (i * 2 >= logIds.length) {
        logIds.splice(0, i);
        records.splice(0, i);
        offsets.splice(0, i);
        rows.head = 0;
      }
    }
  }

  chip(chipId: string, from: number, to: number): Sample[] {
    const rows = this.byChip.get(chipId);
    const out: Sample[] = [];
    if (!rows) return out;
    for (let i = rows.head; i < rows.offsets.length; i++) {
      const ts = rows.records[i].tsAt(rows.offsets[i]);
      if (ts >= from && ts <= to) out.push(rows.records[i].sampleAt(rows.offsets[i]));
    }
    return out;
  }

  /** Chips with samples not yet folded. */
  chips(): IterableIterator<string> {
    return this.byChip.keys();
  }

  /** The chip's latest folded energy reading, when this process saw it folded. */
  energyBefore(chipId: string): EnergyReading | undefined {
    return this.foldedEnergy.get(chipId);
  }

  latest(chipId: string): Sample | undefined {
    const rows = this.byChip.get(chipId);
    if (!rows) return undefined;
    let best = -1;
    for (let i = rows.head; i < rows.offsets.length; i++) {
      if (best < 0 || rows.records[i].tsAt(rows.offsets[i]) > rows.records[best].tsAt(rows.offsets[best])) best = i;
    }
    return best < 0 ? undefined : rows.records[best].sampleAt(rows.offsets[best]);
  }
}
