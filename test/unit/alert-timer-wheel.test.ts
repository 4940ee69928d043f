/**
 * server/alerts/timer-wheel.ts: timers come out at their exact ms, earliest first (ties in
 * scheduling order), once; cancel and reschedule; times already past; timers more than one turn
 * ahead; long jumps of the clock; a clock that goes back.
 */
import { describe, expect, it } from 'vitest';
import { TimerWheel } from '../../server/alerts/timer-wheel.ts';

/** ['s', key, at] schedule, ['c', key] cancel, ['a', now] advance (its due keys are recorded). */
type Op = ['s', string, number] | ['c', string] | ['a', number];

/** A wheel of 8 buckets of 10 ms (one turn: 80 ms) starting at 0; the keys each advance returned. */
function play(ops: Op[]): string[][] {
  const wheel = new TimerWheel({ tickMs: 10, slots: 8, now: 0 });
  const out: string[][] = [];
  for (const op of ops) {
    if (op[0] === 's') wheel.schedule(op[1], op[2]);
    else if (op[0] === 'c') wheel.cancel(op[1]);
    else out.push(wheel.advance(op[1]).map((d) => `${d.key}@${d.at}`));
  }
  return out;
}

describe('TimerWheel', () => {
  const cases: [string, Op[], string[][]][] = [
    ['earliest first, whatever the scheduling order', [['s', 'c', 30], ['s', 'a', 5], ['s', 'b', 17], ['a', 40]], [['a@5', 'b@17', 'c@30']]],
    ['ties in scheduling order', [['s', 'y', 20], ['s', 'x', 20], ['s', 'z', 20], ['a', 20]], [['y@20', 'x@20', 'z@20']]],
    ['due at its exact ms, not at the start of its bucket', [['s', 'a', 15], ['a', 14], ['a', 15]], [[], ['a@15']]],
    ['a bucket visited once is visited again for its later timers', [['s', 'a', 12], ['s', 'b', 18], ['a', 13], ['a', 18]], [['a@12'], ['b@18']]],
    ['once only', [['s', 'a', 5], ['a', 10], ['a', 20]], [['a@5'], []]],
    ['a cancelled timer never comes out', [['s', 'a', 5], ['s', 'b', 6], ['c', 'a'], ['a', 10]], [['b@6']]],
    ['rescheduling replaces the earlier time', [['s', 'a', 5], ['s', 'a', 50], ['a', 10], ['a', 50]], [[], ['a@50']]],
    ['rescheduling earlier works too', [['s', 'a', 500], ['s', 'a', 5], ['a', 10]], [['a@5']]],
    ['a time already past falls due at the next advance', [['a', 35], ['s', 'late', 3], ['a', 35]], [[], ['late@3']]],
    ['more than one turn ahead waits for its turn', [['s', 'far', 205], ['a', 80], ['a', 160], ['a', 204], ['a', 205]], [[], [], [], ['far@205']]],
    ['a jump of many turns finds every timer, in order', [['s', 'b', 900], ['s', 'a', 85], ['s', 'c', 5000], ['a', 1_000_000]], [['a@85', 'b@900', 'c@5000']]],
    ['a clock going back gives nothing and loses nothing', [['s', 'a', 50], ['a', 40], ['a', 30], ['a', 50]], [[], [], ['a@50']]],
  ];
  it.each(cases)('%s', (_name, ops, expected) => {
    expect(play(ops)).toEqual(expected);
  });

  it('holds one timer per key, and forgets a cancelled or fired one', () => {
    const wheel = new TimerWheel({ tickMs: 10, slots: 8, now: 0 });
    wheel.schedule('a', 5);
    wheel.schedule('a', 7);
    wheel.schedule('b', 9);
    expect([wheel.size, wheel.dueAt('a')]).toEqual([2, 7]);
    expect([wheel.cancel('b'), wheel.cancel('b')]).toEqual([true, false]);
    wheel.advance(10);
    expect([wheel.size, wheel.dueAt('a')]).toEqual([0, undefined]);
  });

  it('agrees with a plain list of timers over 20,000 random operations', () => {
    // The model: every timer due at or before the clock comes out, by time, ties in scheduling order.
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const wheel = new TimerWheel({ tickMs: 10, slots: 8, now: 0 });
    const model = new Map<string, { at: number; seq: number }>();
    let now = 0;
    let seq = 0;
    for (let i = 0; i < 20_000; i++) {
      const key = `k${rnd(40)}`;
      const op = rnd(10);
      if (op < 6) {
        const at = now + rnd(300) - 20;
        if (model.get(key)?.at !== at) model.set(key, { at, seq: seq++ });
        wheel.schedule(key, at);
      } else if (op < 8) {
        expect(wheel.cancel(key)).toBe(model.delete(key));
      } else {
        now += rnd(10) === 0 ? rnd(2000) : rnd(40);
        const want = [...model].filter(([, t]) => t.at <= now).sort(([, a], [, b]) => a.at - b.at || a.seq - b.seq);
        for (const [k] of want) model.delete(k);
        expect(wheel.advance(now).map((d) => `${d.key}@${d.at}`)).toEqual(want.map(([k, t]) => `${k}@${t.at}`));
      }
      expect(wheel.size).toBe(model.size);
      expect(wheel.dueAt(key)).toBe(model.get(key)?.at);
    }
  });

  it.each([
    [{ tickMs: 0, slots: 8 }, 'tickMs must be positive'],
    [{ tickMs: 10, slots: 6 }, 'slots must be a power of two'],
  ])('refuses %j', (opts, message) => {
    expect(() => new TimerWheel({ ...opts, now: 0 })).toThrow(message);
  });
});
