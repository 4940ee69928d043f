/**
 * Batches sent but not yet acknowledged, in sequence order. Bounded: when full, the oldest batch
 * is dropped and counted (never silently).
 */
import type { Sample } from '../schema/sample.ts';

export interface PendingBatch {
  seq: number;
  samples: Sample[];
}

export class PendingBatches {
  private readonly items: PendingBatch[] = [];
  dropped = { batches: 0, samples: 0 };

  constructor(private readonly maxBatches: number) {}

  get size(): number {
    return this.items.length;
  }

  get sampleCount(): number {
    return this.items.reduce((n, b) => n + b.samples.length, 0);
  }

  push(batch: PendingBatch): void {
    this.items.push(batch);
    while (this.items.length > this.maxBatches) {
      const old = this.items.shift()!;
      this.dropped.batches++;
      this.dropped.samples += old.samples.length;
    }
  }

  /** Remove the acknowledged batch; returns it, or undefined if it was not pending. */
  ack(seq: number): PendingBatch | undefined {
    const i = this.items.findIndex((b) => b.seq === seq);
    return i < 0 ? undefined : this.items.splice(i, 1)[0];
  }

  all(): readonly PendingBatch[] {
    return this.items;
  }
}
