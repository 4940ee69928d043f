/**
 * Samples committed to the sample log but not yet folded into chunks, per chip, so that reads
 * see them at once. Entries leave when the writer reports their log rows compacted.
 */
import type { Sample } from '../../schema/sample.ts';
import type { EnergyReading } from '../rollups/energy-pairs.ts';

export class RecentSamples {
  /** chipId -> [logId, sample] in arrival order */
  private readonly byChip = new Map<string, { logId: number; sample: Sample }[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(logId: number, samples: readonly Sample[]): void {
    for (const sample of samples) {
      const list = this.byChip.get(sample.chipId);
      if (list) list.push({ logId, sample });
      else this.byChip.set(sample.chipId, [{ logId, sample }]);
    }
    this.count += samples.length;
  }

  /** Newest energy reading of each chip among samples already folded (pairs the first recent one). */
  private readonly foldedEnergy = new Map<string, EnergyReading>();

  /** Forget everything held in log rows with id <= upToLogId (now in chunks). */
  compacted(upToLogId: number): void {
    for (const [chip, list] of this.byChip) {
      const keep = list.filter((e) => e.logId > upToLogId);
      for (const { logId, sample } of list) {
        if (logId > upToLogId || sample.energyJ === null || sample.energyJ === undefined) continue;
        const prev = this.foldedEnergy.get(chip);
        if (!prev || sample.ts > prev.ts) this.foldedEnergy.set(chip, { ts: sample.ts, e: sample.energyJ });
      }
      this.count -= list.length - keep.length;
      if (keep.length) this.byChip.set(chip, keep);
      else this.byChip.delete(chip);
    }
  }

  chip(chipId: string, from: number, to: number): Sample[] {
    return (this.byChip.get(chipId) ?? []).map((e) => e.sample).filter((s) => s.ts >= from && s.ts <= to);
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
    let best: Sample | undefined;
    for (const { sample } of this.byChip.get(chipId) ?? []) if (!best || sample.ts > best.ts) best = sample;
    return best;
  }
}
