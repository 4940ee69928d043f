/**
 * EventLoopTurns (server/event-loop-turns.ts): while turns are taken (agent frames: while
 * connections arrive; the work after commits: always), pieces of work beyond a short slice of a
 * turn wait, in order, and later turns release a number of them that adapts to the turns' length;
 * otherwise nothing is held. A fake clock; the real event loop's turns.
 */
import { describe, expect, it } from 'vitest';
import { EventLoopTurns, type TurnOptions } from '../../server/event-loop-turns.ts';

const OPTS: TurnOptions & { arrivalsMs: number } = { sliceMs: 4, turnTargetMs: 10, arrivalsMs: 500, minPerTurn: 2, maxPerTurn: 64 };
/** One turn of the event loop (the release runs in the check phase before this resolves). */
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

function rig(opts: TurnOptions = OPTS) {
  const clock = { t: 1_000 };
  const turns = new EventLoopTurns(opts, () => clock.t);
  const released: number[] = [];
  /** Asks a turn for frame `id`: true when it may run now, else it is recorded once released. */
  const ask = (id: number): boolean => {
    const wait = turns.turn();
    if (!wait) return true;
    void wait.then(() => released.push(id));
    return false;
  };
  return { clock, turns, released, ask };
}

describe('EventLoopTurns', () => {
  it('holds no frame while no connection is arriving', async () => {
    const r = rig();
    for (let i = 0; i < 100; i++) {
      r.clock.t += 5;
      expect(r.ask(i)).toBe(true);
    }
    expect(r.turns.queued).toBe(0);
  });

  it('while connections arrive: frames run at once within the slice, then wait and are released in arrival order, a few a turn', async () => {
    const r = rig();
    r.turns.arrived();
    expect(r.ask(0)).toBe(true);
    r.clock.t += 3;
    expect(r.ask(1)).toBe(true);
    r.clock.t += 2; // the slice (4 ms) is used up
    for (let i = 2; i < 30; i++) expect(r.ask(i)).toBe(false);
    expect(r.turns.queued).toBe(28);
    const perTurn = r.turns.releasing;
    await nextTurn();
    expect(r.released).toEqual(Array.from({ length: perTurn }, (_, i) => i + 2));
    // A frame asking while others wait waits behind them, even in a fresh slice.
    expect(r.ask(30)).toBe(false);
    for (let k = 0; k < 40 && r.turns.queued > 0; k++) await nextTurn();
    expect(r.released).toEqual(Array.from({ length: 29 }, (_, i) => i + 2));
  });

  it('starts by releasing the fewest frames a turn; more after short turns, half after a long one (within its bounds)', async () => {
    const r = rig();
    r.turns.arrived();
    r.ask(0);
    r.clock.t += 5;
    for (let i = 1; i < 20_000; i++) r.ask(i);
    expect(r.turns.releasing).toBe(OPTS.minPerTurn);
    await nextTurn(); // the first release: nothing to measure yet
    expect(r.released).toEqual([1, 2]);
    for (let k = 0; k < 40; k++) {
      r.clock.t += 2; // short turns
      r.turns.arrived();
      await nextTurn();
    }
    expect(r.turns.releasing).toBe(OPTS.maxPerTurn);
    r.clock.t += 30; // a turn 3x the target
    r.turns.arrived();
    await nextTurn();
    expect(r.turns.releasing).toBe(OPTS.maxPerTurn / 2);
    for (let k = 0; k < 8; k++) {
      r.clock.t += 30;
      r.turns.arrived();
      await nextTurn();
    }
    expect(r.turns.releasing).toBe(OPTS.minPerTurn);
  });

  it('once arrivals stop, what waits goes at the next turn and new frames run at once', async () => {
    const r = rig();
    r.turns.arrived();
    r.ask(0);
    r.clock.t += 5;
    for (let i = 1; i <= 200; i++) expect(r.ask(i)).toBe(false);
    r.clock.t += OPTS.arrivalsMs;
    expect(r.ask(201)).toBe(true);
    await nextTurn();
    expect(r.released).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(r.turns.queued).toBe(0);
  });

  it('without arrivalsMs, takes turns always: work beyond the slice waits and is released a few a turn, in order', async () => {
    const { arrivalsMs: _, ...always } = OPTS;
    const r = rig(always);
    expect(r.ask(0)).toBe(true);
    r.clock.t += 5;
    for (let i = 1; i <= 10; i++) expect(r.ask(i)).toBe(false);
    // Much later, with no connection arriving at all: still in turns.
    r.clock.t += 60_000;
    expect(r.ask(11)).toBe(false);
    await nextTurn();
    expect(r.released).toEqual([1, 2]);
    for (let k = 0; k < 40 && r.turns.queued > 0; k++) await nextTurn();
    expect(r.released).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    // The queue ran dry: a fresh slice runs at once again.
    await nextTurn();
    expect(r.ask(12)).toBe(true);
  });

  it('with maxWaitMs, what has waited that long goes at the next turn, however few long turns release', async () => {
    const { arrivalsMs: _, ...always } = OPTS;
    const r = rig({ ...always, minPerTurn: 1, maxWaitMs: 50 });
    r.ask(0);
    r.clock.t += 5;
    for (let i = 1; i <= 10; i++) expect(r.ask(i)).toBe(false);
    // Long turns (other work): one piece a turn.
    for (let k = 0; k < 3; k++) {
      r.clock.t += 15;
      await nextTurn();
    }
    expect(r.turns.releasing).toBe(1);
    expect(r.released).toEqual([1, 2, 3]);
    // Pieces asking now have not waited long: they stay behind.
    for (let i = 11; i <= 12; i++) expect(r.ask(i)).toBe(false);
    r.clock.t += 10; // pieces 1-10 asked 55 ms ago
    await nextTurn();
    expect(r.released).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(r.turns.queued).toBe(2);
  });
});
