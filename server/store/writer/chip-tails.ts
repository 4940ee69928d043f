/**
 * What the writer remembers of each chip's newest stored data: its latest sample ts and latest
 * energy reading. Lets in-order folds find the energy reading before their first sample without
 * reading a chunk. Lives in the writer thread; empty after a restart (the fold then looks it up).
 */
import type { EnergyReading } from '../../rollups/energy-pairs.ts';

export interface ChipTail {
  latestTs: number;
  reading: EnergyReading | null;
}

export class ChipTails {
  private readonly tails = new Map<string, ChipTail>();

  get(chipId: string): ChipTail | undefined {
    return this.tails.get(chipId);
  }

  set(chipId: string, tail: ChipTail): void {
    this.tails.set(chipId, tail);
  }

  clear(): void {
    this.tails.clear();
  }
}
