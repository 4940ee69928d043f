/**
 * The work after commits takes turns of the event loop (server/ingest.ts `commitTurns`,
 * server/event-loop-turns.ts): when the writer resolves many batches at once, their fleet state,
 * fan-out and alerting run a slice per turn, so that other work (an HTTP request, an agent's
 * frame) gets a turn between them; every batch is still handled, in commit order, before its
 * commit resolves. The store is the edge: its commit resolves every batch at one moment, as the
 * writer thread's answer does.
 */
import { describe, expect, it } from 'vitest';
import { Ingest } from '../../server/ingest.ts';
import { FleetState } from '../../server/fleet-state.ts';
import { LiveFanout } from '../../server/live/live-fanout.ts';
import { EventLoopTurns } from '../../server/event-loop-turns.ts';
import type { Store } from '../../server/store/store.ts';
import { sample } from '../helpers/frames.ts';

const BATCHES = 40;

/** Ingest over a store whose commits all resolve when `release` is called. */
function rig(turns: EventLoopTurns | null) {
  let release!: () => void;
  const committed = new Promise<void>((r) => (release = r));
  const store = {
    async insertBatch(_agentId: string, _seq: number, samples: readonly unknown[]) {
      await committed;
      return { stored: samples.length };
    },
  } as unknown as Store;
  const fleet = new FleetState();
  const ingest = new Ingest(store, fleet, new LiveFanout(() => fleet.list()));
  ingest.commitTurns = turns;
  return { ingest, release };
}

/** Commits BATCHES batches, releases them at once with another piece of work queued for the next turn; the order things ran in. */
async function run(turns: EventLoopTurns | null): Promise<{ order: string[]; ingest: Ingest }> {
  const { ingest, release } = rig(turns);
  const order: string[] = [];
  const commits = Array.from({ length: BATCHES }, (_, i) => ingest.commit('agent-1', i + 1, [sample('chip-0', 1_000 + i)]).then(() => order.push(`batch ${i + 1}`)));
  release();
  setImmediate(() => order.push('other'));
  await Promise.all(commits);
  await new Promise<void>((r) => setImmediate(r));
  return { order, ingest };
}

describe('the work after commits', () => {
  it('takes turns: another piece of work runs between the batches resolved by one commit, which all finish, in order', async () => {
    // Each piece of work takes 1 ms of the fake clock: a 3 ms slice holds three.
    let t = 0;
    const turns = new EventLoopTurns({ sliceMs: 3, turnTargetMs: 10, minPerTurn: 1, maxPerTurn: 4 }, () => t++);
    const { order, ingest } = await run(turns);
    const other = order.indexOf('other');
    expect(other).toBeGreaterThan(0);
    expect(other).toBeLessThan(BATCHES / 2);
    expect(order.filter((o) => o !== 'other')).toEqual(Array.from({ length: BATCHES }, (_, i) => `batch ${i + 1}`));
    expect(ingest.metrics).toMatchObject({ batches: BATCHES, samples: BATCHES });
    expect(turns.queued).toBe(0);
  });

  it('without turns, runs all of them before anything else', async () => {
    const { order, ingest } = await run(null);
    expect(order.indexOf('other')).toBe(BATCHES);
    expect(ingest.metrics).toMatchObject({ batches: BATCHES, samples: BATCHES });
  });
});
