/**
 * WriteTurns between threads: a holder in another thread keeps the turn for a while; a second
 * run waits exactly until it lets go (wakes on the release, not on a polling interval) and sees
 * everything the holder did.
 */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { WriteTurns } from '../../server/store/writer/write-turns.ts';

/** Another thread that takes the turn with the same protocol, holds it `holdMs`, then releases. */
const HOLDER = `
const { workerData } = require('node:worker_threads');
const word = new Int32Array(workerData.shared, 0, 1);
const state = new Int32Array(workerData.state);
while (Atomics.compareExchange(word, 0, 0, 1) !== 0) Atomics.wait(word, 0, 1, 100);
Atomics.store(state, 0, 1); // holding
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs);
Atomics.store(state, 0, 2); // done, about to let go
new Float64Array(workerData.releasedAt)[0] = performance.timeOrigin + performance.now();
Atomics.store(word, 0, 0);
Atomics.notify(word, 0);
`;

async function holderHolding(turns: WriteTurns, holdMs: number): Promise<{ state: Int32Array; releasedAt: Float64Array; worker: Worker }> {
  const state = new Int32Array(new SharedArrayBuffer(4));
  const releasedAt = new Float64Array(new SharedArrayBuffer(8));
  const worker = new Worker(HOLDER, { eval: true, workerData: { shared: turns.shared, state: state.buffer, releasedAt: releasedAt.buffer, holdMs } });
  while (Atomics.load(state, 0) === 0) await new Promise((r) => setTimeout(r, 5));
  return { state, releasedAt, worker };
}

describe('WriteTurns', () => {
  it('runs at once when nobody holds the turn, and returns what the function returns', () => {
    const turns = WriteTurns.create();
    expect(turns.run(() => 42)).toBe(42);
    expect(turns.run(() => 'again')).toBe('again');
  });

  it('lets go when the function throws', () => {
    const turns = WriteTurns.create();
    expect(() => turns.run(() => { throw new Error('boom'); })).toThrow('boom');
    expect(turns.run(() => 1)).toBe(1);
  });

  it('waits while another thread holds the turn and wakes when it lets go', async () => {
    const turns = WriteTurns.create();
    const { state, releasedAt, worker } = await holderHolding(turns, 300);
    const t0 = performance.now();
    const seen = turns.run(() => ({ state: Atomics.load(state, 0), at: performance.timeOrigin + performance.now() }));
    const waited = performance.now() - t0;
    // It ran only after the holder finished...
    expect(seen.state).toBe(2);
    expect(waited).toBeGreaterThan(150);
    // ...and promptly: woken by the release, not by the 100 ms recheck.
    expect(seen.at - releasedAt[0]).toBeLessThan(80);
    await worker.terminate();
  });
});
